# Stock RHEL, Rocky Linux or AlmaLinux host booting the distribution kernel.
#
# The kABI-tracking kmod is the simplest way to run ZFS on such a host:
# nothing is compiled on the host and the module keeps working across the
# z-stream kernel updates of one EL minor release.

zfs {
  # A hashicorp/go-version constraint. "~> 2.2" accepts 2.2.0 and every later
  # 2.x release (2.3, 2.4, ...) but never 3.0; write "~> 2.2.0" to stay on
  # the 2.2 series. Releases with known serious defects (2.2.0 and 2.2.1:
  # silent data corruption, openzfs/zfs#15526) are only installed when their
  # advisory ID is listed in allow_known_bad.
  version = "~> 2.2"

  # Prebuilt modules for the EL minor release's kernel ABI (the zfs-kmod repo
  # section). Only for distribution kernels: an ELRepo, UEK, Stream or Fedora
  # kernel has no kmod and needs "dkms" (see elrepo-dkms.hcl).
  packaging = "kmod"
}

kernel {
  # The kernel booted now. Use "default" right after a kernel update, when the
  # next boot's kernel is the one that matters.
  target = "running"

  # A kmod needs no kernel headers; kernel-devel is only for DKMS builds.
  devel = false
}

services {
  # Import the pools listed in /etc/zfs/zpool.cache at boot
  # (zfs-import-cache.service): quick, and only the pools this host imported
  # before. Use "scan" for a host that has pools but no cache file.
  import = "cache"
}

# A new EL minor release can ship its kernel before its kmod is published.
# guard { enabled = true } holds such kernel updates back; see
# fleet-conservative.hcl.
