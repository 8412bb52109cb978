# Explicit kmod on EL 9.6 when only EL 9.5 kmods are published: refused with the reason.
zfs {
  packaging = "kmod"
}
