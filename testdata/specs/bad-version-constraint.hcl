zfs {
  version = "~> 2.x"
}
