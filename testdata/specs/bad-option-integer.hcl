module {
  options = {
    zfs_arc_max          = "8G"         # u64: bytes as an integer
    zfs_arc_min          = "1 GiB"
    zfs_txg_timeout      = "0x10"       # uint: the kernel would read hex
    zfs_vdev_max_active  = "010"        # uint: the kernel would read octal 8
    dbuf_cache_max_bytes = -1           # u64: no sign
    zfs_txg_history      = 4294967296   # uint: above 2^32-1
    zfs_dirty_data_max   = 4294967296   # documented int, declared 64-bit: fine
    spl_taskq_thread_bind = 1           # spl(4) int switch: fine
  }
}
