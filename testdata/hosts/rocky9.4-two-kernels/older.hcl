# The older, running kernel named explicitly: its exact kernel-devel, not the newest.
zfs {
  packaging = "dkms"
}
kernel {
  target = "5.14.0-427.13.1.el9_4.x86_64"
}
