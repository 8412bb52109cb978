# rhel9.4-converged-options: a bigger ARC and prefetch back on; the plan updates /etc/modprobe.d/zfs.conf and shows the diff.
module {
  options = {
    zfs_arc_max     = "8589934592"
    zfs_txg_timeout = "5"
  }
}
