package backends

import (
	"fmt"

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
