# kmod with module options, scan import, share on, a pinned version.
zfs {
  version = "2.2.7"
}
module {
  options = { zfs_arc_max = 8589934592, zfs_prefetch_disable = "1" }
}
services {
  import = "scan"
  share  = true
}
