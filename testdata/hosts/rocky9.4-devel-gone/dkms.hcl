# DKMS on a kernel whose kernel-devel the mirror no longer has.
zfs {
  packaging = "dkms"
}
