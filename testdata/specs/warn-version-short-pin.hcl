zfs {
  version = "2.2"
}
