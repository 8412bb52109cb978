# Plugin and Packer versions, kept apart from el9.pkr.hcl (as AlmaLinux's cloud-images
# repository does) so that CI's Packer 1.6.6, which predates required_plugins, can still
# check el9.pkr.hcl with `packer validate -syntax-only` and `packer fmt -check`.
packer {
  required_version = ">= 1.7.0"
  required_plugins {
    qemu = {
      version = ">= 1.0.0"
      source  = "github.com/hashicorp/qemu"
    }
  }
}
