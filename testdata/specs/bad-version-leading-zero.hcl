zfs {
  version = "2.2.08"
}
