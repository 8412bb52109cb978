module {
  options = {
    zfs_prefetch_disable = 2
    zfs_dedup_prefetch   = "yes"
    l2arc_noprefetch     = "0"
  }
}
