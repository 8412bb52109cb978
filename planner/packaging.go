package planner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/backends/dkms"
	"github.com/zfsinstall/zfsinstall/backends/kmod"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/spec"
)

// choosePackaging picks DKMS or kmod and says why.
func (pl *planner) choosePackaging() bool {
	d := pl.f.Distro
	km, dk := kmod.Backend{}, dkms.Backend{}
	var unsupported []string
	for _, k := range pl.kernels {
		if ok, why := km.Supports(d, k); !ok {
			unsupported = append(unsupported, why)
		} else if why, ok := pl.kmodPublished(k); !ok {
			unsupported = append(unsupported, why)
		}
	}
	switch pl.s.ZFS.Packaging {
	case spec.PackagingKmod:
		if len(unsupported) > 0 {
			way := "or keep booting a kernel of a minor release that has a kmod until OpenZFS publishes one"
			for _, k := range pl.kernels {
				if k.Flavor != catalog.FlavorStock || k.Variant != catalog.VariantNone {
					way = "or boot a distribution kernel"
				}
			}
			pl.errorf("zfs.packaging", "kmod packaging cannot work on this host",
				"%s. Use packaging = \"dkms\" (or \"auto\"), %s.", strings.Join(unsupported, "; "), way)
			return false
		}
		pl.backend = km
		pl.p.PackagingReason = "packaging = \"kmod\" in the spec; " + lastReason(km, d, pl.kernels)
	case spec.PackagingDKMS:
		pl.backend = dk
		pl.p.PackagingReason = "packaging = \"dkms\" in the spec: the module is built on this host for each target kernel against its exact kernel-devel"
	default:
		if len(unsupported) > 0 {
			pl.backend = dk
			pl.p.PackagingReason = "auto: " + unsupported[0] + "; DKMS builds the module on this host against the kernel's exact kernel-devel instead"
		} else {
			pl.backend = km
			pl.p.PackagingReason = "auto: " + lastReason(km, d, pl.kernels)
		}
	}
	pl.p.Packaging = pl.backend.Name()
	pl.buildsDKMS = pl.backend.Name() == spec.PackagingDKMS
	if pl.buildsDKMS && !pl.s.Kernel.Devel {
		pl.errorf("kernel.devel", "DKMS needs kernel-devel",
			"kernel.devel = false, but DKMS compiles the module against the target kernel's headers (kernel-devel of exactly %s). Remove devel = false or use packaging = \"kmod\" on a stock kernel.", pl.p.TargetKernel)
	}
	if pl.f.SecureBoot == facts.SecureBootEnabled && !pl.buildsDKMS {
		pl.warnf("zfs.packaging", "Secure Boot is enabled and kmod-zfs is not signed for this host",
			"the published kmod-zfs modules are not signed with a key this host trusts, so loading them fails with \"Key was rejected by service\". Use packaging = \"dkms\" (DKMS signs with its own MOK key) or enrol the signing key yourself.")
	}
	return !pl.p.HasErrors()
}

func lastReason(b backends.Backend, d facts.Distro, ks []catalog.KernelInfo) string {
	var why []string
	for _, k := range ks {
		_, w := b.Supports(d, k)
		why = append(why, w)
	}
	return strings.Join(why, "; ")
}

// kmodPublished checks, where the repositories have been asked, that some
// offered kmod-zfs was built for the kernel's EL minor release. A new point
// release comes out before OpenZFS publishes its kmod; installing the old
// minor's kmod then fails at modprobe, or makes dnf pull an older kernel.
func (pl *planner) kmodPublished(k catalog.KernelInfo) (string, bool) {
	if !pl.f.Available.Known {
		return "", true
	}
	minors := map[string]string{}
	for _, p := range pl.f.Available.Packages {
		if p.Name == "kmod-zfs" && p.Kernel != "" {
			minors[catalog.ClassifyKernel(p.Kernel, "").ELMinor] = p.Kernel
		}
	}
	if len(minors) == 0 {
		return "", true // no kmod offered yet (zfs-kmod not enabled): apply checks again
	}
	if _, ok := minors[k.ELMinor]; ok {
		return "", true
	}
	var built []string
	for m, kv := range minors {
		built = append(built, fmt.Sprintf("EL %s (%s)", m, kv))
	}
	sort.Strings(built)
	return fmt.Sprintf("kernel %s is EL %s, but the kmod-zfs packages on offer are built for %s: no kABI-tracking kmod is published for EL %s yet (a new point release comes out before OpenZFS rebuilds; openzfs/zfs#18566), and the old one fails at modprobe or makes dnf pull an older kernel",
		k.Release, k.ELMinor, strings.Join(built, ", "), k.ELMinor), false
}
