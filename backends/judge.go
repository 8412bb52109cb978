package backends

import (
	"fmt"
	"strings"

	"github.com/zfsinstall/zfsinstall/backends/kmod"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
)

// Prospect is a kernel whose ZFS prospects are judged: installed, or
// offered by a repository (the update pre-flight, the kernel hold).
type Prospect struct {
	Info catalog.KernelInfo
	// Symbols are the kernel's kernel(SYMBOL) = CRC provides (from the rpm
	// database, or from the repository metadata for an offered kernel);
	// SymbolsKnown says they were read.
	Symbols      map[string]string
	SymbolsKnown bool
	// ABI is what the kernel's own files on the disk say; nil when they
	// are not on the disk (an offered kernel): the checks that need them
	// wait for the kernel to be installed (the guard makes them then).
	ABI *KernelABI
	// Devel says whether the kernel-devel of exactly this kernel is there
	// for DKMS: installed (guard), or offered by an enabled repository
	// (the pre-flight: EPEL's dkms pulls kernel-devel-matched with
	// kernel-core, and dnf upgrades an installed kernel-lt-devel).
	Devel bool
	// DevelInstalled says Devel was asked of the rpm database (installed),
	// not of the repositories (offered).
	DevelInstalled bool
	// Module is the version of the zfs module the kernel has on its disk
	// now ("" none): a DKMS build of that version is already done there.
	Module string
}

// Module is the module packaging a kernel is judged against: what is
// installed, or what will be installed once a pending update ran.
type Module struct {
	Distro facts.Distro
	// Kmod is the kmod-zfs package with its requirements (nil: none).
	Kmod *facts.Package
	// KmodABI is read from the kmod's module file on the disk; nil when it
	// is not on the disk (an offered kmod not installed yet).
	KmodABI *ModuleABI
	// DKMS is the zfs-dkms package with its requirements (nil: none).
	DKMS *facts.Package
}

// Judge says whether ZFS would work on kernel k with module packaging m,
// one finding per check; every caller (plan, apply, verify, guard, the
// update pre-flight and the kernel hold) judges kernels here. A finding
// that could not be made for lack of evidence is OK with Made false, and
// its Detail says what was missing.
//
// kmod: the kernel is a distribution kernel (kmod.Backend.Supports); it
// provides every kernel(SYMBOL) = CRC the kmod requires (FitKmod: what dnf
// resolves and weak-modules checks); and, where the files are on the disk,
// the module loads there (CheckLoadable: build kernel, module_layout,
// struct module). DKMS: the release builds there (CheckDKMS: META range
// and known breaks; the package's own kernel requirements), and the exact
// kernel-devel is there.
func Judge(m Module, k Prospect) []Finding {
	var out []Finding
	add := func(id string, ok, made bool, detail string) {
		out = append(out, Finding{ID: id, OK: ok, Made: made, Detail: detail})
	}
	if m.Kmod != nil {
		ok, why := kmod.Backend{}.Supports(m.Distro, k.Info)
		add("kmod-packaging-fits", ok, true, why)
		if !ok {
			return out
		}
		fit := FitKmod(*m.Kmod, facts.InstalledKernel{Release: k.Info.Release, Symbols: k.Symbols, SymbolsRead: k.SymbolsKnown})
		switch {
		case !fit.Known && len(KmodSymbols(m.Kmod.Requires)) == 0:
			add("kmod-kabi-fits", true, false, fmt.Sprintf("kmod-zfs %s states no kernel(SYMBOL) requirements to check, or they could not be read", m.Kmod.Version))
		case !fit.Known:
			add("kmod-kabi-fits", true, false, fmt.Sprintf("the kernel(SYMBOL) provides of %s were not read", k.Info.Release))
		case !fit.Fits():
			add("kmod-kabi-fits", false, true, fit.Describe(*m.Kmod, k.Info.Release))
		default:
			add("kmod-kabi-fits", true, true, fmt.Sprintf("kernel %s provides all %d kernel symbols kmod-zfs %s requires, at the versions it was built against", k.Info.Release, fit.Required, m.Kmod.Version))
		}
		switch {
		case m.KmodABI == nil:
			for _, id := range []string{"kmod-build-kernel", "kmod-module-layout", "kmod-struct-module"} {
				add(id, true, false, "kmod-zfs "+m.Kmod.Version+"'s module is not on the disk yet: checked once it is installed (guard, verify)")
			}
		case k.ABI == nil:
			out = append(out, CheckBuildKernel(m.KmodABI.Vermagic, k.Info.Release))
			for _, id := range []string{"kmod-module-layout", "kmod-struct-module"} {
				add(id, true, false, "kernel "+k.Info.Release+"'s files are not on the disk yet: checked by the guard once it is installed")
			}
		default:
			out = append(out, CheckLoadable(*m.KmodABI, k.Info.Release, *k.ABI).Findings...)
		}
	}
	if m.DKMS != nil && k.Module != "" && SameVersion(k.Module, m.DKMS.Version) {
		add("dkms-builds", true, true, "the zfs module "+k.Module+" is already built and installed for "+k.Info.Release)
		return out
	}
	if m.DKMS != nil {
		warn, err := CheckDKMS(m.DKMS.Version, k.Info, nil)
		if err == nil {
			err = CheckRequires("zfs-dkms "+m.DKMS.Version, ParseKernelRequires(strings.Join(m.DKMS.Requires, "\n")), k.Info)
		}
		switch {
		case err != nil:
			add("dkms-builds", false, true, err.Error())
		case warn != "":
			add("dkms-builds", true, true, warn)
		default:
			add("dkms-builds", true, true, "OpenZFS "+m.DKMS.Version+" is within its Linux-Minimum/Maximum on "+k.Info.Release+", and no known build break hits it")
		}
		want := catalog.DevelNVRA(k.Info)
		id, where := "kernel-devel-offered", "offered by an enabled repository"
		if k.DevelInstalled {
			id, where = "kernel-devel-installed", "installed"
		}
		if k.Devel {
			add(id, true, true, want+" is "+where+": dkms can build the module for "+k.Info.Release)
		} else {
			add(id, false, true, want+" is not "+where+": dkms cannot build the module for "+k.Info.Release+" (it needs the headers of exactly that kernel, kernel-devel-uname-r = "+k.Info.Release+"); install it, or keep booting a kernel ZFS works on")
		}
	}
	return out
}

// Works reports whether no finding speaks against ZFS on the kernel.
func Works(findings []Finding) bool {
	for _, f := range findings {
		if !f.OK {
			return false
		}
	}
	return true
}

// FirstFailure is the first finding that speaks against the kernel.
func FirstFailure(findings []Finding) (Finding, bool) {
	for _, f := range findings {
		if !f.OK {
			return f, true
		}
	}
	return Finding{}, false
}
