zfs {
  version = "= 2.3.0-rc1"
}
