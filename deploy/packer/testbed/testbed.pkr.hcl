# CI's Packer build: the null builder with shell-local provisioners runs the image-build
# script (../scripts/zfsinstall-image.sh) on the build machine against an install root of the
# real dnf/rpm test bed (deploy/packer_test.go builds the root and passes the variables).
# Packer 1.9.5 (make packer) builds it; the null builder and shell-local are built into Packer.

variable "zfsinstall" {
  type        = string
  description = "The zfsinstall binary on the build machine."
}

variable "root" {
  type        = string
  description = "The install root to manage (--root)."
}

variable "spec" {
  type        = string
  description = "The host spec file."
}

variable "release_key" {
  type        = string
  default     = ""
  description = "Armored key that replaces the pinned OpenZFS keys (--release-key); empty for the pinned keys."
}

variable "env" {
  type        = list(string)
  default     = []
  description = "Extra NAME=VALUE environment for zfsinstall (the test bed sets HOME and ZFSINSTALL_DNF_ARGS)."
}

locals {
  script = "${path.root}/../scripts/zfsinstall-image.sh"
  env = concat(var.env, [
    "ZFSINSTALL=${var.zfsinstall}",
    "ZFSINSTALL_ROOT=${var.root}",
    "ZFSINSTALL_SPEC=${var.spec}",
    "ZFSINSTALL_RELEASE_KEY=${var.release_key}",
  ])
}

source "null" "testbed" {
  communicator = "none"
}

build {
  sources = ["source.null.testbed"]

  provisioner "shell-local" {
    environment_vars = local.env
    inline           = ["sh ${local.script} apply"]
  }

  provisioner "shell-local" {
    environment_vars = local.env
    inline           = ["sh ${local.script} converged"]
  }

  provisioner "shell-local" {
    environment_vars = local.env
    inline           = ["sh ${local.script} verify"]
  }
}
