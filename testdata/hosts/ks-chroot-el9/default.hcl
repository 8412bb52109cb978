# Kickstart %post: do not load the module in the chroot.
module {
  load = false
}
