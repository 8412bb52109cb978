# Parameters only older releases document are written as asked (a misspelt one is a spec error,
# testdata/specs/bad-option-unknown.hcl): zfs_arc_meta_limit (zfs(4) up to 2.1.16) under "options zfs",
# spl_kmem_cache_reclaim (spl-module-parameters(5) of 0.8 and 2.0) under "options spl".
module {
  options = { zfs_arc_meta_limit = "4294967296", spl_kmem_cache_reclaim = "1" }
}
