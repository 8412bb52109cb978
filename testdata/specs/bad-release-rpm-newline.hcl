# A local path ending in a newline (a heredoc or a copied line) names a file no one meant.
zfs {
  release_rpm = "/root/zfs-release-3-0.el9.noarch.rpm\n"
}
