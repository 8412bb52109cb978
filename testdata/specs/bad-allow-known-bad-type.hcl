zfs {
  allow_known_bad = "ZFS-2023-0001"
}
