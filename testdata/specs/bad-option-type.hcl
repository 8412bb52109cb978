module {
  options = {
    zfs_prefetch_disable = true
    zfs_arc_max          = 0.5
    zfs_txg_timeout      = ["5"]
  }
}
