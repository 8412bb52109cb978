zfs {
  release_rpm = "http://download.zfsonlinux.org/epel/zfs-release-3-0.el9.noarch.rpm"
}
