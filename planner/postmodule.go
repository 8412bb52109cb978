package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/facts"
)

// dkmsBuilds plans one dkms install per target kernel.
func (pl *planner) dkmsBuilds() bool {
	if !pl.buildsDKMS {
		return true
	}
	ver := ""
	if p, ok := pl.f.Installed("zfs-dkms"); ok && !pl.installsModulePackage {
		ver = p.Version
	}
	for _, k := range pl.kernels {
		if ver != "" && pl.dkmsInstalled(ver, k.Release) {
			continue
		}
		shown := ver
		if shown == "" {
			shown = "(version installed above)"
		}
		pl.add(Step{ID: "dkms." + k.Release, Action: Create, Kind: KindDKMS,
			Summary: fmt.Sprintf("dkms install zfs %s for %s", shown, k.Release),
			Reason:  fmt.Sprintf("builds and installs the module for %s explicitly (-k), so the build is for the target kernel, not the kernel this command runs on; verified with modinfo afterwards", k.Release),
			DKMS:    &DKMSStep{Kernel: k.Release, Version: ver}})
		pl.buildPlanned = true
	}
	if pl.buildPlanned {
		pl.dkmsNotes()
	}
	return true
}

// dkmsNotes says what EPEL's dkms does beyond the builds zfsinstall asks
// for (Fedora/EPEL dkms.spec sets modprobe_on_install and, from 3.2.0,
// post_transaction in /etc/dkms/framework.conf; dell/dkms ships the
// kernel-install plugin 40-dkms.install, which exits 0 whatever the build
// did).
func (pl *planner) dkmsNotes() {
	if !pl.f.Chroot && !pl.s.Module.Load && pl.s.Module.Autoload && pl.p.TargetKernel == pl.f.Kernel.Running {
		pl.note("module.load = false, but EPEL's dkms loads the module after it builds it for the running kernel (modprobe_on_install restarts systemd-modules-load, which reads /etc/modules-load.d/zfs.conf); to prevent that, set modprobe_on_install=\"\" in a file under /etc/dkms/framework.conf.d/.")
	}
	pl.note("EPEL's dkms 3.2.0 and later regenerate the initramfs of every installed kernel after each dkms install (post_transaction=\"dracut --regenerate-all --force\"): a build takes that much longer.")
	if !pl.s.Guard.Enabled {
		pl.note("dkms builds the module for each kernel installed from now on (its kernel-install plugin 40-dkms.install), but a failed build does not stop the new kernel from becoming the next boot: guard { enabled = true } keeps such a kernel from being the default.")
	}
}

func (pl *planner) dkmsInstalled(ver, kver string) bool {
	for _, e := range pl.f.DKMS {
		if e.Module == "zfs" && e.Version == ver && e.Kernel == kver && e.State == "installed" {
			return true
		}
	}
	return false
}

// MOKKey is the key DKMS signs modules with (DKMS 3 makes it at the first build).
const MOKKey = "/var/lib/dkms/mok.pub"

// mok plans, with Secure Boot on and DKMS, the request to enrol DKMS's
// signing key. An unenrolled key means the module is refused at load with
// "Key was rejected by service". --root-pw makes the request without a
// prompt; someone still confirms it at the console (MokManager, with the
// root password) on the next boot.
func (pl *planner) mok() bool {
	if pl.f.SecureBoot != facts.SecureBootEnabled || !pl.buildsDKMS || pl.f.MOK == facts.MOKEnrolled {
		return true
	}
	pl.add(Step{ID: "mok.dkms", Action: Create, Kind: KindCommand,
		Summary: "request enrolment of DKMS's signing key (mokutil --import " + MOKKey + " --root-pw)",
		Reason: "Secure Boot is enabled: DKMS signs the module it builds with its MOK key, and the firmware accepts it only once the key is enrolled. " +
			"This queues the enrolment; at the next boot someone must confirm it at the console (MokManager asks for the root password). Until then loading the module fails with \"Key was rejected by service\"",
		Command: &CommandStep{Argv: []string{"mokutil", "--import", MOKKey, "--root-pw"},
			CheckArgv: []string{"mokutil", "--test-key", MOKKey}, CheckOutput: "is already enrolled"}})
	pl.mokPending = true
	return true
}

// initramfs keeps a ZFS initramfs working. When the initramfs carries zfs
// (zfs-dracut) or / is on ZFS, /etc/hostid must exist (zgenhostid, from the
// zfs package): the pools record the host id that imported them, and an
// initramfs without one cannot import the root pool cleanly. And when this
// plan changes the module, the initramfs of every kernel that keeps a
// module is rebuilt (dracut -f --kver), or the old module loads at boot,
// before the root filesystem is even mounted.
func (pl *planner) initramfs() bool {
	z := pl.f.ZFS
	_, dracutPlanned := pl.f.Installed("zfs-dracut")
	if !z.InInitramfs && !z.RootOnZFS && !dracutPlanned {
		return true
	}
	if !z.HostID {
		pl.add(Step{ID: "hostid", Action: Create, Kind: KindCommand,
			Summary: "create /etc/hostid (zgenhostid)",
			Reason:  "the initramfs carries zfs (or / is on ZFS), and pools record the host id that imported them: without /etc/hostid in the initramfs the root pool looks imported by another host at boot; zgenhostid (from the zfs package) writes one",
			Command: &CommandStep{Argv: []string{"zgenhostid"}, Creates: "/etc/hostid"}})
	}
	moduleChanges := pl.replacesModule || pl.buildPlanned
	if !(moduleChanges || !z.HostID) || !(z.InInitramfs || z.RootOnZFS) {
		return true
	}
	var why []string
	if moduleChanges {
		why = append(why, "after the module changes it must be rebuilt, or the old module loads at boot")
	}
	if !z.HostID {
		// zfs-dracut's module-setup.sh (contrib/dracut/90zfs) copies
		// /etc/hostid into the image when the image is built, and without
		// one makes one from `hostid` (gethostid(3): without /etc/hostid,
		// derived from the host's address): the image keeps its id until
		// it is rebuilt.
		why = append(why, "it must be rebuilt to carry the new /etc/hostid, which is copied in only when the image is built")
	}
	for _, k := range pl.initramfsKernels() {
		pl.add(Step{ID: "initramfs." + k, Action: Update, Kind: KindCommand,
			Summary: "rebuild the initramfs of " + k + " (dracut -f --kver " + k + ")",
			Reason:  "the initramfs of " + k + " carries the zfs module (zfs-dracut); " + strings.Join(why, "; and "),
			Command: &CommandStep{Argv: []string{"dracut", "-f", "--kver", k}}})
	}
	return true
}

// initramfsKernels are the target kernels and, with / on ZFS, every other
// kernel with a boot entry that keeps a zfs module after this plan.
func (pl *planner) initramfsKernels() []string {
	var out []string
	for _, k := range pl.kernels {
		out = append(out, k.Release)
	}
	if !pl.f.ZFS.RootOnZFS {
		return out
	}
	for _, ik := range pl.f.Kernel.Installed {
		if ik.BootEntry && !slices.Contains(out, ik.Release) && pl.worksAfter(ik) {
			out = append(out, ik.Release)
		}
	}
	return out
}

// otherKernels says which installed kernels with a boot entry, other than
// the targets, will have no working zfs module after this plan: booting
// one leaves the pools unimported. With DKMS, zfs-dkms's own scriptlets
// (rpm/generic/zfs-dkms.spec.in from 2.1.15/2.2.1: %pre removes every other
// version from all kernels, %post builds only for the running kernel) take
// the module from every kernel the plan does not build for when the plan
// replaces it; with kmod, weak-modules links it only into kernels whose kABI
// it fits.
func (pl *planner) otherKernels() bool {
	if !pl.f.Kernel.BootEntriesRead || len(pl.f.Kernel.Installed) == 0 {
		return true
	}
	target := map[string]bool{}
	for _, k := range pl.kernels {
		target[k.Release] = true
	}
	var without []string
	for _, ik := range pl.f.Kernel.Installed {
		if !ik.BootEntry || target[ik.Release] {
			continue
		}
		if !pl.worksAfter(ik) {
			without = append(without, ik.Release)
		}
	}
	if len(without) == 0 {
		return true
	}
	why := "DKMS builds the module only for the target kernels"
	if pl.buildsDKMS && pl.replacesModule {
		why = "installing zfs-dkms removes the module of every other version from every kernel (its %pre) and builds the new one only for the running kernel (its %post), and this plan builds it for the target kernels only"
	} else if !pl.buildsDKMS {
		why = "kmod-zfs reaches another kernel only where its kABI symbols fit (weak-modules)"
	}
	pl.warnf("kernel.target", fmt.Sprintf("%d kernel(s) with a boot entry will have no zfs module", len(without)),
		"%s: %s. Booting one of them leaves the pools unimported. Set kernel.target = \"all\" to build for every installed kernel, or remove the kernels you do not boot (dnf remove kernel-core-VERSION).",
		why, strings.Join(without, ", "))
	return true
}

// worksAfter says whether an installed kernel the plan does not target has
// a zfs module of the planned release after apply.
func (pl *planner) worksAfter(ik facts.InstalledKernel) bool {
	if !pl.buildsDKMS {
		for _, c := range pl.kmodCandidates() {
			if fit := backends.FitKmod(c, ik); fit.Known {
				return fit.Fits()
			}
		}
		return true // no kABI to compare: weak-modules decides when the kmod is installed
	}
	if pl.replacesModule {
		return false
	}
	return ik.Module != "" && backends.SameVersion(ik.Module, pl.f.ZFS.Userland)
}
