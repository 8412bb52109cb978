zfs {
  packaging = "kmod"
}

pool "tank" {
  vdevs = ["sda", "sdb"]
}
