# Every block and attribute, each set away from its default where it has one.
zfs {
  version              = ">= 2.2.2, < 2.4"
  packaging            = "dkms"
  repo                 = "2.3"
  release_rpm          = "https://zfsonlinux.org/epel/zfs-release-3-0.el9.noarch.rpm"
  insecure_release_url = false
  allow_downgrade      = true
  allow_known_bad      = ["ZFS-2025-0001"]
}

kernel {
  target = "5.14.0-427.13.1.el9_4.x86_64"
  devel  = false
  hold   = false
}

module {
  autoload = false
  load     = false
  options = {
    zfs_arc_max   = 8589934592 # unquoted numbers become decimal strings
    zfs_arc_min   = "1073741824"
    "zfs_prefetch_disable" = 1
  }
}

services {
  import         = "scan"
  zed            = false
  mount          = false
  share          = true
  verify_on_boot = true
}

guard {
  enabled = true
}
