variable "iso_url" {
  type        = string
  description = "An EL9 boot or DVD ISO (Rocky, AlmaLinux, RHEL, Oracle Linux)."
}

variable "iso_checksum" {
  type        = string
  description = "Its checksum, e.g. sha256:... or file:https://.../CHECKSUM."
}

variable "inst_repo" {
  type        = string
  default     = "cdrom"
  description = "Where Anaconda installs from (inst.repo=): cdrom for a DVD ISO, or the BaseOS repository URL for a boot ISO."
}

variable "spec" {
  type        = string
  description = "The host spec for the image (start from `zfsinstall recipes el-kmod`)."
}

variable "zfsinstall" {
  type        = string
  default     = "../../../bin/zfsinstall"
  description = "The ansible build: the static zfsinstall binary the role copies into the image (make build)."
}

variable "zfsinstall_repo" {
  type        = string
  default     = "https://YOUR-REPO/el9/"
  description = "The kickstart build: a repository with the zfsinstall RPM (make rpm), for %packages."
}
