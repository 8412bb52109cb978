package backends

import (
	"fmt"
	"strings"

	"github.com/cavaliergopher/rpm"

	"github.com/hashicorp/go-version"
	"github.com/zfsinstall/zfsinstall/catalog"
)

// CheckKernel says whether OpenZFS zfsVersion can build for kernel k, from
// the release's Linux-Minimum/Maximum (META). A refusal names the releases
// that would work and how to get them. Stock EL kernels report an old
// upstream version (5.14) with newer code backported, so for them the
// number is necessary, not sufficient: the published kmod for the minor is
// the authority there.
func CheckKernel(zfsVersion string, k catalog.KernelInfo, constraint version.Constraints) error {
	if k.Upstream == "" {
		return nil // unparseable release: nothing to compare
	}
	rel, ok := catalog.LookupRelease(zfsVersion)
	if !ok {
		return nil // newer than the embedded table: cannot tell, do not refuse
	}
	if rel.SupportsKernel(k.Upstream) {
		return nil
	}
	msg := fmt.Sprintf("OpenZFS %s supports Linux %s to %s (its META file), but kernel %s is Linux %s: a DKMS build would fail minutes in, after the packages are installed",
		Short(zfsVersion), rel.LinuxMin, rel.LinuxMax, k.Release, k.Upstream)
	oldest, _ := catalog.OldestSupporting(k.Upstream)
	newest, okNew := catalog.NewestSupporting(k.Upstream, nil)
	switch {
	case !okNew:
		return fmt.Errorf("%s; no OpenZFS release supports Linux %s yet: boot a kernel OpenZFS supports (e.g. the distribution kernel or ELRepo kernel-lt)", msg, k.Upstream)
	case constraint != nil:
		if inC, ok := catalog.NewestSupporting(k.Upstream, constraint); ok {
			return fmt.Errorf("%s; OpenZFS %s (allowed by zfs.version) supports it: enable the section that carries it, zfs.repo = %q", msg, inC.Version, inC.Branch())
		}
		return fmt.Errorf("%s; releases from %s (newest %s) support it, but zfs.version excludes them: widen zfs.version and set zfs.repo = %q (or \"latest\")", msg, oldest.Version, newest.Version, newest.Branch())
	default:
		return fmt.Errorf("%s; releases from %s (newest %s) support it: set zfs.repo = %q (or \"latest\") so dnf offers them", msg, oldest.Version, newest.Version, newest.Branch())
	}
}

// KernelRequirement is one versioned requirement a zfs-dkms package puts on
// the kernel ("kernel-devel <= 6.12.999").
type KernelRequirement struct {
	Name, Op, Version string
}

// ParseKernelRequires picks the kernel-devel and kernel-uname-r requirements
// out of `dnf repoquery --requires` output, one requirement a line.
func ParseKernelRequires(out string) []KernelRequirement {
	var reqs []KernelRequirement
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && (f[0] == "kernel-devel" || f[0] == "kernel-uname-r") && strings.ContainsAny(f[1], "<>=") {
			reqs = append(reqs, KernelRequirement{Name: f[0], Op: f[1], Version: f[2]})
		}
	}
	return reqs
}

// CheckRequires tests kernel k against a package's own kernel requirements:
// the authority where the package metadata is at hand, since it is what dnf
// and the build enforce. kernel-uname-r is compared with the full release,
// kernel-devel with version-release.
func CheckRequires(pkg string, reqs []KernelRequirement, k catalog.KernelInfo) error {
	evr := strings.TrimSuffix(k.Release, "."+k.Arch)
	if i := strings.IndexByte(evr, '+'); i >= 0 {
		evr = evr[:i]
	}
	for _, r := range reqs {
		have := evr
		if r.Name == "kernel-uname-r" {
			have = k.Release
		}
		if !strings.Contains(r.Version, "-") {
			have, _, _ = strings.Cut(have, "-") // no release in the requirement: versions only, as rpm compares
		}
		c := rpm.CompareVersions(have, r.Version)
		ok := map[string]bool{"<": c < 0, "<=": c <= 0, "=": c == 0, ">=": c >= 0, ">": c > 0}[r.Op]
		if !ok {
			return fmt.Errorf("%s requires %s %s %s, and kernel %s does not meet it: the package cannot be installed for this kernel, or its DKMS build would fail", pkg, r.Name, r.Op, r.Version, k.Release)
		}
	}
	return nil
}
