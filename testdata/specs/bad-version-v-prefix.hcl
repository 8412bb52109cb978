zfs {
  version = "v2.2.8"
}
