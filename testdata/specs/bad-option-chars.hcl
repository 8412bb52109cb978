module {
  options = {
    spa_config_path     = "/etc/zfs/zpool.cache\\"
    zfs_vdev_raidz_impl = "\"fastest\""
    zfs_arc_max         = "8589934592\noptions zfs zfs_arc_min=1"
    zfs_arc_min         = "1073741824\u0000"
    zfs_txg_timeout     = "5s"
  }
}
