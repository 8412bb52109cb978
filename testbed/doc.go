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
// TryKernelRPMs, Root.TryAddFiller and Root.TryAddKernels, or the command testbed/cmd/mkbed
// (-host elrepo-lt|stock|zstream|elrepo-only|el96|fit|aarch64, -filler N, -kernels K).
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
//     (busybox-static as /bin/sh plus the applets scriptlets use; bash itself is a shim, busybox
//     has no bash applet), kmod 28-9 (depmod, weak-modules and dump-modversions stand-ins),
//     systemd-udev 252-32 (built from kmod.spec: /usr/bin/kernel-install, the stand-in, and the
//     plugin directories; that it is systemd-udev that ships kernel-install on EL9 is from
//     memory, not checked against a mirror), rocky-release/rocky-repos/rocky-gpg-keys 9.4-1.7
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
// # Kernels and kABI (catalog.go: kernels)
//
// A kmod fits a kernel by kABI, not by EL minor: kmod-zfs requires kernel(SYMBOL) = CRC for
// each kernel symbol it uses, a stock kernel-core provides its CRCs, and weak-modules links a
// kmod into another kernel only if that kernel's symvers has the CRC of every symbol the module
// needs. The bed models this with two symbols, kernel(__alloc_pages) and
// kernel(write_cache_pages): every stock kernel-core provides its CRCs for them, every kernel
// (ELRepo's too) ships them in /lib/modules/KVER/symvers.gz, and every module built against a
// kernel carries them in a real __versions section (`modprobe --dump-modversions FILE` reads
// them). Kernel94's CRCs (0x721dbc2e, 0x30a4cdde) are the real ones kmod-zfs-2.1.15-2.el9
// requires (openzfs/zfs#16179); every other CRC is a test value.
//
//   - Kernel94 5.14.0-427.13.1.el9_4: the GA 9.4 kernel; every kmod-zfs is built for it.
//   - Kernel94Z 5.14.0-427.16.1.el9_4: the z-stream of #16219; write_cache_pages differs, so
//     9.4's kmods do not fit it (same minor!). Model of #16219, #13668, #15831, #17165.
//   - Kernel95 5.14.0-503.14.1.el9_5: both CRCs differ (#16790: 9.4's kmod on 9.5).
//   - Kernel95Fit 5.14.0-503.999.1.el9_5 (synthetic, in no repository): 9.4's CRCs, so 9.4's
//     kmods fit the next minor (#16271 reports it for 8.9 kmods on 8.10; no EL9 pair is
//     reported, and real 9.5 kernels did not fit 9.4's kmods). Were it in baseos, dnf would
//     pick it (the newest provider) in the other models.
//   - Kernel96 5.14.0-570.17.1.el9_6 (#17349's kernel): the newest stock kernel of the mirror.
//   - KernelLT 6.1.80-1.el9.elrepo: symvers.gz with its own CRCs, no kernel(SYMBOL) provides.
//   - Kernel94Aarch64: Kernel94 built for aarch64, in the aarch64 tree.
//
// kernel-core's posttrans runs `weak-modules --add-kernel KVER` then `kernel-install add KVER
// IMAGE`, its preun the reverse, as kernel_lt_variant_posttrans/_preun in ELRepo's
// kernel-lt-6.1.spec (derived from RHEL's kernel.spec) do.
//
// # DKMS
//
// zfs-dkms's %pre, %post and %preun are verbatim those of rpm/generic/zfs-dkms.spec.in at
// zfs-2.2.7 (identical at 2.1.16 and 2.2.8; since 2.1.15/2.2.1, commit 9ce567c6ff): %pre
// removes every other zfs version from all kernels (dkms remove --all), %post runs `dkms add`
// and `dkms install --force -m zfs -v VERSION ||:` for the running kernel, errors swallowed,
// %preun removes this version from all kernels on erase and does nothing on upgrade.
//
// dkms (EPEL, dell/dkms at the tag; settings from Fedora's dkms.spec):
//   - 3.2.0: /usr/lib/kernel/install.d/40-dkms.install runs `dkms kernel_postinst --kernelver
//     KVER` (redhat_kernel_install.d.in); framework.conf sets modprobe_on_install="true" and
//     post_transaction="dracut --regenerate-all --force" (the sed in Fedora's dkms.spec 3.2.0;
//     modprobe_on_install is already set in its 3.1.2 and 3.1.4 specs). post_transaction runs
//     after every successful install, remove, uninstall, unbuild and autoinstall (dkms.in at
//     v3.2.0); modprobe_on_install, from 3.1.4 only for the running kernel (commit b2526db),
//     runs modprobe on the devices' modaliases and restarts systemd-modules-load.service,
//     which loads what modules-load.d lists. Headers missing: exit 21 (from 3.1.5).
//   - 3.0.13: /etc/kernel/install.d/40-dkms.install calls /etc/kernel/postinst.d/dkms, which
//     runs autoinstall for the new kernel; framework.conf as upstream ships it (Fedora's
//     3.0.13 spec was not checked); no post_transaction; headers missing: exit 1.
//
// The bed's dkms (specs/files/dkms) keeps DKMS's tree, status format, messages and exit codes,
// records argv in /var/lib/dkms-test/calls.log and "builds" by copying prebuilt test modules.
// It fails a build with exit 10 and the configure error in build/make.log when the kernel is
// above META's Linux-Maximum, when /var/lib/zfs-test/dkms-build-fail exists, or when the
// zfs-dkms version's testbed/build-failures lists the kernel: dkmsBuildFailures in catalog.go,
// each row citing its report (2.1.16 on 5.14.0-570.*.el9_6: #17349, #17448; 2.1.15 on
// 5.14.0-503.*.el9_5: #16746). 2.2.7 on 9.6 is deliberately not a row: its configure accepts
// the missing blk_queue_max_hw_sectors() (config/kernel-blk-queue.m4 at zfs-2.2.7), a 2.2.7
// build on RHEL 9.6 is reported working (#17332), and its 9.6 defect was at load time
// ("Unpatched return thunk in use", #17364, fixed in 2.2.8).
//
// # Stand-ins and markers (the root is a chroot, not a booted host)
//
// Scriptlets run chrooted with busybox. They leave markers in /var/lib/zfs-test/ instead of
// touching a kernel:
//   - kernel-install.log: every `kernel-install COMMAND KVER` and each plugin's exit code.
//     kernel-install (specs/files/kernel-install) runs the plugins of /usr/lib/kernel/install.d
//     and /etc/kernel/install.d by file name (the one in /etc replaces the one of the same name
//     in /usr/lib; a non-executable one, e.g. a /dev/null link, is skipped), stops after an exit
//     77, and exits non-zero if one failed (as recalled of systemd's; not checked against its
//     source here); 50-depmod.install and 50-dracut.install (marker initramfs) are built in at
//     their places, so 40-dkms.install builds before them.
//   - weak-modules.log: each call and each decision: "KVER: linked weak-updates/REL -> ...", or
//     "KVER: MODULE not compatible: disagrees about version of symbol SYM (module CRC, kernel
//     CRC)". weak-modules (specs/files/weak-modules) reads a module's __versions with
//     /usr/lib/testbed/dump-modversions and the kernel's symvers.gz.
//   - depmod.log, zfs-post.log (zfs %post), killed.log (ArmKill), dkms-post.log
//     (common.postinst, which nothing in the bed calls any more).
//   - dkms-running-kernel.log: a dkms call without -k (zfs-dkms's %post) with no running kernel
//     set: what a host would have done. Root.SetRunningKernel(t, kver) makes such calls act on
//     kver instead (and modprobe_on_install apply to it).
//   - modprobe-on-install.log: "KVER: modprobe -a -b -q <device modaliases>; systemctl restart
//     systemd-modules-load.service (loads: zfs )" — the modules-load.d entries a host would load.
//   - post-transaction.log: "dracut --regenerate-all --force (after dkms install -k KVER)"; the
//     real $dkms_tree/post_transaction.log is written too.
//
// Test modules are empty ELF objects with a real .modinfo section (version=2.2.7-1, ...) and,
// when built against a kernel, a __versions section. libkmod finds a module by name only through
// modules.dep.bin, which nothing in the root can write, so the bed builds the index with the
// machine's depmod for each kernel and each zfs layout it may meet (none; DKMS's extra/*.ko.xz;
// for Kernel94 the 2.2 and 2.1 kmod layouts; for the other stock kernels weak-modules' links in
// weak-updates/ to either); kernel-core ships them and the root's depmod installs the one
// matching the files present. `modinfo -b ROOT -k KVER -F version zfs` therefore answers like
// on a host after depmod ran.
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
// The rpm database records aarch64; the files on disk are this machine's (busybox).
// UnpackRoot unpacks a real root image instead (AlmaLinux 9.3 aarch64 in testdata): a real rpm
// database, nothing runnable.
//
// # Filler (filler.go)
//
// Root.AddFiller(t, n) registers testbed-filler-00001..n in the root's rpm database only
// (rpm -i --justdb; built by one rpmbuild of specs/filler.spec, 1,000 packages in about 1.5 s,
// once per Packages); Root.AddKernels(t, k) installs k extra kernel-core packages
// 5.14.0-427.0.N.el9_4 of the root's architecture (below Kernel94, so the bed's kernels stay
// the newest; kernel-uname-r provides, /lib/modules/KVER/vmlinuz, no kABI, no scriptlets).
// Both are idempotent: asking for more adds the rest.
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
