package testbed

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Real modules. Every module the bed ships is compiled at test time with the machine's make
// and gcc against a bed kernel's header tree (trees.go), so its __versions, module_layout,
// .gnu.linkonce.this_module section (struct module) and vermagic are real. A build is cached
// by its content (tree and sources) for the life of the test binary: the same kmod for the
// same kernel is compiled once however many Packages ask.

// kmodSymbols are the kernel symbols the bed's kmod-zfs references: the names upstream reports
// list among kmod-zfs's kernel(SYMBOL) requirements (openzfs/zfs#16179 on EL9: __alloc_pages,
// __blk_alloc_disk, write_cache_pages, write_inode_now; #12747 on EL8: kmalloc_caches,
// __kernel_fpu_begin; #17966/#18462 on EL10: __blk_alloc_disk, __blk_mq_alloc_disk,
// __blkdev_issue_discard, __cpuhp_remove_state, __cpuhp_setup_state,
// __cpuhp_state_add_instance, __cpuhp_state_remove_instance, __folio_lock) and the kernel
// interfaces OpenZFS's Linux code calls (module/os/linux/spl, module/os/linux/zfs: memory,
// locks, wait queues, threads, task queues, block devices, bios, the filesystem, /proc,
// module parameters), intersected at build time with what the build tree exports without
// GPL restriction (zfs is CDDL: modpost refuses GPL-only symbols; kernel_fpu_begin_mask,
// __cpuhp_state_add_instance, alloc_workqueue, ktime_get are GPL-only in 6.1 and drop out).
var kmodSymbols = []string{
	"__alloc_pages", "__blk_alloc_disk", "write_cache_pages", "write_inode_now", "kmalloc_caches",
	"kmalloc_trace", "__blk_mq_alloc_disk", "__blkdev_issue_discard", "__cpuhp_remove_state",
	"__cpuhp_setup_state", "__cpuhp_state_add_instance", "__cpuhp_state_remove_instance", "__folio_lock",
	"kernel_fpu_begin_mask", "kernel_fpu_end", "__kmalloc", "kfree", "vmalloc", "vfree", "__vmalloc",
	"kvmalloc_node", "kvfree", "_printk", "mutex_lock", "mutex_unlock", "__mutex_init", "down_read",
	"up_read", "down_write", "up_write", "__init_rwsem", "prepare_to_wait_event", "finish_wait",
	"init_wait_entry", "__wake_up", "schedule", "schedule_timeout", "kthread_create_on_node",
	"wake_up_process", "kthread_should_stop", "queue_work_on", "alloc_workqueue", "destroy_workqueue",
	"misc_register", "misc_deregister", "register_filesystem", "unregister_filesystem", "d_make_root",
	"iget_locked", "new_inode", "iput", "generic_file_llseek", "blkdev_get_by_path", "blkdev_put",
	"submit_bio", "bio_alloc_bioset", "bio_put", "bio_add_page", "_copy_from_user", "_copy_to_user",
	"memcpy", "memset", "memmove", "strlen", "strcmp", "strncpy", "strchr", "sprintf", "snprintf",
	"vsnprintf", "kstrtoull", "get_random_bytes", "ktime_get", "ktime_get_real_ts64", "jiffies",
	"param_ops_ulong", "param_ops_int", "param_ops_uint", "param_ops_charp", "proc_create",
	"remove_proc_entry", "seq_printf", "seq_read", "kmem_cache_create", "kmem_cache_alloc",
	"kmem_cache_free", "kmem_cache_destroy", "__get_free_pages", "free_pages", "_totalram_pages",
	"si_meminfo", "register_shrinker", "unregister_shrinker", "boot_cpu_data", "fs_bio_set",
	"set_page_dirty_lock", "filemap_fault", "truncate_inode_pages_final", "clear_inode", "igrab",
	"d_obtain_alias", "lookup_bdev",
}

// usable returns the names of syms the tree exports to a CDDL module (EXPORT_SYMBOL, not _GPL).
func usable(syms []string, symvers []symEntry) []string {
	ok := map[string]bool{}
	for _, e := range symvers {
		if e.Export == "EXPORT_SYMBOL" {
			ok[e.Name] = true
		}
	}
	var out []string
	for _, s := range syms {
		if ok[s] {
			out = append(out, s)
		}
	}
	return out
}

// stableSymbols returns those of syms that every header tree the bed uses exports with the
// same CRC (kfree, vmalloc, _printk, memcpy, ...): a module using only them fits every bed
// kernel by its symbols, and differs only where a kernel's module_layout, struct module or
// release does (the loadability failures of issue 18).
func stableSymbols(syms []string, trees [][]symEntry) []string {
	var out []string
	for _, s := range syms {
		crc, same := "", true
		for i, t := range trees {
			c := ""
			for _, e := range t {
				if e.Name == s && e.Export == "EXPORT_SYMBOL" {
					c = e.CRC
					break
				}
			}
			if c == "" || (i > 0 && c != crc) {
				same = false
				break
			}
			crc = c
		}
		if same {
			out = append(out, s)
		}
	}
	return out
}

// modSpec says what one module of a build is: its name, the kernel symbols it references,
// the symbols it exports and the modules whose exports it uses.
type modSpec struct {
	Name    string
	Version string   // MODULE_VERSION, "" for none
	Desc    string   // MODULE_DESCRIPTION
	Refs    []string // kernel symbols referenced
	Uses    []string // modules of the same build whose export it calls
}

// moduleSources writes the Kbuild and C files of a set of modules: each module exports
// NAME_testbed_export (so that depends= and ksym provides are real) and keeps a table of the
// addresses of the kernel symbols it references, which modpost turns into __versions entries.
func moduleSources(mods []modSpec) map[string]string {
	files := map[string]string{}
	var kb strings.Builder
	for _, m := range mods {
		fmt.Fprintf(&kb, "obj-m += %s.o\n%s-y := %s_main.o %s_refs.o\n", m.Name, m.Name, m.Name, m.Name)
		var refs strings.Builder
		refs.WriteString("// Test bed module: references kernel symbols so that modpost versions them.\n#include <linux/compiler.h>\n")
		all := append(append([]string{}, m.Refs...), func() []string {
			var l []string
			for _, u := range m.Uses {
				l = append(l, u+"_testbed_export")
			}
			return l
		}()...)
		for _, s := range all {
			fmt.Fprintf(&refs, "extern char %s[];\n", s)
		}
		fmt.Fprintf(&refs, "void *%s_testbed_refs[] __used = {\n", m.Name)
		for _, s := range all {
			fmt.Fprintf(&refs, "\t%s,\n", s)
		}
		refs.WriteString("\t0,\n};\n")
		files[m.Name+"_refs.c"] = refs.String()
		var main strings.Builder
		fmt.Fprintf(&main, `// Test bed module %[1]s (zfsinstall's test bed; does nothing when loaded, and is never loaded).
#include <linux/module.h>
#include <linux/init.h>
extern void *%[1]s_testbed_refs[];
int %[1]s_testbed_export(void) { return %[1]s_testbed_refs[0] != 0; }
EXPORT_SYMBOL(%[1]s_testbed_export);
static int __init %[1]s_testbed_init(void) { return 0; }
static void __exit %[1]s_testbed_exit(void) { }
module_init(%[1]s_testbed_init);
module_exit(%[1]s_testbed_exit);
MODULE_LICENSE("CDDL");
MODULE_AUTHOR("OpenZFS");
`, m.Name)
		if m.Desc != "" {
			fmt.Fprintf(&main, "MODULE_DESCRIPTION(%q);\n", m.Desc)
		}
		if m.Version != "" {
			fmt.Fprintf(&main, "MODULE_VERSION(%q);\n", m.Version)
		}
		files[m.Name+"_main.c"] = main.String()
	}
	files["Kbuild"] = kb.String()
	return files
}

// kmod21Modules are the modules of a 2.1 kmod-zfs, each in its own directory under
// extra/zfs/: ZFS_MODULES in module/Kbuild.in at zfs-2.1.15, with the module names of
// scripts/dkms.mkconf there (zavl, znvpair, ...); `rpm -ql kmod-zfs` in openzfs/zfs#12497 and
// the weak-updates link in #14724 show the same tree.
var kmod21Modules = []string{"spl/spl", "avl/zavl", "icp/icp", "lua/zlua", "nvpair/znvpair",
	"unicode/zunicode", "zcommon/zcommon", "zfs/zfs", "zstd/zzstd"}

// zfsModules are the modules of one zfs release's kernel side, with the module layout of its
// kmod ("2.2": zfs and spl; "2.1": nine modules): zfs references refs and calls the others
// (the depends= `lsmod` shows in openzfs/zfs#10318), spl references a few kernel symbols.
func zfsModules(layout, version string, refs []string) []modSpec {
	splRefs := []string{}
	for _, s := range refs {
		if s == "_printk" || s == "kfree" || s == "__kmalloc" || s == "vmalloc" || s == "vfree" {
			splRefs = append(splRefs, s)
		}
	}
	if layout == "2.1" {
		var mods []modSpec
		for _, f := range kmod21Modules {
			n := filepath.Base(f)
			m := modSpec{Name: n, Version: version, Refs: splRefs}
			switch n {
			case "zfs":
				m.Desc, m.Refs = "ZFS", refs
				m.Uses = []string{"spl", "znvpair", "zcommon", "zunicode", "zzstd", "icp", "zavl", "zlua"}
			case "spl":
				m.Desc = "Solaris Porting Layer"
			case "zcommon":
				m.Uses = []string{"spl", "znvpair"}
			default:
				m.Uses = []string{"spl"}
			}
			mods = append(mods, m)
		}
		return mods
	}
	return []modSpec{
		{Name: "spl", Version: version, Desc: "Solaris Porting Layer", Refs: splRefs},
		{Name: "zfs", Version: version, Desc: "ZFS", Refs: refs, Uses: []string{"spl"}},
	}
}

// kbuildResult is a finished module build: the modules by name and its Module.symvers.
type kbuildResult struct {
	Dir     string
	Modules map[string]string // name -> .ko
	Exports map[string]bool   // symbols the build's modules export
}

var kbuildCache struct {
	sync.Mutex
	m    map[string]*kbuildOnce
	root string
}

type kbuildOnce struct {
	once sync.Once
	res  *kbuildResult
	err  error
}

// kbuildDir is the cache of module builds: one directory per build under the machine's temp
// directory, named by the build's content hash, shared by every test binary (the same module
// for the same kernel tree is compiled once per machine, not once per package under test). A
// build is made in a private directory and renamed into place when complete, so concurrent
// test binaries never see half a build.
func kbuildDir() (string, error) {
	kbuildCache.Lock()
	defer kbuildCache.Unlock()
	if kbuildCache.root == "" {
		d := filepath.Join(os.TempDir(), "zfsinstall-testbed-kbuild")
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
		kbuildCache.root = d
	}
	return kbuildCache.root, nil
}

// kbuild compiles mods against a kernel tree (make -C TREE M=DIR modules) once per content.
func (p *Packages) kbuild(t *kernelTree, mods []modSpec) (*kbuildResult, error) {
	files := moduleSources(mods)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", t.Release, t.Source, t.Digest)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%s\x00", n, files[n])
	}
	key := hex.EncodeToString(h.Sum(nil))[:20]
	kbuildCache.Lock()
	if kbuildCache.m == nil {
		kbuildCache.m = map[string]*kbuildOnce{}
	}
	o, ok := kbuildCache.m[key]
	if !ok {
		o = &kbuildOnce{}
		kbuildCache.m[key] = o
	}
	kbuildCache.Unlock()
	o.once.Do(func() {
		root, err := kbuildDir()
		if err != nil {
			o.err = err
			return
		}
		dir := filepath.Join(root, key)
		if res, err := loadBuild(dir, mods); err == nil {
			o.res = res
			return
		}
		tmp, err := os.MkdirTemp(root, key+".tmp-")
		if err != nil {
			o.err = err
			return
		}
		defer os.RemoveAll(tmp)
		if _, o.err = p.compile(t, tmp, files, mods); o.err != nil {
			return
		}
		if err := os.Rename(tmp, dir); err != nil {
			if _, serr := os.Stat(dir); serr != nil {
				o.err = err
				return
			}
		}
		o.res, o.err = loadBuild(dir, mods)
	})
	return o.res, o.err
}

// loadBuild reads a finished build: its modules and the symbols they export.
func loadBuild(dir string, mods []modSpec) (*kbuildResult, error) {
	res := &kbuildResult{Dir: dir, Modules: map[string]string{}, Exports: map[string]bool{}}
	for _, m := range mods {
		ko := filepath.Join(dir, m.Name+".ko")
		if _, err := os.Stat(ko); err != nil {
			return nil, err
		}
		res.Modules[m.Name] = ko
	}
	sv, err := os.ReadFile(filepath.Join(dir, "Module.symvers"))
	if err != nil {
		return nil, err
	}
	for _, e := range readSymvers(sv) {
		res.Exports[e.Name] = true
	}
	return res, nil
}

func (p *Packages) compile(t *kernelTree, dir string, files map[string]string, mods []modSpec) (string, error) {
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			return "", err
		}
	}
	out, err := run(runOpts{Dir: dir}, p.tools.Make, "-s", "-j2", "-C", t.Dir, "M="+dir, "modules")
	if err != nil {
		return out, fmt.Errorf("compiling test modules against %s (%s): %w", t.Release, t.Source, err)
	}
	for _, m := range mods {
		if _, err := os.Stat(filepath.Join(dir, m.Name+".ko")); err != nil {
			return out, fmt.Errorf("the build against %s made no %s.ko:\n%s", t.Release, m.Name, out)
		}
	}
	return out, nil
}

// runParallel runs fs, n at a time, and returns their errors joined.
func runParallel(n int, fs []func() error) error {
	errs := make([]error, len(fs))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = f()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
