package planner

import (
	"fmt"
	"slices"
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
		} else if why, ok := pl.kmodFits(k); !ok {
			unsupported = append(unsupported, why)
		}
	}
	if pl.f.SecureBoot == facts.SecureBootEnabled {
		// The published kmods are not signed for the host's keys
		// (openzfs/zfs#15777, #16219): with Secure Boot enforcing the kernel
		// refuses them.
		unsupported = append(unsupported, "Secure Boot is enabled, and the kmod-zfs modules OpenZFS publishes are not signed with a key this host trusts (openzfs/zfs#15777), so loading them fails with \"Key was rejected by service\"; DKMS signs what it builds with its own MOK key, which zfsinstall enrols")
	}
	switch pl.s.ZFS.Packaging {
	case spec.PackagingKmod:
		if len(unsupported) > 0 {
			pl.errorf("zfs.packaging", "kmod packaging cannot work on this host",
				"%s. %s", strings.Join(unsupported, "; "), pl.kmodWaysOut())
			return false
		}
		pl.backend = km
		pl.p.PackagingReason = "packaging = \"kmod\" in the spec; " + pl.kmodReason()
	case spec.PackagingDKMS:
		pl.backend = dk
		pl.p.PackagingReason = "packaging = \"dkms\" in the spec: the module is built on this host for each target kernel against its exact kernel-devel"
	default:
		if len(unsupported) > 0 {
			pl.backend = dk
			pl.p.PackagingReason = "auto: " + unsupported[0] + "; DKMS builds the module on this host against the kernel's exact kernel-devel instead"
		} else {
			pl.backend = km
			pl.p.PackagingReason = "auto: " + pl.kmodReason()
		}
	}
	pl.p.Packaging = pl.backend.Name()
	pl.buildsDKMS = pl.backend.Name() == spec.PackagingDKMS
	if pl.buildsDKMS && !pl.s.Kernel.Devel {
		pl.errorf("kernel.devel", "DKMS needs kernel-devel",
			"kernel.devel = false, but DKMS compiles the module against the target kernel's headers (kernel-devel of exactly %s). Remove devel = false or use packaging = \"kmod\" on a stock kernel.", pl.p.TargetKernel)
	}
	return !pl.p.HasErrors()
}

// kmodReason says why kmod packaging suits the target kernels, with only
// what the evidence shows: the kernel is a distribution kernel and, where
// its symbols were read, the kmod's kernel(SYMBOL) requirements are all
// provided by it today. Nothing promises the next z-stream kernel keeps
// them (openzfs/zfs#16219), so the reason names what judges it.
func (pl *planner) kmodReason() string {
	var why []string
	for _, k := range pl.kernels {
		_, w := kmod.Backend{}.Supports(pl.f.Distro, k)
		why = append(why, w+"; "+pl.kmodEvidence(k))
	}
	return strings.Join(why, "; ") + ". A z-stream kernel can change symbols the kmod uses (openzfs/zfs#16219): each new kernel is judged before dnf installs it (check-update, kernel.hold) and when it is installed (guard)"
}

// kmodEvidence says what is known of the kmod's fit on kernel k.
func (pl *planner) kmodEvidence(k catalog.KernelInfo) string {
	ik, ok := pl.installedKernel(k.Release)
	for _, c := range pl.kmodCandidates() {
		if fit := backends.FitKmod(c, ik); ok && fit.Known && fit.Fits() {
			return fmt.Sprintf("it provides all %d kernel symbols kmod-zfs %s requires, at the versions it was built against", fit.Required, c.Version)
		}
	}
	return "apply checks the kmod-zfs it installs against this kernel's kernel(SYMBOL) provides first"
}

// kmodCandidates are the kmod-zfs packages kmod packaging could install:
// those the repositories offer within zfs.version, without an unaccepted
// advisory, newest first; or, when the repositories were not asked, the
// installed one.
func (pl *planner) kmodCandidates() []facts.Package {
	var out []facts.Package
	if pl.f.Available.Known {
		for _, p := range pl.f.Available.Packages {
			if p.Name == "kmod-zfs" && (pl.s.ZFS.Constraint == nil || pl.s.ZFS.Constraint.Check(mustVersion(p.Version))) &&
				len(catalog.Unaccepted(p.Version, pl.s.ZFS.AllowKnownBad)) == 0 {
				out = append(out, p)
			}
		}
		slices.SortFunc(out, func(a, b facts.Package) int { return facts.ComparePackages(b, a) })
	}
	if len(out) == 0 {
		if p, ok := pl.f.Installed("kmod-zfs"); ok {
			out = []facts.Package{p}
		}
	}
	return out
}

// kmodFits checks that some candidate kmod-zfs fits kernel k by its kABI:
// the kernel provides every kernel(SYMBOL) = HASH the kmod requires. That
// is what dnf enforces and weak-modules checks; "built for the same EL
// minor" is not (z-stream kernels broke kmods inside a minor,
// openzfs/zfs#16219, #14724; a minor's kmod can fit the next, #16271).
// With no kmod or no kernel symbols in the facts nothing is known and apply
// checks before it installs.
func (pl *planner) kmodFits(k catalog.KernelInfo) (string, bool) {
	ik, ok := pl.installedKernel(k.Release)
	if !ok {
		return "", true
	}
	why := ""
	for _, c := range pl.kmodCandidates() {
		fit := backends.FitKmod(c, ik)
		if fit.Fits() {
			return "", true
		}
		if why == "" {
			why = fit.Describe(c, k.Release)
		}
	}
	return why, why == ""
}

func (pl *planner) installedKernel(rel string) (facts.InstalledKernel, bool) {
	for _, ik := range pl.f.Kernel.Installed {
		if ik.Release == rel {
			return ik, true
		}
	}
	return facts.InstalledKernel{}, false
}

// kmodWaysOut names what an administrator can do when no kmod fits.
func (pl *planner) kmodWaysOut() string {
	if pl.f.SecureBoot == facts.SecureBootEnabled {
		return "Use packaging = \"dkms\" (or \"auto\"): DKMS signs what it builds, and zfsinstall requests the enrolment of its key."
	}
	for _, k := range pl.kernels {
		if k.Flavor != catalog.FlavorStock || k.Variant != catalog.VariantNone {
			return "Use packaging = \"dkms\" (or \"auto\"), or boot a distribution kernel."
		}
	}
	ways := []string{"use packaging = \"dkms\" (or \"auto\"), which builds the module for this kernel",
		"wait for OpenZFS to publish a kmod-zfs rebuilt for it (they rebuild after kABI-breaking kernel updates, openzfs/zfs#16219, #18566) and plan again with --refresh"}
	if ok := pl.newestFittingKernel(); ok != "" {
		ways = append(ways, fmt.Sprintf("keep booting %s, the newest installed kernel whose symbols the kmod fits (grubby --set-default /boot/vmlinuz-%s; plan for it with --kernel %s)", ok, ok, ok))
	}
	if m := pl.kernels[0].ELMinor; m != "" {
		ways = append(ways, fmt.Sprintf("if the kmods on offer were built for a newer minor release than this kernel's, take those built for EL %s from OpenZFS's epel/%s/ directory (dnf --releasever=%s, as the OpenZFS RHEL documentation describes), if they were published", m, m, m))
	}
	for i := range ways {
		ways[i] = fmt.Sprintf("(%d) %s", i+1, ways[i])
	}
	return "Ways out: " + strings.Join(ways, "; ") + "."
}

// newestFittingKernel is the newest installed kernel some candidate kmod
// fits by its kABI, "" when none is known to.
func (pl *planner) newestFittingKernel() string {
	cands := pl.kmodCandidates()
	for i := len(pl.f.Kernel.Installed) - 1; i >= 0; i-- {
		ik := pl.f.Kernel.Installed[i]
		for _, c := range cands {
			if fit := backends.FitKmod(c, ik); fit.Known && fit.Fits() {
				return ik.Release
			}
		}
	}
	return ""
}
