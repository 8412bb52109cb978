// Package deploy holds no code of its own: it is the home of zfsinstall's deployment entry
// points and of the tests that drive each of them with the real programs against the real
// dnf/rpm test bed (package testbed):
//
//   - the binary (`make build`): static and stamped, and the one every path below ships;
//   - the RPM (deploy/rpm, `make rpm`): built with rpmbuild, installed into a test-bed root
//     with rpm, its static binary run there with chroot;
//   - Ansible (deploy/ansible): the zfsinstall.zfsinstall collection built and installed
//     with ansible-galaxy, offline; its module run directly and through ansible-playbook in
//     check mode, then for real, then again; ansible-test sanity and units; ansible-lint;
//   - Packer (deploy/packer): Packer 1.9.5 built by `make packer`; the test-bed template
//     built with the null builder and shell-local, every template directory validated;
//   - kickstart (deploy/kickstart): the %post --nochroot snippet run against a root mounted
//     at /mnt/sysimage, the %post snippet run chrooted into a root;
//   - the manual page (docs/zfsinstall.8) and the bash completion (deploy/completion).
//
// The tests skip when a program is missing and fail instead under CI (CI set), like
// testbed.Require.
package deploy
