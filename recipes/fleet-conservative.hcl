# For a fleet that changes only when someone decides it should: one exact
# OpenZFS release, no surprise kernel updates, a fixed ARC size.

zfs {
  # Exactly this release. Replace it with the release you have qualified, and
  # change it deliberately, host group by host group.
  version = "= 2.2.9"

  # Use the zfs-2.2 repo sections (from zfs-release 3-0), which only carry
  # 2.2.x, so dnf never offers a 2.3 upgrade.
  repo = "2.2"

  # Distribution kernels with prebuilt modules: nothing compiled on the host.
  packaging = "kmod"

  # Refuse to move to an older release (a "dnf upgrade" across branches can be
  # a downgrade in disguise).
  allow_downgrade = false
}

kernel {
  target = "running"
  devel  = false
}

module {
  options = {
    # Cap the ARC at 8 GiB (in bytes) so applications keep their memory.
    # Written to /etc/modprobe.d/zfs.conf as "options zfs zfs_arc_max=...",
    # it takes effect when the module is next loaded.
    zfs_arc_max = 8589934592
  }
}

services {
  import = "cache"

  # Check module, userland and kernel versions at every boot.
  verify_on_boot = true
}

guard {
  # Hold back kernel updates to an EL minor release that has no kmod for the
  # pinned OpenZFS release yet, instead of booting into a kernel without ZFS.
  enabled = true
}
