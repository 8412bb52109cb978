package verify

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/backends/kmod"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
)

// Guard says whether ZFS, as installed on h, would work after booting kver.
// It returns the checks made; any failed check means the next boot into
// kver would come up without ZFS. The rules are the planner's: a kmod fits
// a kernel when the kernel provides every kernel(SYMBOL) = HASH it
// requires (backends.FitKmod); DKMS builds for it when the release's META
// range covers it and no known build break hits it (backends.CheckDKMS) and
// its kernel-devel is installed; and the module modinfo resolves for kver is
// the userland's version and, for DKMS, built for kver itself.
func Guard(ctx context.Context, h host.Host, f *facts.Facts, kver string) Report {
	r := Report{OK: true}
	add := func(id, name string, ok bool, detail string) {
		r.OK = r.OK && ok
		r.Checks = append(r.Checks, Check{ID: id, Name: name, OK: ok, Detail: detail})
	}
	k := catalog.ClassifyKernel(kver, f.Kernel.Owner(kver))
	zfsPkg, hasZFS := f.Installed("zfs")
	if !hasZFS {
		add("zfs-installed", "zfs installed", false, "zfs is not installed: nothing to guard (run zfsinstall apply first)")
		return r
	}
	kmodPkg, hasKmod := f.Installed("kmod-zfs")
	dkmsPkg, hasDKMS := f.Installed("zfs-dkms")
	if !hasKmod && !hasDKMS {
		add("module-package-installed", "module package installed", false, "zfs "+zfsPkg.Version+" is installed but neither kmod-zfs nor zfs-dkms: no package provides the kernel module; run zfsinstall apply")
		return r
	}
	ik, installed := installedKernel(f, kver)
	if !installed {
		add("kernel-installed", "kernel installed", false, fmt.Sprintf("kernel %s is not in the rpm database, so what it provides cannot be read; guard it once it is installed (its kernel-install plugin does that)", kver))
		return r
	}
	if hasKmod {
		ok, why := kmod.Backend{}.Supports(f.Distro, k)
		add("kmod-packaging-fits", "kmod packaging fits "+kver, ok, why)
		if !ok {
			return r
		}
		fit := backends.FitKmod(kmodPkg, ik)
		detail := fmt.Sprintf("kernel %s provides all %d kernel symbols kmod-zfs %s requires, at the versions it was built against", kver, fit.Required, kmodPkg.Version)
		switch {
		case !fit.Known:
			detail = fmt.Sprintf("kmod-zfs %s states no kernel(SYMBOL) requirements to check, or they could not be read", kmodPkg.Version)
		case !fit.Fits():
			detail = fit.Describe(kmodPkg, kver) + "; keep booting a kernel it fits until OpenZFS publishes a rebuilt kmod-zfs, or switch to packaging = \"dkms\""
		}
		add("kmod-kabi-fits", "kmod-zfs "+kmodPkg.Version+" fits the kABI of "+kver, fit.Fits(), detail)
	}
	if hasDKMS {
		warn, err := backends.CheckDKMS(dkmsPkg.Version, k, nil)
		detail := "within the release's Linux-Minimum/Maximum, and no known build break on this kernel"
		switch {
		case err != nil:
			detail = err.Error()
		case warn != "":
			detail = warn
		}
		add("dkms-builds", "OpenZFS "+dkmsPkg.Version+" builds for "+kver, err == nil, detail)
		want := catalog.DevelNVRA(k)
		devel := false
		for _, q := range f.Packages {
			devel = devel || q.NVRA() == want
		}
		add("kernel-devel-installed", "kernel-devel for "+kver, devel, map[bool]string{true: want + " installed: dkms can build at kernel install", false: want + " is not installed: dkms cannot build the module for this kernel; install it (it provides kernel-devel-uname-r = " + kver + ")"}[devel])
	}
	if host.Exists(h, "/lib/modules/"+kver) {
		m := backends.ModuleInfo(ctx, h, kver)
		ok := m.Version != "" && backends.SameVersion(m.Version, zfsPkg.Version)
		detail := fmt.Sprintf("modinfo -k %s zfs: %s (userland %s)", kver, orNoneS(m.Version), zfsPkg.Version)
		if ok && hasDKMS && m.Vermagic != "" && m.Vermagic != kver {
			// weak-modules links every other kernel's extra/ modules into a
			// new kernel, DKMS builds included; 40-dkms.install exits 0 even
			// when the build for kver failed.
			ok = false
			detail += fmt.Sprintf(": %s was built for %s, not %s (a weak-modules link from another kernel's DKMS build): dkms did not build for this kernel; run dkms autoinstall -k %s and read its make.log", m.Filename, m.Vermagic, kver, kver)
		}
		add("module-on-disk", "module on disk for "+kver, ok, detail)
	}
	return r
}

func installedKernel(f *facts.Facts, rel string) (facts.InstalledKernel, bool) {
	for _, ik := range f.Kernel.Installed {
		if ik.Release == rel {
			return ik, true
		}
	}
	return facts.InstalledKernel{}, false
}

// HoldDefault keeps a kernel on which ZFS would not work from being the
// next boot: when kver is the default boot entry (grub2's 20-grub.install
// makes a new kernel the default with UPDATEDEFAULT=yes, before dkms even
// builds for it), the newest other installed kernel on which Guard passes
// becomes the default again (grubby --set-default, the BLS-aware grubby of
// EL8 and later; a grubenv tmp_saved_entry of the set-boot-entry plugin is
// unset too). kver stays installed and can be chosen at the boot menu.
// The check it returns says what it did.
func HoldDefault(ctx context.Context, h host.Host, f *facts.Facts, kver string) Check {
	c := Check{ID: "hold-default", Name: "default boot entry"}
	if f.Kernel.Default != kver {
		c.OK, c.Detail = true, fmt.Sprintf("the default boot entry is %s, not %s: nothing to hold back", orNoneS(f.Kernel.Default), kver)
		return c
	}
	prev := ""
	for i := len(f.Kernel.Installed) - 1; i >= 0 && prev == ""; i-- {
		if rel := f.Kernel.Installed[i].Release; rel != kver && Guard(ctx, h, f, rel).OK {
			prev = rel
		}
	}
	if prev == "" {
		c.Detail = fmt.Sprintf("%s is the default boot entry and no other installed kernel has a working ZFS to fall back to: boot it only after fixing ZFS for it (zfsinstall plan --kernel %s)", kver, kver)
		return c
	}
	if _, err := h.Run(ctx, host.Cmd{Argv: host.InRoot(h, "grubby", "--set-default", "/boot/vmlinuz-"+prev)}); err != nil {
		c.Detail = fmt.Sprintf("%s is the default boot entry and ZFS would not work on it, but making %s the default again failed: %v; set it by hand (grubby --set-default /boot/vmlinuz-%s)", kver, prev, err, prev)
		return c
	}
	if env, err := h.ReadFile("/boot/grub2/grubenv"); err == nil {
		if strings.Contains(string(env), "\ntmp_saved_entry=") {
			h.Run(ctx, host.Cmd{Argv: host.InRoot(h, "grub2-editenv", "-", "unset", "tmp_saved_entry")})
		}
		if saved := savedEntry(env); saved != "" && !strings.HasSuffix(saved, prev) {
			c.Detail = fmt.Sprintf("grubby --set-default /boot/vmlinuz-%s ran, but grubenv's saved_entry is still %s: set the default by hand; ZFS would not work on %s", prev, saved, kver)
			return c
		}
	}
	c.OK = true
	c.Detail = fmt.Sprintf("ZFS would not work on %s, so %s is the default boot entry again (grubby --set-default %s); %s stays installed and can be chosen at the boot menu once ZFS works on it (zfsinstall plan --kernel %s)",
		kver, prev, path.Join("/boot", "vmlinuz-"+prev), kver, kver)
	return c
}

// savedEntry reads saved_entry from a GRUB environment block.
func savedEntry(env []byte) string {
	for _, line := range strings.Split(string(env), "\n") {
		if v, ok := strings.CutPrefix(line, "saved_entry="); ok {
			return v
		}
	}
	return ""
}
