# Asking for kmod on an ELRepo kernel-lt host: must be refused, pointing here.
zfs {
  packaging = "kmod"
}
