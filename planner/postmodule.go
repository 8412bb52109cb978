package planner

import (
	"fmt"

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
	return true
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

// initramfs rebuilds the initramfs of each target kernel when it carries
// zfs and this plan changes the module: a stale initramfs would load the
// old module at boot, before the root filesystem is even mounted.
func (pl *planner) initramfs() bool {
	if !pl.f.ZFS.InInitramfs || !(pl.replacesModule || pl.buildPlanned) {
		return true
	}
	for _, k := range pl.kernels {
		pl.add(Step{ID: "initramfs." + k.Release, Action: Update, Kind: KindCommand,
			Summary: "rebuild the initramfs of " + k.Release + " (dracut -f --kver " + k.Release + ")",
			Reason:  "the initramfs of " + k.Release + " carries the zfs module (zfs-dracut); after the module changes it must be rebuilt, or the old module loads at boot",
			Command: &CommandStep{Argv: []string{"dracut", "-f", "--kver", k.Release}}})
	}
	return true
}
