# DKMS without kernel-devel is a contradiction.
zfs {
  packaging = "dkms"
}
kernel {
  devel = false
}
