zfs "main" {
  packaging = "dkms"
}
