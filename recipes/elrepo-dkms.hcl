# Host booting an ELRepo kernel-lt (long-term) kernel, such as
# 6.1.80-1.el9.elrepo.x86_64.
#
# ELRepo kernels do not carry the distribution's kernel ABI, so there is no
# kABI-tracking kmod for them: the module has to be built on the host by DKMS.

zfs {
  # Build from source with DKMS (the zfs repo section, zfs-dkms). A kmod on
  # this kernel ends in "modprobe: FATAL: Module zfs not found".
  packaging = "dkms"

  # Stay on the 2.2 series. A DKMS build fails on a kernel newer than the
  # release's Linux-Maximum (6.1 is well inside every 2.2 release).
  version = "~> 2.2.0"
}

kernel {
  # The kernel the boot loader starts next (grubby --default-kernel): right
  # after kernel-lt is installed the host still runs the stock kernel, and the
  # module must be built for kernel-lt.
  target = "default"

  # DKMS needs the headers of exactly the target kernel. For kernel-lt they are
  # kernel-lt-devel, in the elrepo-kernel repo (disabled by default).
  devel = true
}

module {
  # Load the module at boot (/etc/modules-load.d/zfs.conf) and right after
  # installing. With Secure Boot on, an unsigned DKMS module is refused
  # ("Key was rejected by service") until the DKMS MOK key is enrolled.
  autoload = true
  load     = true
}
