// Package verify checks an installed ZFS: Verify after apply (versions,
// module, autoload, services) and Guard before a kernel is booted (would
// ZFS work on it). Neither changes the host.
package verify

import (
	"fmt"
	"sort"
	"strings"

	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/spec"
	"github.com/zfsinstall/zfsinstall/update"
)

// Check is one post-install or guard check.
type Check struct {
	// ID names the check for machines, stable across releases and free of
	// versions and kernel releases ("userland-installed", "module-on-disk",
	// "service:zfs-zed.service"); Name and Detail are for people.
	ID     string `json:"id"`
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Skipped checks (e.g. the loaded module in a chroot) do not fail verify.
	Skipped bool `json:"skipped,omitempty"`
}

// Report is the outcome of verify or guard.
type Report struct {
	OK     bool    `json:"ok"`
	Checks []Check `json:"checks"`
	// HeldKernels are the kernels the kernel hold keeps from dnf (verify):
	// healthy, but kernel updates are waiting for OpenZFS.
	HeldKernels []string `json:"held_kernels,omitempty"`
}

// Verify runs the post-install checks against freshly gathered facts:
// module on disk and loaded, the three versions equal, autoload file,
// services. It changes nothing.
func Verify(f *facts.Facts, s *spec.Spec) Report {
	r := Report{OK: true}
	add := func(c Check) {
		if !c.OK && !c.Skipped {
			r.OK = false
		}
		r.Checks = append(r.Checks, c)
	}
	z := f.ZFS
	add(Check{ID: "userland-installed", Name: "userland installed", OK: z.Userland != "", Detail: orNone("zfs package", z.Userland)})
	if p, ok := f.Installed("zfs"); ok {
		var bad []string
		for _, a := range catalog.Unaccepted(p.Version, s.ZFS.AllowKnownBad) {
			bad = append(bad, fmt.Sprintf("%s: %s (%s). %s", a.ID, a.Impact, a.Source, a.Advice(p.Version)))
		}
		add(Check{ID: "no-known-bad-release", Name: "no known-bad release", OK: len(bad) == 0, Detail: map[bool]string{true: "OpenZFS " + p.Version + " has no known serious defect", false: "OpenZFS " + p.Version + " is affected by " + strings.Join(bad, "; ")}[len(bad) == 0]})
	}
	_, dk := f.Installed("zfs-dkms")
	_, km := f.Installed("kmod-zfs")
	add(Check{ID: "one-packaging", Name: "one packaging", OK: !(dk && km), Detail: map[bool]string{true: "zfs-dkms and kmod-zfs are both installed: kmod-zfs declares Conflicts: zfs-dkms; run zfsinstall apply to remove the one the spec does not use", false: "not both zfs-dkms and kmod-zfs"}[dk && km]})
	onDisk := Check{ID: "module-on-disk", Name: "module on disk", OK: z.ModuleOnDisk != "" && backends.SameVersion(z.ModuleOnDisk, z.Userland),
		Detail: fmt.Sprintf("modinfo -k %s: %s; userland %s", f.Kernel.Target, orNoneS(z.ModuleOnDisk), orNoneS(z.Userland))}
	if z.ModuleOnDisk == "" {
		onDisk.Detail = fmt.Sprintf("no zfs module for kernel %s (modprobe would say \"Module zfs not found in directory /lib/modules/%s\")", f.Kernel.Target, f.Kernel.Target)
	}
	add(onDisk)
	loaded := Check{ID: "module-loaded", Name: "module loaded", OK: z.ModuleLoaded != "" && backends.SameVersion(z.ModuleLoaded, z.Userland)}
	switch {
	case f.Chroot:
		loaded.Skipped, loaded.Detail = true, "not checked in a chroot or --root: the module loads at first boot"
	case f.Kernel.Target != f.Kernel.Running:
		loaded.Skipped, loaded.Detail = true, fmt.Sprintf("not checked: the target kernel %s is not running (running %s); reboot into it", f.Kernel.Target, f.Kernel.Running)
	case z.ModuleLoaded == "":
		loaded.Detail = "the zfs module is not loaded: run `modprobe zfs` (or zfsinstall apply with module.load = true)"
	case !loaded.OK:
		loaded.Detail = MismatchAdvice(z, f.Pools)
	default:
		loaded.Detail = "loaded " + z.ModuleLoaded
	}
	add(loaded)
	if c, ok := bootableKernels(f); ok {
		add(c)
	}
	if s.Module.Autoload {
		_, ok := f.Files[facts.ModulesLoadFile]
		add(Check{ID: "autoload", Name: "autoload", OK: ok, Detail: orMissing(facts.ModulesLoadFile, ok)})
	}
	if c, ok := kernelHold(f, s); ok {
		add(c)
		r.HeldKernels = update.HeldReleases(f.Files[update.HoldFile])
	}
	wanted := planner.WantedUnits(s.Services)
	units := make([]string, 0, len(wanted))
	for u, want := range wanted {
		if want {
			units = append(units, u)
		}
	}
	sort.Strings(units)
	for _, unit := range units {
		st := f.Services[unit]
		add(Check{ID: "service:" + unit, Name: "service " + unit, OK: st == facts.UnitEnabled, Detail: unit + " is " + orNoneS(string(st))})
	}
	return r
}

// MismatchAdvice says what differs between userland, module on disk and
// loaded module, and what to do about it.
func MismatchAdvice(z facts.ZFS, pools []string) string {
	msg := fmt.Sprintf("userland %s, module on disk %s, module loaded %s", orNoneS(z.Userland), orNoneS(z.ModuleOnDisk), orNoneS(z.ModuleLoaded))
	switch {
	case z.ModuleOnDisk != "" && !backends.SameVersion(z.ModuleOnDisk, z.Userland):
		return msg + ": the module on disk does not match the userland; reinstall the module package of the same version (zfsinstall apply)"
	case len(pools) > 0:
		return msg + fmt.Sprintf(": the loaded module is stale and pools are imported (%v): reboot to load the new module", pools)
	default:
		return msg + ": the loaded module is stale and no pool is imported: reload it (`modprobe -r zfs && modprobe zfs`, or zfsinstall apply) or reboot"
	}
}

func orNone(what, v string) string {
	if v == "" {
		return what + " not installed"
	}
	return what + " " + v
}

func orNoneS(v string) string {
	if v == "" {
		return "none"
	}
	return v
}

func orMissing(path string, ok bool) string {
	if ok {
		return path + " present"
	}
	return path + " missing"
}

// bootableKernels checks, in one check with a stable ID, that every other
// kernel with a boot entry has a zfs module of the userland's version:
// booting one without leaves the pools unimported. false when there is
// nothing to check (boot entries not read, no other bootable kernel).
func bootableKernels(f *facts.Facts) (Check, bool) {
	z := f.ZFS
	if !f.Kernel.BootEntriesRead || z.Userland == "" {
		return Check{}, false
	}
	c := Check{ID: "module-bootable-kernels", Name: "module for the other bootable kernels", OK: true}
	var good, bad []string
	for _, ik := range f.Kernel.Installed {
		if !ik.BootEntry || ik.Release == f.Kernel.Target {
			continue
		}
		switch {
		case ik.Module == "":
			bad = append(bad, ik.Release+": no zfs module")
		case !backends.SameVersion(ik.Module, z.Userland):
			bad = append(bad, ik.Release+": zfs module "+ik.Module+", not the userland's "+z.Userland)
		default:
			good = append(good, ik.Release+": zfs module "+ik.Module)
		}
	}
	if len(good)+len(bad) == 0 {
		return Check{}, false
	}
	c.Detail = strings.Join(good, "; ")
	if len(bad) > 0 {
		c.OK = false
		c.Detail = "kernels with a boot entry but " + strings.Join(bad, "; ") + ": booting one leaves the pools unimported. Apply with kernel.target = \"all\" (DKMS builds for every installed kernel), or remove a kernel that is not booted"
	}
	return c, true
}
