package planner

import (
	"fmt"
	"strings"

	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
)

// packages plans the package transaction: kernel-devel of each target,
// dkms, zfs and its module package, and the removal of the other packaging.
func (pl *planner) packages() bool {
	needDevel := pl.backend.NeedsDevel()
	if !needDevel {
		_, written := pl.s.Ranges["kernel.devel"]
		needDevel = written && pl.s.Kernel.Devel
	}
	if needDevel {
		for _, k := range pl.kernels {
			pl.devel(k)
		}
	}
	pl.develOffered()
	if pl.buildsDKMS {
		pl.develMatched()
		if _, ok := pl.f.Installed("dkms"); !ok {
			pl.add(Step{ID: "package.dkms", Action: Create, Kind: KindPackage, Txn: txnPackages,
				Summary: "install dkms", Reason: "zfs-dkms hands the module source to dkms, which builds it for each kernel",
				Package: &PackageStep{Name: "dkms"}})
		}
	}
	pl.zfsPackages()
	return true
}

// devel plans the kernel-devel of exactly kernel k.
func (pl *planner) devel(k catalog.KernelInfo) {
	nvra := DevelNVRA(k)
	if pl.installed(nvra) {
		return
	}
	st := Step{ID: "package." + nvra, Action: Create, Kind: KindPackage, Txn: txnPackages,
		Summary: "install " + nvra,
		Reason:  fmt.Sprintf("provides kernel-devel-uname-r = %s: DKMS must build against exactly the target kernel's headers, not the newest kernel-devel", k.Release),
		Package: &PackageStep{Name: develPackage(k), NVRA: nvra}}
	if !pl.buildsDKMS {
		st.Reason = fmt.Sprintf("kernel.devel = true: headers of exactly the target kernel %s", k.Release)
	}
	if k.Flavor == catalog.FlavorELRepoLT || k.Flavor == catalog.FlavorELRepoML {
		if !pl.hasRepo("elrepo-kernel") {
			pl.errorf("kernel.target", "no elrepo-kernel repository for "+nvra,
				"kernel %s is an ELRepo kernel; its headers (%s) come from ELRepo's elrepo-kernel repository, which no file in /etc/yum.repos.d defines. Install elrepo-release (dnf install https://www.elrepo.org/elrepo-release-%d.el%d.elrepo.noarch.rpm) and plan again.",
				k.Release, nvra, pl.f.Distro.Major, pl.f.Distro.Major)
			return
		}
		st.Package.EnableRepos = []string{"elrepo-kernel"}
		st.Reason += "; ELRepo keeps it in elrepo-kernel, enabled for this transaction only (--enablerepo=elrepo-kernel), never left enabled"
	}
	pl.add(st)
}

// develPackage names the kernel-devel package matching kernel k.
func develPackage(k catalog.KernelInfo) string {
	name := "kernel-devel"
	switch k.Flavor {
	case catalog.FlavorELRepoLT:
		name = "kernel-lt-devel"
	case catalog.FlavorELRepoML:
		name = "kernel-ml-devel"
	case catalog.FlavorUEK:
		name = "kernel-uek-devel"
	}
	switch k.Variant {
	case catalog.VariantRT:
		name = "kernel-rt-devel"
	case catalog.VariantDebug:
		name = "kernel-debug-devel"
	case catalog.Variant64k:
		name = "kernel-64k-devel"
	}
	return name
}

// DevelNVRA is the exact kernel-devel package for kernel release kver.
func DevelNVRA(k catalog.KernelInfo) string {
	rel := k.Release
	if i := strings.IndexByte(rel, '+'); i >= 0 {
		rel = rel[:i]
	}
	return develPackage(k) + "-" + rel
}

func (pl *planner) installed(nvra string) bool {
	for _, p := range pl.f.Packages {
		if p.NVRA() == nvra {
			return true
		}
	}
	return false
}

// develOffered refuses, when the repositories have been asked, a plan whose
// kernel-devel is not offered any more: mirrors drop old z-stream kernels'
// packages once a newer kernel is out. (Apply checks again either way.)
func (pl *planner) develOffered() {
	if !pl.f.Available.Known {
		return
	}
	offered := map[string]bool{}
	for _, p := range pl.f.Available.Packages {
		offered[p.NVRA()] = true
	}
	for _, st := range pl.p.Steps {
		pkg := st.Package
		if pkg == nil || pkg.NVRA == "" || offered[pkg.NVRA] {
			continue
		}
		if len(pkg.EnableRepos) > 0 {
			continue // offered by a repo that is enabled only for the transaction; apply asks it
		}
		pl.errorf("kernel.target", pkg.NVRA+" is not offered by any enabled repository", "%s", develGone(pkg.NVRA, false))
	}
}

// develGone explains that the mirrors no longer carry a kernel-devel and
// names the two ways out (at plan time or at apply).
func develGone(nvra string, atApply bool) string {
	again, nothing := "plan again", "."
	if atApply {
		again, nothing = "run zfsinstall apply again", ". Nothing was installed in this transaction."
	}
	return "DKMS needs exactly " + nvra + " and the mirrors no longer carry it (they drop an old z-stream kernel's packages once a newer kernel is out). Two ways out: " +
		"(1) update the kernel and reboot into it (dnf update 'kernel*' && reboot), then " + again + "; " +
		"(2) enable a repository that still carries it (the distribution's vault for this minor release, e.g. Rocky's dl.rockylinux.org/vault or AlmaLinux's vault.almalinux.org) and " + again + nothing
}

// DevelGone is develGone for apply.
func DevelGone(nvra string) string { return develGone(nvra, true) }

// develMatched pins kernel-devel-matched on EL9+ and Fedora. dkms there
// requires "(kernel-devel-matched if kernel-core)"; left to itself dnf
// satisfies that with the newest kernel-devel-matched, which drags in the
// newest kernel, and the next boot lands on a kernel nobody planned for.
// Naming the devel-matched of the target (or, for a non-distribution target,
// of the newest distribution kernel already installed) keeps dnf where it is.
func (pl *planner) develMatched() {
	d := pl.f.Distro
	if !(d.Family == facts.FamilyEL && d.Major >= 9 || d.Family == facts.FamilyFedora) {
		return
	}
	if _, ok := pl.f.Installed("kernel-core"); !ok {
		return
	}
	var kver string
	for _, k := range pl.kernels {
		if (k.Flavor == catalog.FlavorStock || k.Flavor == catalog.FlavorStream || k.Flavor == catalog.FlavorFedora) && k.Variant == catalog.VariantNone {
			kver = k.Release
		}
	}
	why := "dkms requires (kernel-devel-matched if kernel-core); naming this one keeps dnf from picking the newest kernel-devel-matched, which would install a newer kernel as well"
	if kver == "" {
		for _, ik := range pl.f.Kernel.Installed {
			if ik.Package == "kernel-core" && ik.Variant == catalog.VariantNone {
				kver = ik.Release // oldest first: the last is the newest
			}
		}
		why += "; the target is not a distribution kernel, so it matches the newest distribution kernel already installed"
	}
	nvra := "kernel-devel-matched-" + kver
	if kver == "" || pl.installed(nvra) {
		return
	}
	pl.add(Step{ID: "package." + nvra, Action: Create, Kind: KindPackage, Txn: txnPackages,
		Summary: "install " + nvra, Reason: why, Package: &PackageStep{Name: "kernel-devel-matched", NVRA: nvra}})
}

// zfsPackages plans userland and module packages and the removal of the
// other packaging, all in one transaction.
func (pl *planner) zfsPackages() {
	c := pl.s.ZFS.Version
	exact := exactVersion(pl.s)
	for _, name := range []string{"zfs", pl.backend.ModulePackage()} {
		p, ok := pl.f.Installed(name)
		if ok && (pl.s.ZFS.Constraint == nil || pl.s.ZFS.Constraint.Check(mustVersion(p.Version))) {
			continue
		}
		st := Step{ID: "package." + name, Action: Create, Kind: KindPackage, Txn: txnPackages,
			Package: &PackageStep{Name: name, Version: exact, Constraint: c, ZFS: true}}
		desc := name
		if c != "" {
			desc += " " + c
		}
		switch {
		case ok && pl.downgrade(p.Version):
			if !pl.s.ZFS.AllowDowngrade {
				pl.errorf("zfs.version", fmt.Sprintf("zfs.version = %q would downgrade %s from %s", c, name, p.Version),
					"every release zfs.version allows is older than the installed %s %s. A downgrade steps the module and userland back, and pools whose newer features were enabled may not import with the older module. Widen zfs.version to include %s, or set allow_downgrade = true in the zfs block if the downgrade is intended.", name, p.Version, p.Version)
				return
			}
			st.Action = Update
			st.Before = p.Version
			st.Summary = fmt.Sprintf("downgrade %s %s -> %s", name, p.EVR(), newest(c))
			st.Reason = fmt.Sprintf("installed %s %s is newer than zfs.version = %q allows; allow_downgrade = true", name, p.Version, c)
		case ok:
			st.Action = Update
			st.Before = p.Version
			st.Summary = fmt.Sprintf("update %s %s -> %s", name, p.EVR(), newest(c))
			st.Reason = fmt.Sprintf("installed %s %s does not satisfy zfs.version = %q", name, p.Version, c)
		case name == "zfs":
			st.Summary = "install " + desc
			st.Reason = "the OpenZFS userland (zfs, zpool, libzfs); its version must equal the kernel module's"
		default:
			st.Summary = "install " + desc
			if pl.buildsDKMS {
				st.Reason = "the module source, built by dkms for each target kernel"
			} else {
				st.Reason = "the kABI-tracking module prebuilt for EL " + pl.kernels[0].ELMinor
			}
		}
		pl.add(st)
		pl.replacesModule = true
		pl.installsModulePackage = pl.installsModulePackage || name == pl.backend.ModulePackage()
	}
	other := backends.Other(pl.backend)
	if p, ok := pl.f.Installed(other); ok {
		why := fmt.Sprintf("kmod-zfs declares Conflicts: zfs-dkms and both must never be installed; removed in the same transaction that installs %s so the host is never left without a module package", pl.backend.ModulePackage())
		if !pl.installsModulePackage {
			why = fmt.Sprintf("both zfs-dkms and kmod-zfs are installed (kmod-zfs declares Conflicts: zfs-dkms); packaging is %s, so %s goes and %s keeps providing the module", pl.backend.Name(), other, pl.backend.ModulePackage())
		}
		pl.add(Step{ID: "package." + other, Action: Delete, Kind: KindPackage, Txn: txnPackages,
			Summary: "remove " + other + "-" + p.EVR(), Reason: why, Package: &PackageStep{Name: other}})
	}
}

// newest shows an empty constraint as "newest".
func newest(c string) string {
	if c == "" {
		return "newest"
	}
	return c
}
