zfs {
  allow_known_bad = [for id in ["ZFS-2025-0001"] : id]
  version         = "%{for v in ["2.2.8"]}${v}%{endfor}"
}
