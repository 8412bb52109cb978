package planner

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/spec"
)

// WantedUnits maps each managed unit the spec decides to whether it wants
// it enabled (the verify unit is decided by services.verify_on_boot).
func WantedUnits(s spec.Services) map[string]bool {
	return map[string]bool{
		"zfs-import-cache.service": s.Import == "cache",
		"zfs-import-scan.service":  s.Import == "scan",
		"zfs-import.target":        s.Import != "none",
		"zfs-mount.service":        s.Mount,
		"zfs-share.service":        s.Share,
		"zfs-zed.service":          s.ZED,
		"zfs.target":               true,
	}
}

var unitReasons = map[string]string{
	"zfs-import-cache.service": "imports pools listed in /etc/zfs/zpool.cache at boot (services.import = \"cache\")",
	"zfs-import-scan.service":  "imports pools by scanning disks at boot (services.import = \"scan\")",
	"zfs-import.target":        "orders pool import before mounting",
	"zfs-mount.service":        "mounts ZFS filesystems at boot (services.mount)",
	"zfs-share.service":        "shares ZFS filesystems over NFS/SMB (services.share)",
	"zfs-zed.service":          "the ZFS event daemon: fault reporting and hot spares (services.zed)",
	"zfs.target":               "pulls the ZFS units into the boot",
	VerifyUnit:                 "runs zfsinstall verify at boot (services.verify_on_boot)",
	KernelHoldTimer:            "re-evaluates the kernel hold hourly (kernel.hold)",
}

// services plans unit enablement; units the zfs package has not installed
// yet are planned as they will be after it is.
func (pl *planner) services() bool {
	want := WantedUnits(pl.s.Services)
	if pl.s.Services.VerifyOnBoot || pl.f.Services[VerifyUnit] == facts.UnitEnabled {
		want[VerifyUnit] = pl.s.Services.VerifyOnBoot
	}
	if pl.p.KernelHold || pl.f.Services[KernelHoldTimer] == facts.UnitEnabled {
		want[KernelHoldTimer] = pl.p.KernelHold
	}
	for _, u := range slices.Sorted(maps.Keys(want)) {
		enabled := pl.f.Services[u] == facts.UnitEnabled
		switch {
		case want[u] && !enabled:
			pl.add(Step{ID: "service." + u, Action: Create, Kind: KindService, Summary: "enable " + u, Reason: unitReasons[u],
				Service: &ServiceStep{Unit: u, Enabled: true}})
		case !want[u] && enabled:
			pl.add(Step{ID: "service." + u, Action: Delete, Kind: KindService, Summary: "disable " + u, Reason: "the spec does not ask for it: " + unitReasons[u],
				Service: &ServiceStep{Unit: u}})
		}
	}
	return true
}

// module plans loading the module now, or says why not.
func (pl *planner) module() bool {
	if !pl.s.Module.Load {
		return true
	}
	z := pl.f.ZFS
	switch {
	case pl.f.Chroot:
		pl.note("installing into a chroot or --root: the module is not loaded now; it loads at the first boot of %s (module.autoload).", pl.p.TargetKernel)
		return true
	case pl.p.TargetKernel != pl.f.Kernel.Running:
		pl.note("the target kernel %s is not the running kernel %s: the module loads after a reboot into it.", pl.p.TargetKernel, pl.f.Kernel.Running)
		return true
	case pl.mokPending:
		pl.note("Secure Boot: the module is not loaded now; it would be refused (\"Key was rejected by service\") until DKMS's key is enrolled at the next boot, after which it loads (module.autoload).")
		return true
	}
	want := z.Userland
	if ver := exactVersion(pl.s); ver != "" {
		want = ver
	}
	switch {
	case z.ModuleLoaded == "":
		pl.add(Step{ID: "module.zfs", Action: Create, Kind: KindModule, Summary: "load the zfs module (modprobe zfs)",
			Reason: "module.load = true; loading now proves the module works on the running kernel", Module: &ModuleStep{}})
	case want != "" && !backends.SameVersion(z.ModuleLoaded, want) || pl.replacesModule:
		if len(pl.f.Pools) > 0 {
			if pl.replacesModule {
				pl.warnf("", "reboot required after apply: the loaded zfs module is "+z.ModuleLoaded,
					"this plan replaces the zfs packages; the module loaded now (%s) stays in the kernel until it is unloaded, and pools are imported (%s), so it cannot be reloaded safely: reboot into %s after apply. Until then userland and loaded module differ, and `zfs send` and other ioctls may fail with \"invalid argument\".",
					z.ModuleLoaded, strings.Join(pl.f.Pools, ", "), pl.p.TargetKernel)
				return true
			}
			pl.warnf("", "reboot required: the loaded zfs module is "+z.ModuleLoaded,
				"the zfs module loaded now is %s but the userland is %s (module on disk: %s). Pools are imported (%s), so the module cannot be reloaded safely: reboot into %s. Until then `zfs send` and other ioctls may fail with \"invalid argument\".",
				z.ModuleLoaded, orUnknown(want), orUnknown(z.ModuleOnDisk), strings.Join(pl.f.Pools, ", "), pl.p.TargetKernel)
			return true
		}
		newer := "userland " + orUnknown(want)
		if pl.replacesModule {
			newer = "to the module installed above"
		}
		pl.add(Step{ID: "module.zfs", Action: Update, Kind: KindModule, Before: z.ModuleLoaded, After: want,
			Summary: fmt.Sprintf("reload the zfs module (loaded %s, %s)", z.ModuleLoaded, newer),
			Reason:  "the loaded module must match the userland; no pool is imported (zpool list is empty), so it is safe to unload and load the new module now instead of rebooting",
			Module:  &ModuleStep{Reload: true}})
	}
	return true
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
