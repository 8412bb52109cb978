# An ELRepo kernel-lt host: no kABI-tracking kmod exists for it, so DKMS
# builds the module against the kernel-lt-devel headers.
zfs {
  version   = "~> 2.2.0"
  packaging = "dkms"
}

kernel {
  target = "6.1.80-1.el9.elrepo.x86_64"
  devel  = true
}
