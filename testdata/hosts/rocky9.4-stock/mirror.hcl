# An air-gapped host: the OpenZFS section in use is served from a mirror of download.zfsonlinux.org.
zfs {
  mirror = "https://mirror.example.com/zfsonlinux"
}
