module {
  options = {
    "zfs-arc-max" = "8589934592"
    ZFS_ARC_MIN   = "1073741824"
  }
}
