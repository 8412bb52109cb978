package main

import (
	"fmt"
	"slices"

	"github.com/zfsinstall/zfsinstall/apply"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/planner"
)

// rebootReasons says why the host must reboot for what an apply changed to
// take effect; none when it need not. It is exactly when the apply changed
// the zfs module or its packages under a running system (not a chroot or
// --root, which first boots later) and the running kernel keeps the old
// state until a reboot:
//
//   - the module was put on a target kernel that is not the running one
//     (kernel.target or --kernel: the next boot's kernel);
//   - a zfs module was loaded before the apply, the module or userland
//     packages changed, and the apply did not reload it (pools imported,
//     or module.load = false): the old module stays in the kernel;
//   - Secure Boot: the DKMS signing key's enrolment was requested; the
//     firmware enrolls it at the next boot, and the module loads only then.
//
// f are the facts the plan was made from (before the apply), res what the
// apply did (its Done steps, also when it stopped at a failure).
func rebootReasons(f *facts.Facts, p *planner.Plan, res *apply.Result) []string {
	if f == nil || p == nil || res == nil || f.Chroot {
		return nil
	}
	var moduleChanged, moduleLoadedNow, mok bool
	for _, s := range p.Steps {
		if !slices.Contains(res.Done, s.ID) {
			continue
		}
		switch {
		case s.Kind == planner.KindDKMS:
			moduleChanged = true
		case s.Package != nil && (s.Package.ZFS || s.Package.Name == "zfs-dkms" || s.Package.Name == "kmod-zfs"):
			moduleChanged = true
		case s.Kind == planner.KindModule:
			moduleLoadedNow = true
		case s.ID == "mok.dkms":
			mok = true
		}
	}
	var why []string
	switch {
	case moduleChanged && p.TargetKernel != f.Kernel.Running:
		why = append(why, fmt.Sprintf("the zfs module was installed for kernel %s, which is not the running kernel %s: reboot into it", p.TargetKernel, f.Kernel.Running))
	case moduleChanged && f.ZFS.ModuleLoaded != "" && !moduleLoadedNow:
		why = append(why, fmt.Sprintf("the zfs module loaded now (%s) was replaced on disk and not reloaded (pools are imported, or module.load is false): it stays in the kernel until a reboot", f.ZFS.ModuleLoaded))
	}
	if mok {
		why = append(why, "Secure Boot: the enrolment of DKMS's signing key was requested; confirm it at the console at the next boot, after which the module loads")
	}
	return why
}
