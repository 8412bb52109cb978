package planner

import (
	"strings"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/update"
)

// KernelHoldTimer is the kernel hold's timer unit.
const KernelHoldTimer = facts.KernelHoldTimer

// kernelHold plans the kernel hold (kernel.hold, on by default): the units
// that re-evaluate it hourly and right before dnf-automatic installs
// updates, and, when the spec turns it off, lifting it. What it holds is
// not planned: it depends on what the repositories offer at the moment,
// so apply re-evaluates it after its steps, as the timer does (Plan.KernelHold).
//
// On by default because the administrator who runs dnf-automatic (or
// `dnf upgrade` from a nightly job) is the one who loses the pools at the
// next reboot, and a kernel ZFS would not survive is the only thing held:
// every other update, and every kernel that passes, flows. A held kernel is
// visible in plan, verify, check-update and the journal.
func (pl *planner) kernelHold() bool {
	want := pl.s.Kernel.Hold
	if want && pl.f.Kernel.BootLoader == facts.BootImageMode {
		pl.note("kernel.hold: this is an image-mode (bootc) host: kernels come with the image (bootc upgrade), not from dnf, so there is nothing for the hold to keep from dnf. Judge the image's kernel when it is built (zfsinstall plan in the image build).")
		want = false
	}
	units := map[string]string{
		facts.KernelHoldService:     render("zfsinstall-kernel-hold.service", pl.binary()),
		facts.KernelHoldTimerFile:   render("zfsinstall-kernel-hold.timer", pl.binary()),
		facts.KernelHoldDropInDNF4:  render("dnf-automatic-kernel-hold.conf", pl.binary()),
		facts.KernelHoldDropInDNF4I: render("dnf-automatic-kernel-hold.conf", pl.binary()),
		facts.KernelHoldDropInDNF5:  render("dnf-automatic-kernel-hold.conf", pl.binary()),
	}
	why := map[string]string{
		facts.KernelHoldService:     "kernel.hold: `zfsinstall hold` asks the repositories which kernels they offer, judges each with the installed module packaging (kABI symbols, DKMS build, kernel-devel offered) and keeps exactly the kernels ZFS would not survive out of dnf's reach (excludepkgs= in /etc/dnf/dnf.conf); it runs " + pl.binary(),
		facts.KernelHoldTimerFile:   "kernel.hold: re-evaluates the hold hourly, so it is lifted as soon as a kmod-zfs that fits the held kernel, or a DKMS release that builds there, is offered",
		facts.KernelHoldDropInDNF4:  "kernel.hold: dnf-automatic (dnf 4) re-evaluates the hold right before it installs updates",
		facts.KernelHoldDropInDNF4I: "kernel.hold: dnf-automatic-install (dnf 4) re-evaluates the hold right before it installs updates",
		facts.KernelHoldDropInDNF5:  "kernel.hold: dnf5-automatic re-evaluates the hold right before it installs updates",
	}
	for _, p := range facts.KernelHoldUnitFiles {
		pl.file(p, want, units[p], why[p], 0)
	}
	rec, err := update.ParseHoldFile(pl.f.Files[update.HoldFile])
	_, recorded := pl.f.Files[update.HoldFile]
	switch {
	case err != nil:
		pl.errorf("kernel.hold", "the kernel hold's record cannot be read", "%v", err)
		return false
	case !want && recorded:
		held := rec.Releases()
		summary := "lift the kernel hold"
		if len(held) > 0 {
			summary += " of " + strings.Join(held, ", ")
		}
		pl.add(Step{ID: "kernel-hold", Action: Delete, Kind: KindKernelHold, Summary: summary,
			Reason: "kernel.hold = false: zfsinstall's exclusions leave /etc/dnf/dnf.conf (the administrator's stay) and " + update.HoldFile + " is removed",
			Before: pl.f.Files[update.HoldFile], KernelHold: &KernelHoldStep{Held: held}})
	case want:
		pl.p.KernelHold = true
		if len(rec.Held) == 0 {
			pl.note("kernel.hold: no kernel is held; apply re-evaluates the hold from the repositories after its steps, and zfsinstall-kernel-hold.timer hourly (zfsinstall check-update shows the pending update judged now).")
		}
		for _, k := range rec.Held {
			pl.note("kernel.hold: kernel %s is held back from dnf (%d packages excluded in /etc/dnf/dnf.conf): %s", k.Release, len(k.Packages), k.Reason)
		}
	}
	return true
}

// guardBootLoader refuses guard.enabled where the guard cannot hold the
// default boot entry back: it does that with grubby, which manages GRUB's
// default only.
func (pl *planner) guardBootLoader() {
	if !pl.s.Guard.Enabled {
		return
	}
	switch bl := pl.f.Kernel.BootLoader; bl {
	case facts.BootSystemdBoot, facts.BootUKI:
		pl.errorf("guard.enabled", "the guard cannot work with this host's boot loader",
			"this host boots with %s: the guard moves the default boot entry back with grubby, which manages GRUB's default only, not systemd-boot's (loader.conf's default, or the LoaderEntryDefault EFI variable `bootctl set-default` writes), and zfsinstall does not pretend it can. kernel.hold (on by default) keeps dnf from installing a kernel ZFS would not survive, before it reaches the boot loader; remove guard.enabled, or set the default by hand with bootctl when the guard's check (zfsinstall guard --kernel REL) fails.", bl)
	case facts.BootImageMode:
		pl.errorf("guard.enabled", "the guard cannot work on an image-mode host",
			"this is an image-mode (bootc) host: its kernel comes with the image and the previous image stays bootable (bootc rollback); kernel-install plugins and grubby do not apply. Judge the kernel when the image is built (zfsinstall plan in the Containerfile) and remove guard.enabled.")
	}
}
