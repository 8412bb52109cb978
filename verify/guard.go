package verify

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
)

// Guard says whether ZFS, as installed on h, would work after booting kver.
// It returns the checks made; any failed check means the next boot into
// kver would come up without ZFS. The rules are backends.Judge's, the ones
// plan, apply and the update pre-flight use: a kmod fits a kernel when the
// kernel provides every kernel(SYMBOL) = HASH it requires and its module
// loads there (build kernel, module_layout, struct module: the kernel's
// files are on the disk by the time the guard runs); DKMS builds for it
// when the release's META range covers it, no known build break hits it
// and its kernel-devel is installed; and the module modinfo resolves for
// kver is the userland's version and, for DKMS, built for kver itself.
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
	m := backends.Module{Distro: f.Distro}
	if hasKmod {
		m.Kmod = &kmodPkg
		m.KmodABI = backends.KmodModuleABI(h, kmodPkg.Version)
	}
	if hasDKMS {
		m.DKMS = &dkmsPkg
	}
	abi := backends.ReadKernelABI(h, kver)
	want := catalog.DevelNVRA(k)
	p := backends.Prospect{Info: k, Symbols: ik.Symbols, SymbolsKnown: ik.SymbolsRead, ABI: &abi, DevelInstalled: true,
		Devel: slices.ContainsFunc(f.Packages, func(q facts.Package) bool { return q.NVRA() == want })}
	for _, fd := range backends.Judge(m, p) {
		if fd.ID == "kmod-kabi-fits" && !fd.OK {
			fd.Detail += "; keep booting a kernel it fits until OpenZFS publishes a rebuilt kmod-zfs, or switch to packaging = \"dkms\""
		}
		add(fd.ID, judgeNames[fd.ID](m, kver), fd.OK, fd.Detail)
		r.Checks[len(r.Checks)-1].Skipped = !fd.Made
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

// judgeNames are the human names of backends.Judge's findings.
var judgeNames = map[string]func(m backends.Module, kver string) string{
	"kmod-packaging-fits": func(_ backends.Module, kver string) string { return "kmod packaging fits " + kver },
	"kmod-kabi-fits": func(m backends.Module, kver string) string {
		return "kmod-zfs " + m.Kmod.Version + " fits the kABI of " + kver
	},
	"kmod-build-kernel":  func(_ backends.Module, kver string) string { return "kmod built for " + kver + " or older" },
	"kmod-module-layout": func(_ backends.Module, kver string) string { return "module_layout of " + kver },
	"kmod-struct-module": func(_ backends.Module, kver string) string { return "struct module of " + kver },
	"dkms-builds": func(m backends.Module, kver string) string {
		return "OpenZFS " + m.DKMS.Version + " builds for " + kver
	},
	"kernel-devel-installed": func(_ backends.Module, kver string) string { return "kernel-devel for " + kver },
	"kernel-devel-offered":   func(_ backends.Module, kver string) string { return "kernel-devel for " + kver + " offered" },
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
	prev := previousWorking(ctx, h, f, kver)
	if prev == "" {
		c.Detail = fmt.Sprintf("%s is the default boot entry and no other installed kernel has a working ZFS to fall back to: boot it only after fixing ZFS for it (zfsinstall plan --kernel %s)", kver, kver)
		return c
	}
	if err := setDefault(ctx, h, prev); err != nil {
		c.Detail = fmt.Sprintf("%s is the default boot entry and ZFS would not work on it, but making %s the default again failed: %v", kver, prev, err)
		return c
	}
	c.OK = true
	c.Detail = fmt.Sprintf("ZFS would not work on %s, so %s is the default boot entry again (grubby --set-default %s); %s stays installed and can be chosen at the boot menu once ZFS works on it (zfsinstall plan --kernel %s)",
		kver, prev, path.Join("/boot", "vmlinuz-"+prev), kver, kver)
	return c
}

// previousWorking is the newest installed kernel other than kver on which
// Guard passes, "" when there is none.
func previousWorking(ctx context.Context, h host.Host, f *facts.Facts, kver string) string {
	for i := len(f.Kernel.Installed) - 1; i >= 0; i-- {
		if rel := f.Kernel.Installed[i].Release; rel != kver && Guard(ctx, h, f, rel).OK {
			return rel
		}
	}
	return ""
}

// setDefault makes kver the default boot entry with grubby (the BLS-aware
// grubby of EL8 and later), unsets a grubenv tmp_saved_entry of the
// set-boot-entry plugin, and checks grubenv's saved_entry says so.
func setDefault(ctx context.Context, h host.Host, kver string) error {
	if _, err := h.Run(ctx, host.Cmd{Argv: host.InRoot(h, "grubby", "--set-default", "/boot/vmlinuz-"+kver)}); err != nil {
		return fmt.Errorf("%w; set it by hand (grubby --set-default /boot/vmlinuz-%s)", err, kver)
	}
	if env, err := h.ReadFile("/boot/grub2/grubenv"); err == nil {
		if strings.Contains(string(env), "\ntmp_saved_entry=") {
			h.Run(ctx, host.Cmd{Argv: host.InRoot(h, "grub2-editenv", "-", "unset", "tmp_saved_entry")})
		}
		if saved := savedEntry(env); saved != "" && !strings.HasSuffix(saved, kver) {
			return fmt.Errorf("grubby --set-default /boot/vmlinuz-%s ran, but grubenv's saved_entry is still %s: set the default by hand", kver, saved)
		}
	}
	return nil
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
