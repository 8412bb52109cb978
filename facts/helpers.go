package facts

import (
	"sort"
	"strings"

	"github.com/cavaliergopher/rpm"
	"github.com/zfsinstall/zfsinstall/catalog"
)

// Installed reports the installed package with this name (the newest when
// several versions are installed), or false.
func (f *Facts) Installed(name string) (Package, bool) {
	var best Package
	found := false
	for _, p := range f.Packages {
		if p.Name == name && (!found || ComparePackages(p, best) > 0) {
			best, found = p, true
		}
	}
	return best, found
}

// ComparePackages orders two packages by EVR with rpm's rules.
func ComparePackages(a, b Package) int {
	return rpm.CompareVersions(a.EVR(), b.EVR())
}

// SortPackages orders packages by name, then EVR.
func SortPackages(pkgs []Package) {
	sort.Slice(pkgs, func(i, j int) bool {
		if pkgs[i].Name != pkgs[j].Name {
			return pkgs[i].Name < pkgs[j].Name
		}
		return ComparePackages(pkgs[i], pkgs[j]) < 0
	})
}

// EVR renders [epoch:]version-release.
func (p Package) EVR() string {
	if p.Epoch != "" && p.Epoch != "0" {
		return p.Epoch + ":" + p.Version + "-" + p.Release
	}
	return p.Version + "-" + p.Release
}

// NVRA renders name-version-release.arch, the form dnf and rpm accept.
func (p Package) NVRA() string {
	return p.Name + "-" + p.Version + "-" + p.Release + "." + p.Arch
}

// kernelPackages maps the package that owns a kernel image to the uname -r
// suffix its variant adds.
var kernelPackages = map[string]string{
	"kernel-core": "", "kernel": "", "kernel-lt-core": "", "kernel-ml-core": "", "kernel-lt": "", "kernel-ml": "",
	"kernel-uek-core": "", "kernel-uek": "", "kernel-rt-core": "+rt", "kernel-debug-core": "+debug",
	"kernel-64k-core": "+64k", "kernel-64k-debug-core": "+64k-debug",
}

// InstalledKernels lists the kernels in the package set, oldest first. EL8+
// split kernel into a meta package and kernel-core naming the same release;
// the -core package is recorded as the owner.
func InstalledKernels(pkgs []Package) []InstalledKernel {
	idx := map[string]int{}
	var out []InstalledKernel
	for _, p := range pkgs {
		suffix, ok := kernelPackages[p.Name]
		if !ok {
			continue
		}
		if suffix == "+rt" && strings.Contains(p.Release, ".rt") {
			suffix = "" // EL8 RT kernels carry .rtN in the release, not +rt
		}
		rel := p.Version + "-" + p.Release + "." + p.Arch + suffix
		if i, seen := idx[rel]; seen {
			if strings.HasSuffix(p.Name, "-core") {
				out[i].Package = p.Name
			}
			continue
		}
		idx[rel] = len(out)
		out = append(out, InstalledKernel{Release: rel, Package: p.Name})
	}
	for i := range out {
		info := catalog.ClassifyKernel(out[i].Release, out[i].Package)
		out[i].Flavor, out[i].Variant, out[i].ELMinor = info.Flavor, info.Variant, info.ELMinor
	}
	sort.SliceStable(out, func(i, j int) bool {
		return rpm.CompareVersions(out[i].Release, out[j].Release) < 0
	})
	return out
}

// Owner names the package that installed kernel release rel ("kernel-lt-core"),
// or "" when it is not in the rpm database.
func (k Kernel) Owner(rel string) string {
	for _, ik := range k.Installed {
		if ik.Release == rel {
			return ik.Package
		}
	}
	return ""
}
