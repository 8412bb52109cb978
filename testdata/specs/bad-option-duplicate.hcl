module {
  options = {
    zfs_arc_max   = "8589934592"
    "zfs_arc_max" = "4294967296"
  }
}
