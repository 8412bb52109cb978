// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include <linux/slab.h>
static int __init ref_init(void) { void *p = kmalloc(16, GFP_KERNEL); kfree(p); pr_info("ref\n"); return 0; }
static void __exit ref_exit(void) {}
module_init(ref_init);
module_exit(ref_exit);
MODULE_LICENSE("GPL");
MODULE_VERSION("1.0");
