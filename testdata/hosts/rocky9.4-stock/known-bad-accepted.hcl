# The same release, accepted explicitly by advisory ID (2.2.1 has two).
zfs {
  version         = "2.2.1"
  allow_known_bad = ["ZFS-2023-15526", "ZFS-2024-15933"]
}
