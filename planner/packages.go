package planner

import (
	"fmt"
	"slices"

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
	nvra := catalog.DevelNVRA(k)
	if pl.installed(nvra) {
		return
	}
	st := Step{ID: "package." + nvra, Action: Create, Kind: KindPackage, Txn: txnPackages,
		Summary: "install " + nvra,
		Reason:  fmt.Sprintf("provides kernel-devel-uname-r = %s: DKMS must build against exactly the target kernel's headers, not the newest kernel-devel", k.Release),
		Package: &PackageStep{Name: catalog.DevelPackage(k), NVRA: nvra}}
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

// develMatched pins the devel-matched packages EPEL's dkms asks for on
// EL9+ and Fedora. dkms requires "(kernel-devel-matched if kernel-core)"
// and the same for each variant that has one installed
// ("(kernel-debug-devel-matched if kernel-debug-core)", "(kernel-rt-devel
// if kernel-rt-core)": RT has no devel-matched; EPEL dkms.spec). Left to
// itself dnf satisfies each with the newest, which drags in the newest
// kernel, and the next boot lands on a kernel nobody planned for. For each
// installed distribution core package the plan names the package of the
// target kernel of that kind, or of the newest one installed.
func (pl *planner) develMatched() {
	d := pl.f.Distro
	if !(d.Family == facts.FamilyEL && d.Major >= 9 || d.Family == facts.FamilyFedora) {
		return
	}
	chosen := map[string]catalog.KernelInfo{} // core package -> kernel to match
	targeted := map[string]bool{}
	for _, ik := range pl.f.Kernel.Installed { // oldest first: the last of a kind is the newest
		k := catalog.ClassifyKernel(ik.Release, ik.Package)
		if !distributionKernel(k) || targeted[ik.Package] {
			continue
		}
		chosen[ik.Package] = k
		for _, t := range pl.kernels {
			if t.Release == ik.Release {
				targeted[ik.Package] = true
			}
		}
	}
	cores := make([]string, 0, len(chosen))
	for c := range chosen {
		cores = append(cores, c)
	}
	slices.Sort(cores)
	for _, core := range cores {
		k := chosen[core]
		name, nvra := catalog.DevelMatchedPackage(k), catalog.DevelMatchedNVRA(k)
		if nvra == "" { // RT: dkms asks for the plain devel package
			name, nvra = catalog.DevelPackage(k), catalog.DevelNVRA(k)
		}
		if nvra == "" || pl.installed(nvra) || pl.planned(nvra) {
			continue
		}
		why := fmt.Sprintf("dkms requires (%s if %s); naming this one keeps dnf from picking the newest %s, which would install a newer kernel as well", name, core, name)
		if !targeted[core] {
			why += fmt.Sprintf("; no target kernel comes from %s, so this matches the newest %s installed", core, core)
		}
		pl.add(Step{ID: "package." + nvra, Action: Create, Kind: KindPackage, Txn: txnPackages,
			Summary: "install " + nvra, Reason: why, Package: &PackageStep{Name: name, NVRA: nvra}})
	}
}

// distributionKernel reports whether k is one of the distribution's own
// kernels, whose core packages EPEL's dkms pairs with a devel package.
func distributionKernel(k catalog.KernelInfo) bool {
	return k.Flavor == catalog.FlavorStock || k.Flavor == catalog.FlavorStream || k.Flavor == catalog.FlavorFedora
}

// planned reports whether a step already installs nvra.
func (pl *planner) planned(nvra string) bool {
	return slices.ContainsFunc(pl.p.Steps, func(s Step) bool { return s.Package != nil && s.Package.NVRA == nvra })
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
