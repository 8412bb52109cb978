# rhel9.4-converged-options: the module is loaded some other way; the plan removes the managed modules-load file.
module {
  autoload = false
  options = {
    zfs_arc_max          = "4294967296"
    zfs_prefetch_disable = "1"
    zfs_txg_timeout      = "5"
  }
}
