# The same downgrade, allowed explicitly.
zfs {
  version         = "2.2.6"
  allow_downgrade = true
}
