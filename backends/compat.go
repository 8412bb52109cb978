package backends

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cavaliergopher/rpm"
	"github.com/hashicorp/go-version"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
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

// CheckDKMS says whether DKMS can build OpenZFS v for kernel k and the
// module works there: the release's META range (CheckKernel), and, for
// stock EL and CentOS Stream kernels, where Red Hat backports break builds
// inside that range, the known breaks with their upstream reports
// (catalog/data/dkms-breaks.tsv). A release that builds but trips a kernel
// warning when it loads is a warning, not a refusal. The refusal names the
// first releases that work.
func CheckDKMS(v string, k catalog.KernelInfo, constraint version.Constraints) (warning string, err error) {
	if err := CheckKernel(v, k, constraint); err != nil {
		return "", err
	}
	b, ok := catalog.DKMSBuildBreak(v, k)
	if !ok {
		return "", nil
	}
	what := "does not build"
	if b.Failure == catalog.FailureLoad {
		what = "builds but trips a kernel warning when the module loads"
	}
	msg := fmt.Sprintf("OpenZFS %s %s on %s such as %s (%s: %s)", Short(v), what, kernelGroup(b, k), k.Release, ShortSource(b.Sources[0]), b.Evidence)
	way := firstWorking(k, constraint)
	if b.Failure == catalog.FailureLoad {
		return msg + "; " + way, nil
	}
	return "", fmt.Errorf("%s: a DKMS build would fail minutes in, after the packages are installed; %s", msg, way)
}

// kernelGroup names the kernels a break row covers, for messages.
func kernelGroup(b catalog.BuildBreak, k catalog.KernelInfo) string {
	if k.Flavor == catalog.FlavorStream {
		return fmt.Sprintf("CentOS Stream %d kernels", k.ELMajor)
	}
	return "EL " + k.ELMinor + " kernels"
}

// firstWorking names, per branch, the first release that builds on k, and
// the newest release zfs.version allows that does.
func firstWorking(k catalog.KernelInfo, constraint version.Constraints) string {
	var parts []string
	for _, fix := range catalog.DKMSFirstBuildingAll(k) {
		if fix.None {
			parts = append(parts, "no "+fix.Branch+" release")
		} else {
			parts = append(parts, fix.First.Version.String()+" on "+fix.Branch)
		}
	}
	way := "the first releases that work there: " + strings.Join(parts, ", ")
	if r, ok := catalog.NewestDKMSBuilding(k, constraint); ok && len(constraint) > 0 {
		return way + fmt.Sprintf("; OpenZFS %s (allowed by zfs.version) does: set zfs.repo = %q (or \"latest\") so dnf offers it", r.Version, r.Branch())
	} else if ok {
		return way + fmt.Sprintf("; set zfs.version to a release that works (newest: %s) and zfs.repo = %q (or \"latest\")", r.Version, r.Branch())
	}
	return way + "; none of them is allowed by zfs.version: widen it"
}

// ShortSource writes an openzfs/zfs issue, pull request or commit URL the
// way maintainers cite them: openzfs/zfs#16746, openzfs/zfs@c1848f7261.
func ShortSource(url string) string {
	rest, ok := strings.CutPrefix(url, "https://github.com/")
	if !ok {
		return url
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 4 {
		return url
	}
	repo := parts[0] + "/" + parts[1]
	switch parts[2] {
	case "issues", "pull":
		return repo + "#" + parts[3]
	case "commit":
		return repo + "@" + parts[3][:min(10, len(parts[3]))]
	}
	return url
}

// KmodFit is how a kmod-zfs package fits a kernel by its kABI: a kmod fits
// when the kernel provides every kernel(SYMBOL) = HASH the kmod requires.
// That is what dnf enforces when it installs the kmod and what weak-modules
// checks when it links the kmod into a newer kernel.
type KmodFit struct {
	// Known is false when the kmod's requirements or the kernel's provides
	// were not read: nothing can be said.
	Known bool
	// Required counts the kmod's kernel(SYMBOL) requirements.
	Required int
	// Missing are the required symbols the kernel does not provide at the
	// required hash, sorted.
	Missing []string
}

// Fits reports whether nothing speaks against the kmod on the kernel.
func (f KmodFit) Fits() bool { return !f.Known || len(f.Missing) == 0 }

// FitKmod checks kmod's kernel(SYMBOL) requirements against kernel k's
// provides, as read into the facts.
func FitKmod(kmod facts.Package, k facts.InstalledKernel) KmodFit {
	syms := KmodSymbols(kmod.Requires)
	if len(syms) == 0 || !k.SymbolsRead {
		return KmodFit{}
	}
	f := KmodFit{Known: true, Required: len(syms)}
	for sym, hash := range syms {
		if k.Symbols[sym] != hash {
			f.Missing = append(f.Missing, sym)
		}
	}
	slices.Sort(f.Missing)
	return f
}

// KmodSymbols picks the kernel(SYMBOL) = HASH requirements out of a
// package's requirements: symbol -> hash.
func KmodSymbols(requires []string) map[string]string {
	out := map[string]string{}
	for _, r := range requires {
		name, hash, ok := strings.Cut(r, " = ")
		sym, isSym := strings.CutPrefix(name, "kernel(")
		if ok && isSym && strings.HasSuffix(sym, ")") {
			out[strings.TrimSuffix(sym, ")")] = strings.TrimSpace(hash)
		}
	}
	return out
}

// Describe says why a kmod does not fit a kernel, naming a few symbols.
func (f KmodFit) Describe(kmod facts.Package, kernel string) string {
	names := f.Missing
	more := ""
	if len(names) > 3 {
		more = fmt.Sprintf(" and %d more", len(names)-3)
		names = names[:3]
	}
	return fmt.Sprintf("kmod-zfs %s requires %d kernel symbols and kernel %s does not provide %d of them at the versions it was built against (%s%s): dnf would refuse it or pull in an older kernel-core that provides them (openzfs/zfs#17987), and the module would not load (openzfs/zfs#16219)",
		kmod.Version, f.Required, kernel, len(f.Missing), strings.Join(names, ", "), more)
}
