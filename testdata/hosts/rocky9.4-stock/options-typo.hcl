# A misspelt option is warned about with a suggestion; an spl parameter goes under "options spl".
module {
  options = { zfs_arc_mx = "8589934592", spl_kmem_cache_slab_limit = "16384" }
}
