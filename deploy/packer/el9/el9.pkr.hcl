# An EL9 qcow2 image with OpenZFS installed by zfsinstall: a kickstart (http/el9.ks) installs
# a minimal system, then Packer copies zfsinstall and the host spec in and runs the same
# script CI runs against the test bed (../scripts/zfsinstall-image.sh): apply, check that a
# second plan has nothing to do, verify (the module is loaded here: the VM runs the image's
# own kernel). Needs Packer >= 1.7 and the qemu plugin (versions.pkr.hcl), KVM, and network
# access to the EL9 and OpenZFS mirrors:
#
#   make build
#   cd deploy/packer/el9 && packer init . && packer build \
#     -var iso_url=https://.../EL9-dvd.iso -var iso_checksum=sha256:... \
#     -var spec=/path/to/zfsinstall.hcl .
#
# CI has no virtualisation: it runs `packer validate -syntax-only` and `packer fmt -check` on
# this directory's files, and builds ../testbed/ instead.

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

variable "zfsinstall" {
  type        = string
  default     = "../../../bin/zfsinstall"
  description = "The zfsinstall binary to put in the image (make build)."
}

variable "spec" {
  type        = string
  description = "The host spec for the image (start from `zfsinstall recipes el-kmod`)."
}

source "qemu" "el9" {
  iso_url          = var.iso_url
  iso_checksum     = var.iso_checksum
  http_directory   = "${path.root}/http"
  boot_wait        = "5s"
  boot_command     = ["<tab> inst.text inst.ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/el9.ks inst.repo=${var.inst_repo}<enter><wait>"]
  accelerator      = "kvm"
  cpus             = 2
  memory           = 2048
  disk_size        = "20G"
  format           = "qcow2"
  headless         = true
  communicator     = "ssh"
  ssh_username     = "root"
  ssh_password     = "zfsinstall-build" # set by http/el9.ks for the build only; the last provisioner locks it
  ssh_timeout      = "45m"
  shutdown_command = "shutdown -P now"
  output_directory = "output-el9-zfs"
  vm_name          = "el9-zfs.qcow2"
}

build {
  sources = ["source.qemu.el9"]

  provisioner "file" {
    source      = var.zfsinstall
    destination = "/tmp/zfsinstall"
  }

  provisioner "file" {
    source      = var.spec
    destination = "/tmp/zfsinstall.hcl"
  }

  provisioner "file" {
    source      = "${path.root}/../scripts/zfsinstall-image.sh"
    destination = "/tmp/zfsinstall-image.sh"
  }

  # Where the boot-time verify unit and the guard hook expect them.
  provisioner "shell" {
    inline = [
      "install -m 0755 /tmp/zfsinstall /usr/local/sbin/zfsinstall",
      "install -m 0644 /tmp/zfsinstall.hcl /etc/zfsinstall.hcl",
    ]
  }

  provisioner "shell" {
    inline = ["sh /tmp/zfsinstall-image.sh apply"]
  }

  provisioner "shell" {
    inline = ["sh /tmp/zfsinstall-image.sh converged"]
  }

  provisioner "shell" {
    inline = ["sh /tmp/zfsinstall-image.sh verify"]
  }

  # The build's root password and SSH login go before the image is saved.
  provisioner "shell" {
    inline = [
      "rm -f /etc/ssh/sshd_config.d/01-zfsinstall-build.conf /tmp/zfsinstall /tmp/zfsinstall.hcl /tmp/zfsinstall-image.sh",
      "passwd -l root",
    ]
  }
}
