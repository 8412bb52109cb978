package catalog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Values of KernelPackages.Checked.
const (
	CheckedSpec       = "spec"       // read in the kernel spec its Source names
	CheckedConvention = "convention" // that spec was not at hand: names follow the spec macros of the others
)

// KernelPackages are the packages of one kernel flavor and variant on one
// distribution, from kernel-packages.tsv.
type KernelPackages struct {
	Flavor  Flavor
	Variant Variant
	Dist    string // "el7" ... "el10", "fedora"
	// Core holds the kernel image: "kernel-core", "kernel-rt-debug-core",
	// "kernel-lt-core"; on EL7 (and ELRepo EL7) the kernel package itself.
	Core string
	// Devel holds the headers DKMS builds against: "kernel-rt-debug-devel".
	Devel string
	// DevelMatched pins Devel to the same build as Core ("kernel-devel-matched");
	// "" where the distribution's spec has none (EL7, EL8, UEK, ELRepo EL7/8).
	DevelMatched string
	// UnameRProvides are the names Core provides with the kernel's uname -r as
	// version, the flavor's own first ("kernel-uname-r", "kernel-lt-uname-r").
	// Empty when not confirmed.
	UnameRProvides []string
	// DevelUnameRProvides are the same for Devel ("kernel-devel-uname-r").
	DevelUnameRProvides []string
	Checked             string // CheckedSpec or CheckedConvention
	Source              string // source key and note from the file
}

// kernelPkgRow is one row of kernel-packages.tsv before it is resolved for
// an architecture.
type kernelPkgRow struct {
	pkgs KernelPackages
	// provides and develProvides keep "name@arch" entries.
	provides, develProvides []string
}

// kernelPkgKey finds a row.
type kernelPkgKey struct {
	flavor  Flavor
	variant Variant
	dist    string
}

var kernelDists = []string{"el7", "el8", "el9", "el10", "fedora"}

var kernelFlavors = []Flavor{FlavorStock, FlavorStream, FlavorELRepoLT, FlavorELRepoML, FlavorUEK, FlavorFedora}

var kernelVariants = []Variant{VariantNone, VariantDebug, VariantRT, VariantRTDebug, Variant64k, Variant64kDebug}

// KernelPackagesFor returns the packages of kernel k: its flavor and
// variant on its distribution (ELMajor or FedoraRelease), with the provides
// that only exist on other architectures than k.Arch left out. ok is false
// when kernel-packages.tsv has no row for it (FlavorOther, an unknown
// distribution, a variant the flavor does not build).
func KernelPackagesFor(k KernelInfo) (KernelPackages, bool) {
	row, ok := data().kernelPkgs[kernelPkgKey{k.Flavor, k.Variant, kernelDist(k)}]
	if !ok {
		return KernelPackages{}, false
	}
	p := row.pkgs
	p.UnameRProvides = forArch(row.provides, k.Arch)
	p.DevelUnameRProvides = forArch(row.develProvides, k.Arch)
	return p, true
}

// CorePackage names the package holding kernel k's image. Without a row in
// kernel-packages.tsv it follows the spec convention: <prefix>[-variant]-core
// (<prefix>[-variant] on EL7), the prefix being kernel, kernel-lt, kernel-ml
// or kernel-uek by flavor.
func CorePackage(k KernelInfo) string {
	if p, ok := KernelPackagesFor(k); ok {
		return p.Core
	}
	if k.ELMajor == 7 {
		return conventionName(k, "")
	}
	return conventionName(k, "-core")
}

// DevelPackage names the kernel-devel package matching kernel k:
// "kernel-rt-debug-devel" for an EL9 rt-debug kernel, "kernel-lt-devel" for
// ELRepo kernel-lt. Without a row it follows the spec convention
// <prefix>[-variant]-devel (FlavorOther: "kernel-devel").
func DevelPackage(k KernelInfo) string {
	if p, ok := KernelPackagesFor(k); ok {
		return p.Devel
	}
	return conventionName(k, "-devel")
}

// DevelMatchedPackage names the devel-matched meta package for kernel k
// ("kernel-devel-matched", "kernel-rt-devel-matched", "kernel-lt-devel-matched"),
// or "" when its distribution has none or the kernel has no row.
func DevelMatchedPackage(k KernelInfo) string {
	p, _ := KernelPackagesFor(k)
	return p.DevelMatched
}

// DevelNVRA is the name-version-release.arch of exactly kernel k's devel
// package: "kernel-rt-debug-devel-5.14.0-427.13.1.el9_4.x86_64" for uname -r
// "5.14.0-427.13.1.el9_4.x86_64+rt-debug". The variant suffix of uname -r
// ("+rt-debug", or EL7's ".debug" after the arch) is not part of the
// package's version. "" for an empty release.
func DevelNVRA(k KernelInfo) string {
	vra := kernelVRA(k)
	if vra == "" {
		return ""
	}
	return DevelPackage(k) + "-" + vra
}

// DevelMatchedNVRA is DevelNVRA for the devel-matched package, "" when k has
// none.
func DevelMatchedNVRA(k KernelInfo) string {
	name, vra := DevelMatchedPackage(k), kernelVRA(k)
	if name == "" || vra == "" {
		return ""
	}
	return name + "-" + vra
}

// UnameRProvide is the flavor's own name for what kernel k's core package
// provides with its uname -r as version: "kernel-uname-r" for distribution
// kernels, "kernel-lt-uname-r" / "kernel-ml-uname-r" for ELRepo,
// "kernel-uek-uname-r" for UEK. "" when not confirmed or without a row.
func UnameRProvide(k KernelInfo) string {
	p, _ := KernelPackagesFor(k)
	if len(p.UnameRProvides) == 0 {
		return ""
	}
	return p.UnameRProvides[0]
}

// ProvidesKernelUnameR reports whether kernel k's core package provides
// kernel-uname-r, which zfs-dkms from 2.2.8 and 2.3.2 requires in its
// supported range: distribution kernels and ELRepo's EL7 kernels do; ELRepo
// kernels on EL8 and later, and UEK on x86_64, do not.
func ProvidesKernelUnameR(k KernelInfo) bool {
	p, _ := KernelPackagesFor(k)
	return slices.Contains(p.UnameRProvides, "kernel-uname-r")
}

// kernelVRA is version-release.arch of k's packages: uname -r without its
// variant suffix.
func kernelVRA(k KernelInfo) string {
	rel := strings.TrimSpace(k.Release)
	rel, _, _ = strings.Cut(rel, "+")
	if head, ok := strings.CutSuffix(rel, "."+k.Arch+".debug"); ok && k.Arch != "" {
		rel = head + "." + k.Arch
	}
	return rel
}

// conventionName is <prefix>[-variant]<suffix> for k's flavor.
func conventionName(k KernelInfo, suffix string) string {
	prefix := "kernel"
	switch k.Flavor {
	case FlavorELRepoLT:
		prefix = "kernel-lt"
	case FlavorELRepoML:
		prefix = "kernel-ml"
	case FlavorUEK:
		prefix = "kernel-uek"
	}
	if k.Variant != "" {
		prefix += "-" + string(k.Variant)
	}
	return prefix + suffix
}

// kernelDist is the dist key of k: "el9", "fedora", or "".
func kernelDist(k KernelInfo) string {
	switch {
	case k.FedoraRelease > 0:
		return "fedora"
	case k.ELMajor > 0:
		return "el" + strconv.Itoa(k.ELMajor)
	}
	return ""
}

// forArch keeps the names of provides that exist on arch: plain names, and
// "name@arch" entries for that arch.
func forArch(provides []string, arch string) []string {
	var out []string
	for _, p := range provides {
		name, only, scoped := strings.Cut(p, "@")
		if !scoped || only == arch {
			out = append(out, name)
		}
	}
	return out
}

func parseKernelPackages(b []byte) (map[kernelPkgKey]kernelPkgRow, error) {
	const name = "kernel-packages.tsv"
	rows, err := readTSV(name, b, []string{"flavors", "variant", "dists", "core", "devel", "devel_matched",
		"uname_r_provides", "devel_uname_r_provides", "checked", "source"})
	if err != nil {
		return nil, err
	}
	out := map[kernelPkgKey]kernelPkgRow{}
	for _, row := range rows {
		f := row.fields
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, row.line, fmt.Sprintf(format, args...))
		}
		variant := Variant(f[1])
		if !slices.Contains(kernelVariants, variant) {
			return nil, bad("variant %q is not one of %q", variant, kernelVariants)
		}
		p := KernelPackages{Variant: variant, Core: f[3], Devel: f[4], DevelMatched: f[5], Checked: f[8], Source: f[9]}
		if p.DevelMatched == "-" {
			p.DevelMatched = ""
		}
		for _, pkg := range []string{p.Core, p.Devel} {
			if !strings.HasPrefix(pkg, "kernel") || strings.ContainsAny(pkg, " @") {
				return nil, bad("package %q is not a kernel package name", pkg)
			}
		}
		if !strings.HasSuffix(p.Devel, "-devel") || (p.DevelMatched != "" && p.DevelMatched != p.Devel+"-matched") {
			return nil, bad("devel %q / devel_matched %q do not follow <name>-devel / <name>-devel-matched", p.Devel, f[5])
		}
		if p.Checked != CheckedSpec && p.Checked != CheckedConvention {
			return nil, bad("checked %q is not %q or %q", p.Checked, CheckedSpec, CheckedConvention)
		}
		if strings.TrimSpace(p.Source) == "" {
			return nil, bad("source is empty")
		}
		r := kernelPkgRow{pkgs: p}
		for i, col := range []*[]string{&r.provides, &r.develProvides} {
			text := f[6+i]
			if text == "-" {
				continue
			}
			for _, pr := range strings.Fields(text) {
				n, _, _ := strings.Cut(pr, "@")
				if !strings.HasPrefix(n, "kernel") || !strings.HasSuffix(n, "uname-r") {
					return nil, bad("provide %q is not a *uname-r name", pr)
				}
				*col = append(*col, pr)
			}
		}
		dists, flavors := strings.Fields(f[2]), strings.Fields(f[0])
		if len(dists) == 0 || len(flavors) == 0 {
			return nil, bad("flavors and dists must not be empty")
		}
		for _, name := range flavors {
			fl := Flavor(name)
			if !slices.Contains(kernelFlavors, fl) {
				return nil, bad("flavor %q is not one of %q", fl, kernelFlavors)
			}
			for _, d := range dists {
				if !slices.Contains(kernelDists, d) {
					return nil, bad("dist %q is not one of %q", d, kernelDists)
				}
				key := kernelPkgKey{fl, variant, d}
				if _, dup := out[key]; dup {
					return nil, bad("%s %q on %s listed twice", fl, variant, d)
				}
				one := r
				one.pkgs.Flavor, one.pkgs.Dist = fl, d
				out[key] = one
			}
		}
	}
	return out, nil
}

// KernelPackageNames lists every package name of a kernel or its headers
// that kernel-packages.tsv knows, meta packages included ("kernel",
// "kernel-core", "kernel-rt-debug-devel", "kernel-lt", ...), sorted: the
// names fact gathering asks rpm for.
func KernelPackageNames() []string {
	var names []string
	for _, row := range data().kernelPkgs {
		p := row.pkgs
		for _, n := range []string{p.Core, strings.TrimSuffix(p.Core, "-core"), p.Devel, p.DevelMatched} {
			if n != "" && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	return names
}
