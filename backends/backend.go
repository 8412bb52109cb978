// Package backends defines the two ways of getting the zfs kernel module
// onto a host: DKMS (built on the host) and the kABI-tracking kmod (built
// upstream for one EL minor release). Implementations live in backends/dkms
// and backends/kmod.
package backends

import (
	"context"
	"fmt"
	"strings"

	"github.com/zfsinstall/zfsinstall/backends/dkms"
	"github.com/zfsinstall/zfsinstall/backends/kmod"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/spec"
)

// Backend is one packaging of the zfs kernel module.
type Backend interface {
	// Name is spec.PackagingDKMS or spec.PackagingKmod.
	Name() spec.Packaging
	// Supports says whether the backend can give kernel k a working module
	// on distro d; the reason is a sentence fit for a plan.
	Supports(d facts.Distro, k catalog.KernelInfo) (bool, string)
	// ModulePackage is the package carrying the module: zfs-dkms or kmod-zfs.
	ModulePackage() string
	// KmodRepos reports whether the -kmod twins of the zfs.repo sections are used.
	KmodRepos() bool
	// NeedsDevel reports whether the matching kernel-devel is required.
	NeedsDevel() bool
	// NeedsEPEL reports whether the backend needs packages from EPEL (dkms).
	NeedsEPEL() bool
	// Build makes the module for kernel kver from the installed package
	// version; a no-op where nothing is built on the host.
	Build(ctx context.Context, c *pkgmgr.Client, version, kver string) error
}

// For returns the backend of a packaging decided by the planner
// (spec.PackagingDKMS or spec.PackagingKmod).
func For(p spec.Packaging) Backend {
	if p == spec.PackagingDKMS {
		return dkms.Backend{}
	}
	return kmod.Backend{}
}

// Other returns the module package of the packaging that is not b.
func Other(b Backend) string {
	if b.ModulePackage() == "kmod-zfs" {
		return "zfs-dkms"
	}
	return "kmod-zfs"
}

// ModinfoArgs asks modinfo about the zfs module it resolves for kver.
func ModinfoArgs(h host.Host, kver string) []string {
	argv := []string{"modinfo"}
	if h.Root() != "/" {
		argv = append(argv, "-b", h.Root())
	}
	return append(argv, "-k", kver, "zfs")
}

// ModInfo is what modinfo says of the zfs module for a kernel.
type ModInfo struct {
	Filename string // /lib/modules/KVER/extra/zfs.ko.xz, .../weak-updates/zfs/zfs.ko
	Version  string // 2.2.7-1
	// Vermagic is the kernel the module was built for: the first field of
	// modinfo's vermagic ("6.1.80-1.el9.elrepo.x86_64"), "" when absent.
	Vermagic string
}

// ParseModinfo reads modinfo's "field: value" lines.
func ParseModinfo(out []byte) ModInfo {
	var m ModInfo
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "filename":
			m.Filename = v
		case "version":
			m.Version = v
		case "vermagic":
			if f := strings.Fields(v); len(f) > 0 {
				m.Vermagic = f[0]
			}
		}
	}
	return m
}

// ModuleOnDisk returns the version of the zfs module modinfo resolves for
// kver, or "" when there is none.
func ModuleOnDisk(ctx context.Context, h host.Host, kver string) string {
	return ModuleInfo(ctx, h, kver).Version
}

// VerifyModule proves the module for kver is on disk and is the version of
// the userland package: `modinfo -k KVER zfs` must resolve it. A DKMS build
// can "succeed" without producing a module; this is what tells.
func VerifyModule(ctx context.Context, h host.Host, kver, userland string) error {
	info := ModuleInfo(ctx, h, kver)
	got := info.Version
	if got == "" {
		return fmt.Errorf("no zfs module for kernel %s: `%s` finds none, so `modprobe zfs` would fail with \"Module zfs not found in directory /lib/modules/%s\"",
			kver, strings.Join(ModinfoArgs(h, kver), " "), kver)
	}
	if userland != "" && !SameVersion(got, userland) {
		return fmt.Errorf("zfs module for kernel %s is %s but the zfs userland is %s: they must match (mismatches make `zfs send` fail with \"invalid argument\")", kver, got, userland)
	}
	// Where the files are on the disk, a module whose symbols fit can still
	// be refused by the kernel (CheckLoadable).
	if m, err := ReadModuleABI(h, info.Filename); err == nil {
		if fail, failed := FirstFailure(CheckLoadable(m, kver, ReadKernelABI(h, kver)).Findings); failed {
			return fmt.Errorf("the zfs module for kernel %s would not load: %s", kver, fail.Detail)
		}
	}
	return nil
}

// SameVersion compares OpenZFS versions as the module and the package print
// them ("2.2.7-1" vs "2.2.7-1.el9" vs "2.2.7").
func SameVersion(a, b string) bool {
	return Short(a) == Short(b)
}

// Short reduces "2.2.7-1.el9" or "2.2.7-1" to "2.2.7".
func Short(v string) string {
	v, _, _ = strings.Cut(v, "-")
	return v
}
