zfs {
  packaging = "rpm"
}
