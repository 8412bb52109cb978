// Package repos manages the OpenZFS repository on a host: it edits
// /etc/yum.repos.d/zfs.repo byte-exactly (only the lines that must change,
// comments, spacing and line endings kept), decides which zfs* sections
// should be enabled for a spec, and verifies a zfs-release package against
// the pinned OpenZFS signing keys before anything installs it.
//
// Repo files are read the way dnf (libdnf's IniParser) reads them: "#" and
// ";" comment lines start in column 0, "[id]" opens a section, "key=value"
// starts in column 0 (the value may contain "=" and "$releasever"), an
// indented line continues the previous value, and a key=value before the
// first section is an error.
//
// The signing keys in keys/ are the two OpenZFS keys the zfs-release package itself installs
// under /etc/pki/rpm-gpg/ (the same files as testdata/upstream/openzfs/, see its README; a
// test checks they are identical):
//
//	RPM-GPG-KEY-openzfs-2013  ZFS on Linux <zfs@zfsonlinux.org>  rsa2048  C93A FFFD 9F3F 7B03 C310 CEB6 A9D5 A1C0 F14A B620
//	RPM-GPG-KEY-openzfs-2022  OpenZFS <release@openzfs.org>      rsa4096  7DC7 299D CF7C 7FD9 CD87 701B A599 FD5E 9DB8 4141
//
// Their fingerprints are checked when the package initialises; a mismatch
// panics, because it is a defect of the build, not of the host.
package repos
