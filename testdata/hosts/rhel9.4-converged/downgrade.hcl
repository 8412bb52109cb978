# 2.2.7 is installed; pinning 2.2.6 is a downgrade: refused.
zfs {
  version = "2.2.6"
}
