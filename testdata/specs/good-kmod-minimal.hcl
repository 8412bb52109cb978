zfs {
  packaging = "kmod"
}
