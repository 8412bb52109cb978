zfs {
  version = var.zfs_version
}
