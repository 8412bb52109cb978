zfs {
  packaging = "dkms"

kernel {
  target = "running"
}
