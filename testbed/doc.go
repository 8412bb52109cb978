// Package testbed is a real EL9 package-manager test bed: small signed RPMs that carry the
// names, versions, Provides/Requires/Conflicts and scriptlets of the real Rocky, EPEL, ELRepo
// and OpenZFS packages, local file:// repositories laid out like the real mirrors, and install
// roots that play a Rocky Linux 9.4 host. Integration tests run the real
// `zfsinstall apply --root ROOT` against such a root; the machine's dnf and rpm do the work.
//
// # Use
//
//	func TestMain(m *testing.M) { code := m.Run(); testbed.Cleanup(); os.Exit(code) }
//
//	func TestSomething(t *testing.T) {
//		p := testbed.Build(t)                 // once per test binary, ~5 s on a quiet 2-core machine
//		r := testbed.NewRoot(t, p, "kernel-5.14.0-427.13.1.el9_4") // ~1 s
//		cmd := exec.Command(zfsinstall, "apply", "--root", r.Dir, ...)
//		cmd.Env = append(os.Environ(), r.Env()...) // HOME whose .rpmmacros says %_dbpath /var/lib/rpm
//		...
//		r.Installed(t); r.TryModinfo(testbed.Kernel94, "version", "zfs"); r.Chroot(t, "dkms", "status")
//	}
//
// Require skips (fails under CI) when the machine lacks the programs or root. Programs without
// a testing.TB (the demo, benchmark scripts) use BuildTo, NewRootAt, NewRootArchAt,
// CopyRootAt, TryKernelRPMs, Packages.TryRealSize, Root.TryAddFiller and Root.TryAddKernels, or
// the command testbed/cmd/mkbed (-host elrepo-lt|stock|zstream|elrepo-only|el96|fit|aarch64,
// -filler N, -kernels K, -real-size).
//
// # Roots for the failures of issue 10 (models_test.go shows each with plain dnf and rpm)
//
//	kmod-zfs does not fit a z-stream kernel of its own minor (openzfs/zfs#16219):
//	    NewRoot(t, p, "kernel-5.14.0-427.13.1.el9_4"), install kmod-zfs, then
//	    dnf install kernel-5.14.0-427.16.1.el9_4: modinfo -k Kernel94Z zfs says
//	    "modinfo: ERROR: Module zfs not found."
//	a next-minor kernel that fits the kmod by kABI (the #16271 pattern):
//	    NewRoot(t, p, p.KernelRPMs(t, Kernel95Fit)...)
//	dnf installs an OLDER kernel-core for the kmod (#17987):
//	    NewRoot(t, p, "kernel-5.14.0-427.16.1.el9_4"), then dnf install kmod-zfs
//	ELRepo-only host; zfs-dkms 2.2.8 pulls a stock kernel-core:
//	    NewRoot(t, p, "kernel-lt-6.1.80-1.el9.elrepo", "kernel-lt-devel-6.1.80-1.el9.elrepo", ...)
//	DKMS fails inside META's range on stock EL (#17349, #17448):
//	    NewRoot(t, p, "kernel-5.14.0-570.17.1.el9_6", ...), zfs-dkms-2.1.16 (2.2.8 builds);
//	    or zfs-dkms-2.1.16 on 9.4, then dnf install the 9.6 kernel: 40-dkms.install's
//	    autoinstall fails in kernel-core's posttrans, dnf says "Complete!" (the #16746 experience)
//	2.1 kmod layout: kmod-zfs-2.1.15 (extra/zfs/zfs/zfs.ko)
//	aarch64: NewRootArch(t, p, "aarch64", "kernel-5.14.0-427.13.1.el9_4"), or the real
//	    AlmaLinux image: UnpackRoot(t, p, "testdata/upstream/rootfs/almalinux-9-...-aarch64-....tar.xz")
//	benchmarks: r.AddFiller(t, n), r.AddKernels(t, k)
//
// # Packages (specs/, built with rpmbuild at test time; release .el9 unless noted)
//
//   - baseos (Rocky key): filesystem 3.16-2 (/bin, /sbin, /lib, /lib64 -> usr/...), bash 5.1.8-9
//     (the machine's bash), kmod 28-9 (Debian's kmod; weak-modules stand-in), systemd-udev
//     252-32 (built from kmod.spec: systemd 252's kernel-install and plugins; that it is
//     systemd-udev that ships kernel-install on EL9 is from memory, not checked against a
//     mirror), rocky-release/rocky-repos/rocky-gpg-keys 9.4-1.7
//     (system-release(releasever) = 9, /etc/os-release of Rocky 9.4, rocky.repo with baseos and
//     appstream, rocky-extras.repo), make, diffutils (stubs, from stubs.spec), and the kernels
//     below: kernel, kernel-core, kernel-modules-core, kernel-modules.
//   - appstream: kernel-devel (kernel-devel-uname-r; /usr/src/kernels/KVER) and
//     kernel-devel-matched of every kernel in baseos, gcc, perl, elfutils-libelf-devel (stubs).
//   - extras: epel-release 9-8 (epel.repo, RPM-GPG-KEY-EPEL-9).
//   - epel (EPEL key): dkms 3.0.13-1 and 3.2.0-1 (DKMSOld, DKMSNew; dnf picks 3.2.0), requiring
//     "(kernel-devel-matched if kernel-core)" like the real one, so installing dkms pulls the
//     newest kernel-devel-matched (now 9.6's) and that kernel.
//   - elrepo-kernel (ELRepo key, disabled in elrepo.repo): kernel-lt, -core, -modules, -devel,
//     -devel-matched 6.1.80-1.el9.elrepo; the core provides kernel-lt-uname-r (not
//     kernel-uname-r) and no kABI symbols; -devel provides kernel-devel-uname-r and
//     kernel-devel = 6.1.80-1.el9.elrepo (kernel-lt/el9/kernel-lt-6.1.spec in elrepo/kernel).
//   - zfs (OpenZFS key): zfs, libzfs5, libzpool5, libnvpair3, libuutil3 and zfs-dkms, 2.2.7-1,
//     2.2.8-1 and 2.1.16-1 (ZFS21DKMS). zfs requires the libraries at its version-release and
//     zfs-kmod = VERSION. zfs-dkms provides zfs-kmod = VERSION and requires dkms >= 2.2.0.3, gcc,
//     make, perl, diffutils and kernel-devel in [Linux-Minimum, Linux-Maximum.999] (3.10-6.7 for
//     2.1.16, 4.18-6.12 for 2.2.7, 4.18-6.15 for 2.2.8); 2.2.8 also requires kernel-uname-r in
//     that range and conflicts outside it (commit 81dec433b0; catalog/data/releases.tsv).
//   - zfs-kmod: the userland of 2.2.7, 2.2.8 and 2.1.15-2 (ZFS21) and kmod-zfs 2.2.7-1, 2.2.8-1,
//     2.1.15-2, all built for Kernel94: requires zfs = VERSION and kernel(symbol) = 9.4's CRCs,
//     conflicts with zfs-dkms, provides zfs-kmod; 2.2 ships /lib/modules/KVER/extra/zfs/{zfs,spl}.ko,
//     2.1 nine modules one directory each (extra/zfs/zfs/zfs.ko, extra/zfs/spl/spl.ko,
//     extra/zfs/avl/zavl.ko, ...: INSTALL_MOD_DIR=extra/zfs in rpm/redhat/zfs-kmod.spec.in at
//     zfs-2.1.15, ZFS_MODULES in its module/Kbuild.in). %post runs depmod and
//     weak-modules --add-modules, %postun weak-modules --remove-modules.
//   - zfs-latest, zfs-legacy, zfs-2.2 and their -kmod: copies of zfs and zfs-kmod.
//   - zfs-release 3-0 is in no repository (Packages.ZFSRelease, ZFSReleaseURL): the real
//     zfs.repo of zfs-release-3-0.el9 with http://download.zfsonlinux.org/ replaced by the
//     mirror, and the OpenZFS key as RPM-GPG-KEY-openzfs-2013/-2022 with the -el-N links.
//   - In no repository, built the first time something asks (KernelRPMs, NewRootArch):
//     Kernel95Fit; the aarch64 tree (below). Filler packages and extra kernels (Filler).
//
// Each vendor signs with its own throwaway rsa2048 key (Packages.Keys). A new root has only
// the Rocky key imported; dnf imports others when it installs their packages during NewRoot.
//
// # Real kernel data (trees.go, kernelsrc.go, kbuild.go, kmods.go)
//
// Every kernel keeps its EL name but takes its kABI from a real kernel build: the header trees
// of Debian's linux-headers packages (HeaderPackages; the Makefile's DEB_PKGS installs them):
//
//   - 6.1.0-47-amd64: Kernel94, Kernel95Fit, KernelUpdateFit (one kABI); every kmod is built
//     against it. Kernel94's tree carries the two CRCs openzfs/zfs#16179 gives
//     (__alloc_pages 0x721dbc2e, write_cache_pages 0x30a4cdde) in place of Debian's, before
//     anything is compiled against it; no other test CRC is left.
//   - 6.1.0-50-amd64: Kernel94Z, Kernel17924 (about 18,100 CRCs differ from -47).
//   - 6.1.0-57-amd64: Kernel95, KernelLT. 6.1.0-57-cloud-amd64: Kernel96.
//   - 6.1.0-57-rt-amd64: KernelUpdateBreak (locking symbols differ).
//   - 6.12.107+deb12-amd64: Kernel17165 (struct module 0x500 bytes; 0x380 in every 6.1 tree).
//
// kernel-core provides kernel(SYMBOL) = CRC for every symbol vmlinux exports (about 10,500),
// as rpm's kabi.sh generates them from /lib/modules/KVER/symvers.gz ("only for symbols
// exported by vmlinux itself"); symvers.gz is the tree's Module.symvers; kernel-modules-core
// carries a reference module compiled against the tree (/lib/modules/KVER/kernel/lib/
// testbed_ref.ko: headers packages have no module of the kernel itself, and the struct module
// size of #17165 is read from a kernel's own modules); kernel-devel is the tree renamed to the
// EL release (KERNELRELEASE, UTS_RELEASE, so vermagic carries the EL name; the 6,400 empty
// include/config files left out) at /usr/src/kernels/KVER.
//
// kmod-zfs's modules are real .ko files compiled at test time with the machine's make and gcc
// against Kernel94's tree (KmodBuild; cached by content in $TMPDIR/zfsinstall-testbed-kbuild,
// so each build is compiled once per machine): zfs.ko and spl.ko (2.2) or nine modules (2.1),
// referencing the kernel symbols upstream reports list among kmod-zfs's requirements and the
// interfaces OpenZFS's Linux code calls (kmodSymbols, intersected with the tree's non-GPL
// exports). Their kernel(SYMBOL) = CRC requirements (98 for 2.2) are generated as
// find-requires.ksyms (kernel-srpm-macros) generates EL's: each module's `modprobe
// --dump-modversions`, less the package's own exports, joined by SYMBOL:CRC with the build
// kernel's Module.symvers. module_layout is in every module's __versions and exported by
// vmlinux, so kernel(module_layout) = CRC is among the requirements, and module_layout differs
// in every real build.
//
// # What issue 18 uses (updates.go; models TestModelHoldExcludes, TestModelRebuiltKmodLiftsHold,
// TestModelLoadability, TestModelDKMSDevelNotOffered)
//
//   - (a) PublishKernelUpdates(t): KernelUpdateFit (Kernel94's kABI: the kmod fits) and the
//     newest, KernelUpdateBreak (-rt data: 61 of the kmod's requirements unmet), in baseos and
//     appstream for one test. KernelPackages(kver) lists the packages of one build; with all of
//     them in dnf.conf's excludepkgs, `dnf upgrade` (best=True) installs KernelUpdateFit.
//     Excluding only the kernel meta package is not enough: dnf installs KernelUpdateFit's
//     kernel and, as dependencies, the excluded build's kernel-core, -modules and -modules-core.
//   - (b) PublishKmod(t, KmodBuild{Version, Release, Kernel}): a kmod rebuilt against a bed
//     kernel, signed, in zfs-kmod for one test.
//   - (c) KmodRPM(t, KmodBuild{..., Stable: true}) with StableSymbols (symbols with one CRC in
//     every tree: kfree, vmalloc, _printk, memcpy, ...) and KernelRPMs(t, Kernel17924 or
//     Kernel17165): on Kernel17924 every symbol of the stable kmod matches except module_layout
//     (#17924; the kmod's kernel(module_layout) requirement is therefore unmet too); Kernel17165's
//     own module (6.12 tree) has a 0x500-byte struct module where the kmod's is 0x380 (#17165;
//     module_layout differs there too, as in every real build);
//     KmodBuild{Kernel: Kernel94Z, Stable: true} installed on Kernel94 is #14411 (build kernel
//     newer than the target; vermagic says so).
//   - (d) RemoveFromRepo(t, "appstream", "kernel-devel-5.14.0-570.999.1.") takes a candidate
//     kernel's kernel-devel out; its restore function offers it again.
//
// # Real tools in the root, and the remaining stand-ins
//
// A root's /usr is an overlay: the machine's Debian /usr read-only below, the root's packages
// above (overlay.go), with /proc mounted and basic device nodes, as in an installer's target
// root. Its userland (bash, coreutils, sed, awk, find, make, gcc-12, binutils, openssl) is
// therefore real; whiteouts hide the machine's copies of what EL packages own until those are
// installed. The bed's packages carry Debian's real tools: kmod (depmod, modinfo,
// `modprobe --dump-modversions`; kmod 30), systemd-udev (systemd 252's kernel-install and its
// 50-depmod.install and 90-loaderentry.install, in EL's /usr/lib/kernel/install.d), dkms
// (dell/dkms 3.0.10 in EPEL's packaging: 3.0.13 with /etc/kernel/install.d/40-dkms.install ->
// postinst.d/dkms -> dkms_autoinstaller; 3.2.0 with /usr/lib/kernel/install.d/40-dkms.install
// and Fedora's framework.conf: modprobe_on_install="true" honoured, post_transaction inert, as
// 3.0.10 has no post_transaction and no kernel_postinst, so the 3.2.0 plugin runs dkms
// autoinstall, which kernel_postinst does on add). zfs-dkms ships real module source that dkms
// compiles against the kernel-devel tree; its configure fails the build like OpenZFS's above
// META's Linux-Maximum and for the rows of dkmsBuildFailures (matched by kernel release: the
// backported interface removals behind them cannot be reproduced on 6.1 headers).
// Found with the real tools: systemd 252's kernel-install stops at the first plugin that fails
// and exits with its status ([ $err -ne 0 ] && exit $err), so a failing 40-dkms.install keeps
// 50-depmod.install (and every later plugin, 98-zfsinstall-guard.install included) from
// running; dkms needs /proc in a chroot.
//
// Stand-ins, each because no Debian package has the real one or it cannot run here:
//   - weak-modules (specs/files/weak-modules): RHEL's is in the kmod package of RHEL/CentOS
//     Stream (it checks a module's symbol versions against each kernel's symvers with
//     depmod -aeE and links compatible modules into weak-updates/); the stand-in makes the same
//     decision from real data (`modprobe --dump-modversions`, the kmod's own exports,
//     symvers.gz) and runs real depmod. Its links are relative (Traps).
//   - modprobe loading (specs/files/modprobe): a load would load into the machine's kernel; it
//     becomes kmod's own --dry-run and is recorded in /var/lib/zfs-test/modprobe.log.
//   - `uname -r` after SetRunningKernel: a chroot cannot boot a kernel.
//   - grubby (rhboot/grubby): not packaged by Debian and not in the bed; zfsinstall runs it only
//     on a live host. grub2's 20-grub.install and dracut's 50-dracut.install are not in the bed
//     either: no initramfs and no boot entry are written (Debian's dracut-core is installed for
//     tests that need an initramfs; none uses it yet).
//   - the zfs command (specs/files/zfs); systemctl in the root is the machine's, which refuses
//     to act in a chroot.
//
// Markers the bed still writes in /var/lib/zfs-test/: weak-modules.log, modprobe.log, zfs-post.log
// (zfs %post), killed.log (ArmKill), running-kernel (SetRunningKernel).
//
// # aarch64
//
// NewRootArch(t, p, "aarch64", ...) builds, the first time, an aarch64 tree of the mirror:
// baseos, appstream, extras, epel, elrepo, elrepo-kernel under .../aarch64/..., holding
// rpmbuild --target aarch64 builds of bash, kmod/systemd-udev and Kernel94Aarch64 and every
// noarch package; no zfs* repository (OpenZFS publishes EL packages for x86_64 only:
// openzfs/zfs#13266, #14511, #11089, #12463). The root's dnf.conf gets arch=aarch64,
// basearch=aarch64 and ignorearch=True (dnf.conf(5); what --forcearch sets), so every dnf call
// on it, the tool's included, resolves $basearch to aarch64, offers aarch64 and noarch
// packages only, and after zfs-release fails with "Failed to download metadata for repo
// 'zfs'" for .../zfsonlinux/epel/9/aarch64/repodata/repomd.xml, as on a real aarch64 host.
// The rpm database records aarch64; the files on disk are this machine's.
// UnpackRoot unpacks a real root image instead (AlmaLinux 9.3 aarch64 in testdata): a real rpm
// database, nothing runnable.
//
// # Filler (filler.go), copies (copy.go) and real-size repositories (realsize.go)
//
// Root.AddFiller(t, n) registers testbed-filler-00001..n in the root's rpm database only
// (rpm -i --justdb; built by one rpmbuild of specs/filler.spec, 1,000 packages in about 1.5 s,
// once per Packages); Root.AddKernels(t, k) installs k extra kernel-core packages
// 5.14.0-427.0.N.el9_4 of the root's architecture (below Kernel94, so the bed's kernels stay
// the newest; kernel-uname-r provides, /lib/modules/KVER/vmlinuz and an empty modules.dep, no
// kABI, no scriptlets). Both are idempotent: asking for more adds the rest.
//
// CopyRootAt(r, dir) makes a second host in the same state as r (its files, its overlay's
// upper layer and HOME copied; its own /usr overlay and /proc mounted; never a copy of a
// mount); Root.Remove unmounts and removes it. The bench copies one template root per run.
//
// Packages.TryRealSize (Packages.RealSize in tests; mkbed -real-size) makes baseos, appstream
// and epel as large as a real EL9 host's (RealSizeRepos: about 1,100, 5,700 and 20,000
// packages) with filler packages from specs/repo-filler.spec (noarch, unsigned, never
// installed: six provides, up to eight requirements, eight %ghost file entries each), built
// once per machine and cached by content in $TMPDIR/zfsinstall-testbed-realsize (about 30 s
// the first time on the 2-core machine, 4 s after); extra kernels built afterwards carry
// Kernel94's real kABI provides (about 10,500). make test never builds it; make bench does.
//
// # Faults
//
// BreakRepo, RemoveFromRepo, AddUnsigned and AddSigned (e.g. with the "rogue" key) change the
// shared mirror and undo themselves at the end of the test; they drop the dnf caches of the
// bed's roots (dnf caches file:// repositories and honours metadata_expire). Tests using them
// must not be parallel, or use BuildPrivate. ArmKill makes a package's %pre kill -9 dnf (its
// $PPID: dnf runs rpm in-process) mid-transaction.
//
// # Traps
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
//     That is also what makes the aarch64 root work: its dnf.conf carries the architecture.
//   - Without %_dbpath /var/lib/rpm in HOME/.rpmmacros, Debian's rpm uses ~/.rpmdb.
//   - rpm -q --whatprovides takes a name only: "kernel(write_cache_pages) = 0x30a4cdde" answers
//     "no package provides ..." even when one does; dnf repoquery --installed --whatprovides
//     takes the versioned dependency.
//   - rpm -i of an older version of an installed installonly package (kernel-core) fails
//     ("... which is newer ... is already installed") without --oldpackage; dnf knows
//     installonlypkg(kernel), rpm does not. An aarch64 package needs --ignorearch.
//   - Real weak-modules writes absolute links (/lib/modules/B/extra/...); seen from outside a
//     root (modinfo -b ROOT) they point at the machine's /lib/modules. The bed's links are
//     relative so that modinfo -b ROOT follows them as a host would; a tool inspecting a real
//     installer root must resolve such links inside the root itself.
//   - busybox has no bash applet: a "#!/bin/bash" script run through a bash -> busybox link
//     dies with "bash: applet not found" (exit 127); the bed's bash is a shim.
//   - rpmbuild expands macros in comments: a "%global" in a spec comment is not inert; write %%.
//   - dnf remove zfs-dkms also removes dkms (clean_requirements_on_remove=True in EL's
//     dnf.conf) when nothing else needs it.
package testbed
