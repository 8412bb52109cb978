# The Packer and plugin versions the EL9 templates need (packer init installs the plugins).
# CI validates this directory as a whole with the Packer `make packer` builds from the Go module
# proxy: Packer 1.9.5, packer-plugin-qemu 1.0.9, packer-plugin-ansible 1.1.2 (all MPL-2.0).
packer {
  required_version = ">= 1.7.0"
  required_plugins {
    qemu = {
      version = ">= 1.0.9"
      source  = "github.com/hashicorp/qemu"
    }
    ansible = {
      version = ">= 1.1.2"
      source  = "github.com/hashicorp/ansible"
    }
  }
}
