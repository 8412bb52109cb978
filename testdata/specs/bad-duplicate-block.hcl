zfs {
  packaging = "dkms"
}

zfs {
  packaging = "kmod"
}
