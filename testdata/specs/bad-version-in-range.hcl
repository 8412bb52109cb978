zfs {
  version = ">= 2.2.7, < v2.3"
}
