# 2.2.1 silently corrupts data (openzfs/zfs#15526): refused with its citation.
zfs {
  version = "2.2.1"
}
