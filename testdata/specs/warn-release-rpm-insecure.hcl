zfs {
  release_rpm          = "http://mirror.example.com/zfs/zfs-release-3-0.el9.noarch.rpm"
  insecure_release_url = true
}
