# Several mistakes in one file: all are reported, in source order.
zfs {
  packaging = "kmods"
  repo      = "newest"
}

kernel {
  target = "6.1"
}

services {
  import = "cache"
  zed    = "yes"
}

guard {
  enable = true
}
