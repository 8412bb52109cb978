# Secure Boot enabled, kmod asked for: the published kmods are unsigned, so it is refused.
zfs {
  packaging = "kmod"
}
