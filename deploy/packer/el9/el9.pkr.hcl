# An EL9 qcow2 image with OpenZFS installed by zfsinstall, built two ways from one qemu source:
#
#   ansible    kickstart installs a minimal system (http/el9.ks); Packer's ansible provisioner
#              runs image.yml with the zfsinstall.zfsinstall collection's role (requirements.yml),
#              the way AlmaLinux's cloud-images templates provision their images;
#   kickstart  the kickstart itself installs zfsinstall from your repository (%packages) and runs
#              deploy/kickstart/zfsinstall-post.ks in %post (http/el9-zfs.ks.pkrtpl).
#
# Both then check, on the booted image, that a second plan has nothing to do and verify passes
# (../scripts/zfsinstall-image.sh), and lock the build's root login. Needs Packer >= 1.7 with the
# plugins of versions.pkr.hcl, KVM, ansible-core on the build machine (ansible build), and
# network access to the EL9 and OpenZFS mirrors:
#
#   make build collection            # or make rpm for the kickstart build's repository
#   cd deploy/packer/el9 && packer init . && packer build -only='ansible.*' \
#     -var iso_url=https://.../EL9-dvd.iso -var iso_checksum=sha256:... -var spec=/path/to/zfsinstall.hcl .
#
# CI has no virtualisation: it runs `packer validate` and `packer fmt -check` on this directory
# (deploy/packer_test.go), and builds ../testbed/ instead.

locals {
  # The kickstart build's kickstart: a minimal system, zfsinstall from var.zfsinstall_repo, the
  # spec written before the zfsinstall %post snippet runs (it takes /etc/zfsinstall.hcl).
  kickstart = templatefile("${path.root}/http/el9-zfs.ks.pkrtpl", {
    repo = var.zfsinstall_repo
    spec = file(var.spec)
    post = file("${path.root}/../../kickstart/zfsinstall-post.ks")
  })
  boot = "<tab> inst.text inst.repo=${var.inst_repo} inst.ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}"
}

source "qemu" "el9" {
  iso_url          = var.iso_url
  iso_checksum     = var.iso_checksum
  boot_wait        = "5s"
  accelerator      = "kvm"
  cpus             = 2
  memory           = 2048
  disk_size        = "20G"
  format           = "qcow2"
  headless         = true
  communicator     = "ssh"
  ssh_username     = "root"
  ssh_password     = "zfsinstall-build" # set by the kickstart for the build only; the last provisioner locks it
  ssh_timeout      = "45m"
  shutdown_command = "shutdown -P now"
  vm_name          = "el9-zfs.qcow2"
}

build {
  name = "ansible"

  source "source.qemu.el9" {
    http_directory   = "${path.root}/http"
    boot_command     = ["${local.boot}/el9.ks<enter><wait>"]
    output_directory = "output-el9-zfs-ansible"
  }

  provisioner "ansible" {
    playbook_file        = "${path.root}/image.yml"
    galaxy_file          = "${path.root}/requirements.yml"
    galaxy_force_install = true
    collections_path     = "${path.root}/collections"
    user                 = "root"
    use_proxy            = false
    extra_arguments = ["--extra-vars", jsonencode({
      zfsinstall_binary_src    = abspath(var.zfsinstall)
      zfsinstall_spec_template = abspath(var.spec)
    })]
    ansible_env_vars = ["ANSIBLE_PIPELINING=True", "ANSIBLE_REMOTE_TEMP=/tmp", "ANSIBLE_SCP_EXTRA_ARGS=-O"]
  }

  provisioner "file" {
    source      = "${path.root}/../scripts/zfsinstall-image.sh"
    destination = "/tmp/zfsinstall-image.sh"
  }

  provisioner "shell" {
    inline = ["sh /tmp/zfsinstall-image.sh converged", "sh /tmp/zfsinstall-image.sh verify"]
  }

  # The build's root password and SSH login go before the image is saved.
  provisioner "shell" {
    inline = ["rm -f /etc/ssh/sshd_config.d/01-zfsinstall-build.conf /tmp/zfsinstall-image.sh", "passwd -l root"]
  }
}

build {
  name = "kickstart"

  source "source.qemu.el9" {
    http_content     = { "/el9-zfs.ks" = local.kickstart }
    boot_command     = ["${local.boot}/el9-zfs.ks<enter><wait>"]
    output_directory = "output-el9-zfs-kickstart"
  }

  provisioner "file" {
    source      = "${path.root}/../scripts/zfsinstall-image.sh"
    destination = "/tmp/zfsinstall-image.sh"
  }

  # zfsinstall applied in %post, chrooted, where the module cannot load; now the image's
  # kernel runs: a second plan loads nothing new (module.autoload did at boot) and verify passes.
  provisioner "shell" {
    inline = ["sh /tmp/zfsinstall-image.sh converged", "sh /tmp/zfsinstall-image.sh verify"]
  }

  provisioner "shell" {
    inline = ["rm -f /etc/ssh/sshd_config.d/01-zfsinstall-build.conf /tmp/zfsinstall-image.sh", "passwd -l root"]
  }
}
