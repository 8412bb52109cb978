// Package testbed is a real EL9 package-manager test bed: small signed RPMs that carry the
// names, versions, Provides/Requires/Conflicts and scriptlets of the real Rocky, EPEL, ELRepo
// and OpenZFS packages, local file:// repositories laid out like the real mirrors, and install
// roots that play a freshly installed Rocky Linux 9.4 host. Integration tests run the real
// `zfsinstall apply --root ROOT` against such a root; the machine's dnf and rpm do the work.
//
// # Use
//
//	func TestMain(m *testing.M) { code := m.Run(); testbed.Cleanup(); os.Exit(code) }
//
//	func TestSomething(t *testing.T) {
//		p := testbed.Build(t)                 // once per test binary, 3-7 s
//		r := testbed.NewRoot(t, p, "kernel-5.14.0-427.13.1.el9_4") // ~1 s
//		cmd := exec.Command(zfsinstall, "apply", "--root", r.Dir, ...)
//		cmd.Env = append(os.Environ(), r.Env()...) // HOME whose .rpmmacros says %_dbpath /var/lib/rpm
//		...
//		r.Installed(t); r.TryModinfo(testbed.Kernel94, "version", "zfs"); r.Chroot(t, "dkms", "status")
//	}
//
// Require skips (fails under CI) when the machine lacks the programs or root.
//
// # Packages (specs/, built with rpmbuild at test time; release .el9 unless noted)
//
//   - baseos (Rocky key): filesystem 3.16-2 (/bin, /sbin, /lib, /lib64 -> usr/...), bash 5.1.8-9
//     (busybox-static as /bin/sh plus the applets scriptlets use), kmod 28-9 (depmod and
//     weak-modules stand-ins), rocky-release/rocky-repos/rocky-gpg-keys 9.4-1.7
//     (system-release(releasever) = 9, /etc/os-release of Rocky 9.4, rocky.repo with baseos and
//     appstream, rocky-extras.repo), make, diffutils (stubs), and the kernels
//     5.14.0-427.13.1.el9_4 and 5.14.0-503.14.1.el9_5: kernel, kernel-core (kernel-uname-r,
//     installonlypkg(kernel), two kernel(symbol) kABI provides that differ between 9.4 and 9.5),
//     kernel-modules-core, kernel-modules.
//   - appstream: kernel-devel (kernel-devel-uname-r; /usr/src/kernels/KVER) and
//     kernel-devel-matched for both kernels, gcc, perl, elfutils-libelf-devel (stubs).
//   - extras: epel-release 9-8 (epel.repo, RPM-GPG-KEY-EPEL-9).
//   - epel (EPEL key): dkms 3.0.13-1, requiring "(kernel-devel-matched if kernel-core)" like the
//     real one, so installing it pulls the newest kernel-devel-matched and that kernel.
//   - elrepo-kernel (ELRepo key, disabled in elrepo.repo): kernel-lt, -core, -modules, -devel,
//     -devel-matched 6.1.80-1.el9.elrepo; the core provides kernel-lt-uname-r (not
//     kernel-uname-r) and no kABI symbols; -devel provides kernel-devel-uname-r and
//     kernel-devel = 6.1.80-1.el9.elrepo.
//   - zfs (OpenZFS key): zfs, libzfs5, libzpool5, libnvpair3, libuutil3 and zfs-dkms, 2.2.7-1
//     and 2.2.8-1. zfs requires the libraries at its version-release and zfs-kmod = VERSION.
//     zfs-dkms provides zfs-kmod = VERSION and requires dkms >= 2.2.0.3, gcc, make, perl,
//     diffutils and kernel-devel in [4.18, Linux-Maximum.999] (6.12 for 2.2.7, 6.15 for 2.2.8);
//     2.2.8 also requires kernel-uname-r in that range and conflicts outside it
//     (data/openzfs/releases.tsv).
//   - zfs-kmod: the same userland and kmod-zfs 2.2.7-1, 2.2.8-1 (built for Kernel94): requires
//     zfs = VERSION and kernel(symbol) = 9.4's CRCs, conflicts with zfs-dkms, provides zfs-kmod,
//     ships /lib/modules/KVER/extra/zfs/{zfs,spl}.ko; %post runs depmod and weak-modules.
//   - zfs-latest, zfs-legacy, zfs-2.2 and their -kmod: copies of zfs and zfs-kmod.
//   - zfs-release 3-0 is in no repository (Packages.ZFSRelease, ZFSReleaseURL): the real
//     zfs.repo of zfs-release-3-0.el9 with http://download.zfsonlinux.org/ replaced by the
//     mirror, and the OpenZFS key as RPM-GPG-KEY-openzfs-2013/-2022 with the -el-N links.
//
// Each vendor signs with its own throwaway rsa2048 key (Packages.Keys). A new root has only
// the Rocky key imported; dnf imports others when it installs their packages during NewRoot.
//
// # Stand-ins and markers (the root is a chroot, not a booted host)
//
// Scriptlets run chrooted with busybox. They leave markers in /var/lib/zfs-test/ instead of
// touching a kernel: kernel-install.log (kernel-core %posttrans), depmod.log, weak-modules.log
// (kmod-zfs %post/%postun), dkms-post.log (zfs-dkms %post), zfs-post.log (zfs %post),
// killed.log (ArmKill). /usr/sbin/dkms (specs/files/dkms) keeps DKMS's tree, status format,
// messages and exit codes, records argv in /var/lib/dkms-test/calls.log and "builds" by copying
// prebuilt test modules; it fails with exit 1 when /lib/modules/KVER/build/include is missing
// (no kernel-devel for KVER) and with exit 10 plus build/make.log when the kernel is above the
// release's Linux-Maximum or /var/lib/zfs-test/dkms-build-fail exists. zfs-dkms's %post only
// adds the module to the DKMS tree: inside a root `uname -r` is the machine's kernel, so the
// real script's build for the running kernel is meaningless; whoever installs zfs-dkms into a
// root must run `dkms install -m zfs -v VER -k TARGET` (in the root: chroot ROOT dkms ...).
//
// Test modules are empty ELF objects with a real .modinfo section (version=2.2.7-1, ...).
// libkmod finds a module by name only through modules.dep.bin, which nothing in the root can
// write, so the bed builds the index with the machine's depmod for each kernel and each zfs
// layout (none, kmod's extra/zfs/*.ko, DKMS's extra/*.ko.xz); kernel-core ships them and the
// root's depmod installs the one matching the files present. `modinfo -b ROOT -k KVER -F
// version zfs` therefore answers like on a host after depmod ran.
//
// # Faults
//
// BreakRepo, RemoveFromRepo, AddUnsigned and AddSigned (e.g. with the "rogue" key) change the
// shared mirror and undo themselves at the end of the test; they drop the dnf caches of the
// bed's roots (dnf caches file:// repositories and honours metadata_expire). Tests using them
// must not be parallel, or use BuildPrivate. ArmKill makes a package's %pre kill -9 dnf (its
// $PPID: dnf runs rpm in-process) mid-transaction.
//
// # Traps (see also /work/shared/TESTBED.md)
//
//   - dnf reads gpgkey=file:///etc/pki/rpm-gpg/... from the machine, even with --installroot:
//     in a root, installing from a repository whose key is not imported fails with "Curl error
//     (37): Couldn't read a file:// file ... Couldn't open file /etc/pki/rpm-gpg/..." (and a
//     package signed with an unknown key fails the same way, not with "GPG check FAILED").
//     Import keys from the root: rpm --root ROOT --import ROOT/etc/pki/rpm-gpg/KEY.
//   - dnf caches file:// repository metadata like remote metadata; a changed mirror is seen
//     only after the cache expires (Root.ExpireCache).
//   - With --installroot, dnf reads dnf.conf, yum.repos.d and vars from the root; only
//     --setopt=reposdir=/abs/path is taken from the machine (NewRoot's bootstrap uses that).
//   - Without %_dbpath /var/lib/rpm in HOME/.rpmmacros, Debian's rpm uses ~/.rpmdb.
package testbed
