zfs {
  packagin = "dkms"
  branch   = "2.2"
}
