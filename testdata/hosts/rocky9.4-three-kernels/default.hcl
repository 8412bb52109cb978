# Build for every installed kernel.
kernel {
  target = "all"
}
zfs {
  packaging = "dkms"
}
