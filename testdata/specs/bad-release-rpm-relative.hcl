zfs {
  release_rpm = "zfs-release-3-0.el9.noarch.rpm"
}
