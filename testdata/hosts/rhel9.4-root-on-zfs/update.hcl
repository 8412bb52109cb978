# An update of the module package: the initramfs carrying zfs is rebuilt.
zfs {
  version = ">= 2.2.8, < 2.3"
}
