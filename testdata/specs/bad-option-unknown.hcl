# A module option no OpenZFS release documents would be ignored by the module: refused, with a suggestion.
module {
  options = { zfs_arc_mx = "8589934592", spl_kmem_cache_slab_limit = "16384" }
}
