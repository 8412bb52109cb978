zfs {
  repo = "2.x"
}
