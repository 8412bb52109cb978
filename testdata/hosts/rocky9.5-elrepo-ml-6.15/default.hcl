# kernel-ml 6.15 with OpenZFS pinned to 2.2.7 (Linux-Maximum 6.12): refused before anything is installed.
zfs {
  version = "2.2.7"
}
