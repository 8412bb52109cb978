module {
  options = "zfs_arc_max=8589934592"
}
