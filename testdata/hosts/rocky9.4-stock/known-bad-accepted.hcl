# The same release, accepted explicitly by advisory ID.
zfs {
  version         = "2.2.1"
  allow_known_bad = ["ZFS-2023-15526"]
}
