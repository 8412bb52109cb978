# For a kickstart %post section: zfsinstall runs inside the chroot of the
# system being installed, not on a booted host.

zfs {
  # kmod on a distribution kernel with a published kmod, DKMS otherwise; the
  # decision is made from the kernel installed in the new system.
  packaging = "auto"
}

kernel {
  # Inside the chroot, uname -r is the installer's kernel, not the new
  # system's. "all" targets every kernel in the new system's rpm database
  # (after a fresh install, the one kernel it will boot).
  target = "all"
  devel  = true
}

module {
  # modprobe cannot work here: the running kernel is the installer's.
  load = false

  # Write /etc/modules-load.d/zfs.conf so the module loads at first boot.
  autoload = true
}

services {
  # A fresh system has no /etc/zfs/zpool.cache; zfs-import-cache skips itself
  # until the first pool is created or imported, which writes the file.
  import = "cache"

  # Install a oneshot unit that runs `zfsinstall verify` at boot, the first
  # moment the module, userland and kernel can be checked together.
  verify_on_boot = true
}
