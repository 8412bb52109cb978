module {
  options = {
    zfs_arc_max = "8 GiB"
    zfs_arc_min = "1073741824 # 1 GiB"
    zfs_txg_timeout = ""
  }
}
