package facts

import (
	"bufio"
	"bytes"
	"context"
	"sort"
	"strings"

	"github.com/cavaliergopher/rpm"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/host"
)

// QF is the rpm/dnf query format Package lines are read from.
const QF = `%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\n`

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

// ParsePackages reads lines in the QF format; a sixth column is the repo.
func ParsePackages(out []byte) []Package {
	var pkgs []Package
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 5 {
			continue
		}
		p := Package{Name: c[0], Epoch: c[1], Version: c[2], Release: c[3], Arch: c[4]}
		if p.Epoch == "(none)" {
			p.Epoch = ""
		}
		if len(c) > 5 {
			p.Repo = c[5]
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// RPMArgs prefixes rpm arguments with --root when the host is an install
// root, and names the EL database path so a machine whose rpm defaults
// elsewhere (Debian: ~/.rpmdb) still reads the root's /var/lib/rpm.
func RPMArgs(h host.Host, args ...string) []string {
	argv := []string{"rpm"}
	if h.Root() != "/" {
		argv = append(argv, "--root", h.Root(), "--dbpath", "/var/lib/rpm")
	}
	return append(argv, args...)
}

// DNFArgs builds a dnf argv for the host: --installroot for a root, then
// the caller's extra arguments, then args.
func DNFArgs(h host.Host, extra []string, args ...string) []string {
	argv := []string{"dnf"}
	if h.Root() != "/" {
		argv = append(argv, "--installroot", h.Root())
	}
	argv = append(argv, extra...)
	return append(argv, args...)
}

// InRoot runs argv inside the host's root (chroot) when it is not "/":
// dkms needs the root's own files and programs.
func InRoot(h host.Host, argv ...string) []string {
	if h.Root() == "/" {
		return argv
	}
	return append([]string{"chroot", h.Root()}, argv...)
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

// ModinfoArgs asks for the version of the zfs module on disk for kver.
func ModinfoArgs(h host.Host, kver string) []string {
	argv := []string{"modinfo"}
	if h.Root() != "/" {
		argv = append(argv, "-b", h.Root())
	}
	return append(argv, "-k", kver, "-F", "version", "zfs")
}

// ModuleOnDisk returns the version of the zfs module modinfo resolves for
// kver, or "" when there is none.
func ModuleOnDisk(ctx context.Context, h host.Host, kver string) string {
	if kver == "" {
		return ""
	}
	res, err := h.Run(ctx, host.Cmd{Argv: ModinfoArgs(h, kver)})
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(res.Stdout))
}

// ParseDKMSStatus reads `dkms status` in both the DKMS 3 form
// ("zfs/2.2.7, 6.1.80-1.el9.elrepo.x86_64, x86_64: installed") and the DKMS 2
// form ("zfs, 2.2.7, 6.1.80-1.el9.elrepo.x86_64, x86_64: installed").
func ParseDKMSStatus(out []byte) []DKMSEntry {
	var entries []DKMSEntry
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		i := strings.LastIndex(line, ": ")
		if i < 0 {
			continue
		}
		head, state := line[:i], strings.TrimSpace(line[i+2:])
		fields := strings.Split(head, ", ")
		if m, v, ok := strings.Cut(fields[0], "/"); ok {
			fields = append([]string{m, v}, fields[1:]...)
		}
		e := DKMSEntry{Module: fields[0]}
		if st := strings.Fields(state); len(st) > 0 {
			e.State = st[0]
		}
		if len(fields) > 1 {
			e.Version = fields[1]
		}
		if len(fields) > 2 {
			e.Kernel = fields[2]
		}
		entries = append(entries, e)
	}
	return entries
}
