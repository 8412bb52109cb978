// Package update judges a pending `dnf upgrade` before it runs: which
// kernel and OpenZFS packages dnf would install, upgrade or remove, and for
// every kernel the host would boot afterwards whether ZFS works there (the
// pre-flight, `zfsinstall check-update`); and it keeps dnf from installing
// a kernel ZFS would not survive (the kernel hold, `zfsinstall hold`, run
// by apply and by a systemd timer). Kernels are judged by backends.Judge,
// the rule plan, apply, verify and the guard use.
//
// Evidence: what dnf itself resolves (`dnf --assumeno upgrade`, whose
// table also shows the kernels installonly_limit makes it remove), and
// what the repository metadata says of each offered kernel
// (`dnf repoquery --upgrades`: its kernel(SYMBOL) = CRC provides, the
// requirements of the kmod-zfs or zfs-dkms the update brings, whether the
// exact kernel-devel is offered). The checks that need a kernel's files
// (module_layout, struct module) cannot be made before it is installed;
// the report says so and the guard makes them at installation.
package update

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/repos"
)

// FormatVersion is the version of the JSON layout of a Report.
const FormatVersion = "1"

// KernelState is what the pending update does to a kernel.
type KernelState string

// The kernel states.
const (
	// Kept: installed, and the update leaves it.
	Kept KernelState = "kept"
	// Installs: dnf would install it now.
	Installs KernelState = "installs"
	// Removes: dnf would remove it (installonly_limit).
	Removes KernelState = "removes"
	// Offered: newer than the installed kernels and offered, but dnf would
	// not install it now (held or excluded, or not the newest).
	Offered KernelState = "offered"
)

// Kernel is one kernel the pending update concerns, judged with the module
// packaging the host will have after the update.
type Kernel struct {
	Release string      `json:"release"`
	Package string      `json:"package"`
	State   KernelState `json:"state"`
	Running bool        `json:"running,omitempty"`
	Default bool        `json:"default,omitempty"`
	// Judged is false for a kernel of a flavour ZFS is not kept working on
	// (a kmod host's ELRepo kernel): it is listed, neither judged nor held.
	Judged bool `json:"judged"`
	// Works is true when no finding speaks against ZFS on it after the
	// update; WorksNow, for an installed kernel, before it.
	Works    bool               `json:"works"`
	WorksNow bool               `json:"works_now,omitempty"`
	Findings []backends.Finding `json:"findings,omitempty"`
	// Held is true when the kernel hold keeps it from dnf (after this
	// evaluation); Packages are the packages of that kernel build the hold
	// excludes.
	Held     bool     `json:"held,omitempty"`
	Packages []string `json:"packages,omitempty"`
}

// Severity tells a problem that makes the update unsafe from a caution.
type Severity string

// The severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Problem is one finding about the update as a whole.
type Problem struct {
	Severity Severity `json:"severity"`
	Summary  string   `json:"summary"`
	Detail   string   `json:"detail,omitempty"`
}

// Module is the module packaging before and after the update.
type Module struct {
	// Package is kmod-zfs or zfs-dkms ("" when neither is installed).
	Package string `json:"package,omitempty"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
}

// Report is the outcome of the pre-flight.
type Report struct {
	FormatVersion string `json:"format_version"`
	// Changes are the kernel and OpenZFS packages dnf's resolved update
	// installs, upgrades, downgrades or removes; Others counts the rest.
	Changes []pkgmgr.Change `json:"changes"`
	Others  int             `json:"other_changes"`
	Module  Module          `json:"module"`
	// InstallonlyLimit is dnf.conf's installonly_limit (dnf's default 3).
	InstallonlyLimit int      `json:"installonly_limit"`
	Kernels          []Kernel `json:"kernels"`
	// Hold is what the kernel hold holds after this evaluation, and
	// whether it is on for the host.
	Hold     HoldState `json:"hold"`
	Problems []Problem `json:"problems"`
	// Safe is true when no problem is an error: every kernel the host
	// would boot after the update keeps a working ZFS.
	Safe bool `json:"safe"`
}

// evaluation is what both the pre-flight and the hold judge from.
type evaluation struct {
	f       *facts.Facts
	module  backends.Module
	before  backends.Module
	kernels []Kernel
	// next is the kernel the host boots after the update (nextBoot).
	next string
}

// Check runs the pre-flight: what dnf would do, and every kernel judged.
// It changes nothing on the host.
func Check(ctx context.Context, c *pkgmgr.Client, f *facts.Facts, q pkgmgr.Query) (*Report, error) {
	// dnf's resolved update and what the repositories offer, in one dnf run where dnf can.
	changes, offers, err := c.CheckUpgrade(ctx, q, installedKmodRequires(f), queryNames(f)...)
	if err != nil {
		return nil, err
	}
	ev, err := evaluate(ctx, c, f, q, changes, offers)
	if err != nil {
		return nil, err
	}
	r := &Report{FormatVersion: FormatVersion, Changes: []pkgmgr.Change{}, Kernels: ev.kernels, Problems: []Problem{},
		InstallonlyLimit: InstallonlyLimit(f), Hold: ev.holdState()}
	for _, ch := range changes {
		if isKernelPackage(ch.Name) || isOpenZFS(ch.Name) {
			r.Changes = append(r.Changes, ch)
		} else {
			r.Others++
		}
	}
	held := HeldReleases(f.Files[HoldFile])
	for i := range r.Kernels {
		r.Kernels[i].Held = slices.Contains(held, r.Kernels[i].Release)
	}
	r.Module = ev.moduleChange()
	r.Problems = ev.problems(r)
	r.Safe = !slices.ContainsFunc(r.Problems, func(p Problem) bool { return p.Severity == Error })
	return r, nil
}

// evaluate judges every kernel from what the repositories offer (offers:
// pkgmgr.Upgrades of queryNames). changes is dnf's resolved update (nil
// for the hold, which judges what is offered whatever dnf would pick now).
func evaluate(ctx context.Context, c *pkgmgr.Client, f *facts.Facts, q pkgmgr.Query, changes []pkgmgr.Change, offers []pkgmgr.Offer) (*evaluation, error) {
	ev := &evaluation{f: f}
	ev.before, ev.module = modules(c.Host(), f, offers, changes)
	installed, err := installedProspects(ctx, c, f, ev.module)
	if err != nil {
		return nil, err
	}
	removed := map[string]bool{}
	installs := map[string]bool{}
	for _, ch := range changes {
		if isCore(ch.Name) {
			rel := ch.Version + "." + ch.Arch
			switch ch.Action {
			case "remove":
				removed[rel] = true
			case "install", "upgrade":
				installs[rel] = true
			}
		}
	}
	worksNow := map[string]bool{}
	for rel, p := range installed {
		worksNow[rel] = backends.Works(backends.Judge(ev.before, p))
	}
	covered := coveredFlavours(installed, worksNow)
	prospects, err := develOffered(ctx, c, q, ev.module, offeredKernels(f, offers, changes))
	if err != nil {
		return nil, err
	}
	// The next boot is judged whatever its flavour: it is where the pools
	// must come back.
	ev.next = nextBoot(f, prospects, installs)
	for _, p := range prospects {
		if p.Info.Release == ev.next {
			covered[flavourKey(p.Info)] = true
		}
	}
	for _, ik := range f.Kernel.Installed {
		k := Kernel{Release: ik.Release, Package: ik.Package, State: Kept, Running: ik.Release == f.Kernel.Running, Default: ik.Release == f.Kernel.Default}
		if removed[kernelVR(ik.Release)] {
			k.State = Removes
		}
		ev.judge(&k, installed[ik.Release], covered)
		k.WorksNow = k.Judged && worksNow[ik.Release]
		ev.kernels = append(ev.kernels, k)
	}
	for _, p := range prospects {
		k := Kernel{Release: p.Info.Release, Package: catalog.CorePackage(p.Info), State: Offered}
		if installs[kernelVR(k.Release)] {
			k.State = Installs
		}
		ev.judge(&k, p, covered)
		if k.Judged && !k.Works {
			k.Packages = HoldPackages(p.Info)
		}
		ev.kernels = append(ev.kernels, k)
	}
	return ev, nil
}

// nextBoot is the kernel the host boots after the update: with
// UPDATEDEFAULT=yes in /etc/sysconfig/kernel (EL's default) the newest
// kernel the update installs whose core package is DEFAULTKERNEL
// (kernel-core unless the file says otherwise), since grub2's 20-grub.install
// makes only such a kernel the default (DOMAIN: "20-grub.install moves the
// default only with ... DEFAULTKERNEL on EL9"; grub2's "util: Enable default
// kernel for updates", Red Hat 2023-05-24, re-enabled DEFAULTKERNEL); else
// the default boot entry, else the running kernel.
func nextBoot(f *facts.Facts, offered []backends.Prospect, installs map[string]bool) string {
	update, defaultKernel := true, "kernel-core"
	for _, line := range strings.Split(f.Files[facts.SysconfigKernelFile], "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		switch {
		case !ok:
		case k == "UPDATEDEFAULT":
			update = v == "yes"
		case k == "DEFAULTKERNEL":
			defaultKernel = v
		}
	}
	next := ""
	for _, p := range offered {
		if update && installs[kernelVR(p.Info.Release)] && catalog.CorePackage(p.Info) == defaultKernel &&
			(next == "" || compareKernels(p.Info.Release, next) > 0) {
			next = p.Info.Release
		}
	}
	switch {
	case next != "":
		return next
	case f.Kernel.Default != "":
		return f.Kernel.Default
	}
	return f.Kernel.Running
}

// judge fills k's verdict, for kernels of a covered flavour.
func (ev *evaluation) judge(k *Kernel, p backends.Prospect, covered map[string]bool) {
	k.Judged = covered[flavourKey(p.Info)]
	if !k.Judged {
		k.Works = true
		return
	}
	k.Findings = backends.Judge(ev.module, p)
	k.Works = backends.Works(k.Findings)
}

// coveredFlavours are the kernel flavours ZFS is kept working on: those of
// the installed kernels on which the installed module packaging works now
// (a kmod host's stock kernels; a DKMS host's ELRepo kernel-lt), or, when
// none does, those of every installed kernel.
func coveredFlavours(installed map[string]backends.Prospect, worksNow map[string]bool) map[string]bool {
	out := map[string]bool{}
	for rel, p := range installed {
		if worksNow[rel] {
			out[flavourKey(p.Info)] = true
		}
	}
	if len(out) == 0 {
		for _, p := range installed {
			out[flavourKey(p.Info)] = true
		}
	}
	return out
}

func flavourKey(k catalog.KernelInfo) string {
	return string(k.Flavor) + "/" + string(k.Variant) + "/" + k.Arch
}

// installedKmodRequires are the requirements of the installed kmod-zfs,
// whose kernel symbols the offered kernels' provides are read for.
func installedKmodRequires(f *facts.Facts) []string {
	if kmod, ok := f.Installed("kmod-zfs"); ok {
		return kmod.Requires
	}
	return nil
}

// queryNames are the packages the repositories are asked about: the
// packages of every installed kernel flavour that carry its kABI provides
// and headers, and OpenZFS's module packages and userland.
func queryNames(f *facts.Facts) []string {
	names := []string{"zfs", "kmod-zfs", "zfs-dkms"}
	for _, ik := range f.Kernel.Installed {
		info := catalog.ClassifyKernel(ik.Release, ik.Package)
		base := strings.TrimSuffix(ik.Package, "-core")
		for _, n := range []string{ik.Package, base + "-modules-core", catalog.DevelPackage(info)} {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return names
}

// modules returns the module packaging before and after the update: the
// installed kmod-zfs or zfs-dkms, replaced by the version dnf's resolved
// update installs (changes) or, for the hold (changes nil), the newest the
// repositories offer, since that is what `dnf upgrade` would take.
func modules(h host.Host, f *facts.Facts, offers []pkgmgr.Offer, changes []pkgmgr.Change) (before, after backends.Module) {
	before.Distro, after.Distro = f.Distro, f.Distro
	for _, name := range []string{"kmod-zfs", "zfs-dkms"} {
		p, ok := f.Installed(name)
		if !ok {
			continue
		}
		cur := p
		next := p
		if o, ok := upgradeOf(name, offers, changes); ok {
			next = o.Package
		}
		if name == "kmod-zfs" {
			before.Kmod, after.Kmod = &cur, &next
			abi := backends.KmodModuleABI(h, p.Version)
			before.KmodABI = abi
			if next.NVRA() == cur.NVRA() {
				after.KmodABI = abi
			}
		} else {
			before.DKMS, after.DKMS = &cur, &next
		}
	}
	return before, after
}

// upgradeOf is the offer of name that the update installs: the version in
// dnf's resolved transaction, else (changes nil) the newest offered.
func upgradeOf(name string, offers []pkgmgr.Offer, changes []pkgmgr.Change) (pkgmgr.Offer, bool) {
	var best pkgmgr.Offer
	found := false
	for _, o := range offers {
		if o.Name != name {
			continue
		}
		if changes != nil {
			if slices.ContainsFunc(changes, func(ch pkgmgr.Change) bool {
				return ch.Name == name && ch.Action != "remove" && ch.Version == versionRelease(o.Package)
			}) {
				return o, true
			}
			continue
		}
		if !found || facts.ComparePackages(o.Package, best.Package) > 0 {
			best, found = o, true
		}
	}
	return best, found
}

// installedProspects are the installed kernels as Judge sees them: their
// kernel(SYMBOL) provides for the symbols the module after the update
// requires (one rpm call when the facts lack some), their files on the
// disk, and whether their exact kernel-devel is installed.
func installedProspects(ctx context.Context, c *pkgmgr.Client, f *facts.Facts, m backends.Module) (map[string]backends.Prospect, error) {
	want := map[string]bool{}
	if m.Kmod != nil {
		for sym := range backends.KmodSymbols(m.Kmod.Requires) {
			want[sym] = true
		}
	}
	out := map[string]backends.Prospect{}
	var read []facts.InstalledKernel
	for _, ik := range f.Kernel.Installed {
		info := catalog.ClassifyKernel(ik.Release, ik.Package)
		abi := backends.ReadKernelABI(c.Host(), ik.Release)
		devel := catalog.DevelNVRA(info)
		p := backends.Prospect{Info: info, Symbols: ik.Symbols, SymbolsKnown: ik.SymbolsRead, ABI: &abi, DevelInstalled: true, Module: ik.Module,
			Devel: slices.ContainsFunc(f.Packages, func(q facts.Package) bool { return q.NVRA() == devel })}
		for sym := range want {
			if _, ok := ik.Symbols[sym]; !ok || !ik.SymbolsRead {
				read = append(read, ik)
				break
			}
		}
		out[ik.Release] = p
	}
	if len(want) > 0 && len(read) > 0 {
		syms, err := c.KernelSymbols(ctx, read, want)
		if err != nil {
			return nil, err
		}
		for rel, s := range syms {
			p := out[rel]
			p.Symbols, p.SymbolsKnown = s, true
			out[rel] = p
		}
	}
	return out, nil
}

// offeredKernels are the kernels the repositories offer newer than the
// installed ones, one per build: the provides of all its packages merged,
// and whether its exact kernel-devel is offered: newer than an installed
// kernel-devel (the repoquery asks for upgrades, and a DKMS host has its
// targets' kernel-devel installed), or in dnf's resolved update (EPEL's
// dkms pulls kernel-devel-matched with kernel-core).
func offeredKernels(f *facts.Facts, offers []pkgmgr.Offer, changes []pkgmgr.Change) []backends.Prospect {
	byRel := map[string]*backends.Prospect{}
	var order []string
	for _, o := range offers {
		if !isKernelPackage(o.Name) || strings.Contains(o.Name, "-devel") {
			continue
		}
		rel := versionRelease(o.Package) + "." + o.Arch
		info := catalog.ClassifyKernel(rel, o.Name)
		if catalog.CorePackage(info) != o.Name && !strings.HasSuffix(o.Name, "-modules-core") {
			continue
		}
		p, ok := byRel[rel]
		if !ok {
			p = &backends.Prospect{Info: info, Symbols: map[string]string{}, SymbolsKnown: true}
			byRel[rel] = p
			order = append(order, rel)
		}
		for sym, crc := range o.Provides {
			p.Symbols[sym] = crc
		}
	}
	var out []backends.Prospect
	for _, rel := range order {
		p := byRel[rel]
		want := catalog.DevelNVRA(p.Info)
		p.Devel = slices.ContainsFunc(offers, func(o pkgmgr.Offer) bool { return o.NVRA() == want }) ||
			slices.ContainsFunc(f.Packages, func(q facts.Package) bool { return q.NVRA() == want }) ||
			slices.ContainsFunc(changes, func(ch pkgmgr.Change) bool {
				return ch.Action == "install" && ch.Name+"-"+ch.Version+"."+ch.Arch == want
			})
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b backends.Prospect) int { return compareKernels(a.Info.Release, b.Info.Release) })
	return out
}

// develOffered asks the repositories, for DKMS, whether the exact
// kernel-devel of each offered kernel the upgrade query did not show is
// offered: the query sees only upgrades of installed packages, and a host
// may have no kernel-devel installed that EPEL's dkms would still pull in
// with the new kernel-core. One more repoquery, only when some is missing.
func develOffered(ctx context.Context, c *pkgmgr.Client, q pkgmgr.Query, m backends.Module, ps []backends.Prospect) ([]backends.Prospect, error) {
	if m.DKMS == nil {
		return ps, nil
	}
	var want []string
	for _, p := range ps {
		if !p.Devel {
			want = append(want, catalog.DevelNVRA(p.Info))
		}
	}
	if len(want) == 0 {
		return ps, nil
	}
	offered, err := c.Offered(ctx, q, want...)
	if err != nil {
		return nil, err
	}
	for i := range ps {
		want := catalog.DevelNVRA(ps[i].Info)
		ps[i].Devel = ps[i].Devel || slices.ContainsFunc(offered, func(o facts.Package) bool { return o.NVRA() == want })
	}
	return ps, nil
}

// HoldPackages are the packages of kernel k's build that the hold
// excludes, as name-version-release.arch: the core package, the meta
// package, the modules packages, and the headers. Every package of the
// build that requires another must go with it: with best=True (EL's
// dnf.conf) excluding kernel-core alone makes `dnf upgrade` fail for every
// package ("cannot install the best update candidate for package kernel",
// tried with dnf 4.14 on the test bed); with the whole build excluded dnf
// installs the next kernel. The names follow kernel.spec's
// %kernel_variant_package (<v>-core, <v>-modules, <v>-modules-core,
// <v>-modules-extra, <v>-devel, <v>-devel-matched; catalog's kernel
// package table).
func HoldPackages(k catalog.KernelInfo) []string {
	vra := strings.TrimPrefix(catalog.DevelNVRA(k), catalog.DevelPackage(k)+"-")
	core := catalog.CorePackage(k)
	base := strings.TrimSuffix(core, "-core")
	names := []string{base, core, base + "-modules", base + "-modules-core", base + "-modules-extra", catalog.DevelPackage(k)}
	if m := catalog.DevelMatchedPackage(k); m != "" {
		names = append(names, m)
	}
	var out []string
	for _, n := range names {
		if e := n + "-" + vra; !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// InstallonlyLimit is installonly_limit from the host's dnf.conf, dnf's
// default 3 when it is not set (dnf.conf(5)).
func InstallonlyLimit(f *facts.Facts) int {
	conf, ok := f.Files[repos.DNFConf]
	if !ok {
		return 3
	}
	n := 3
	for _, line := range strings.Split(conf, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(k) == "installonly_limit" {
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d", &n); err != nil {
				n = 3
			}
		}
	}
	return n
}

func isKernelPackage(name string) bool {
	return name == "kernel" || strings.HasPrefix(name, "kernel-") && !strings.HasPrefix(name, "kernel-tools") &&
		!strings.HasPrefix(name, "kernel-headers") && !strings.HasPrefix(name, "kernel-abi")
}

func isCore(name string) bool {
	return isKernelPackage(name) && strings.HasSuffix(name, "-core") && !strings.HasSuffix(name, "-modules-core")
}

func isOpenZFS(name string) bool {
	return name == "zfs" || name == "kmod-zfs" || name == "zfs-dkms" || name == "zfs-dracut" ||
		slices.Contains(catalog.LibraryPackageNames(), name)
}

func versionRelease(p facts.Package) string { return p.Version + "-" + p.Release }

// kernelVR is "version-release.arch" of a kernel release (uname -r without
// a variant suffix), as dnf's table prints version-release and arch.
func kernelVR(rel string) string {
	rel, _, _ = strings.Cut(rel, "+")
	return rel
}

func compareKernels(a, b string) int {
	return facts.ComparePackages(pkgOf(a), pkgOf(b))
}

func pkgOf(rel string) facts.Package {
	info := catalog.ClassifyKernel(rel, "")
	r := strings.TrimSuffix(strings.TrimPrefix(kernelVR(rel), info.Version+"-"), "."+info.Arch)
	return facts.Package{Version: info.Version, Release: r}
}
