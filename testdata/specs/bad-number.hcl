module {
  options = {
    zfs_arc_max = 1e10000000
    zfs_arc_min = 12345678901234567890123456789012345678901
  }
}
