# No release is both at least 2.3 and below 2.2: refused before any plan (issue 20 item 4).
zfs {
  version = ">= 2.3, < 2.2"
}
