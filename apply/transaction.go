package apply

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/sirupsen/logrus"
	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/repos"
	"github.com/zfsinstall/zfsinstall/spec"
)

// installedSet is what the rpm database holds of the packages a
// transaction is about, of the OpenZFS library packages (librariesStay) and
// of the imported keys (gpg-pubkey), read in one rpm call.
type installedSet struct {
	all    []facts.Package
	newest map[string]facts.Package
}

func (a *applier) installedSet(steps []planner.Step) (installedSet, error) {
	// never the release file itself: rpm -q FILE.rpm queries the file
	names := append([]string{"zfs-release", "gpg-pubkey"}, catalog.LibraryPackageNames()...)
	for _, st := range steps {
		if st.Package != nil && !slices.Contains(names, st.Package.Name) {
			names = append(names, st.Package.Name)
		}
	}
	all, err := a.c.Installed(a.ctx, names...)
	if err != nil {
		return installedSet{}, fmt.Errorf("checking installed packages: %w", err)
	}
	return installedSet{all: all, newest: pkgmgr.Newest(all)}, nil
}

// keys are the short IDs of the imported keys.
func (s installedSet) keys() map[string]bool {
	ids := map[string]bool{}
	for _, p := range s.all {
		if p.Name == "gpg-pubkey" {
			ids[strings.ToLower(p.Version)] = true
		}
	}
	return ids
}

// satisfied checks one release or package step against the rpm database.
func (s installedSet) satisfied(st planner.Step) bool {
	if st.Kind == planner.KindRelease {
		_, ok := s.newest["zfs-release"]
		return ok
	}
	p := st.Package
	if p == nil {
		return false
	}
	if st.Action == planner.Delete {
		_, ok := s.newest[p.Name]
		return !ok
	}
	if p.NVRA != "" {
		return slices.ContainsFunc(s.all, func(q facts.Package) bool { return q.NVRA() == p.NVRA })
	}
	have, ok := s.newest[p.Name]
	if !ok {
		return false
	}
	c := p.Constraint
	if p.Version != "" {
		c = "= " + p.Version
	}
	return c == "" || versionAllows(c, have.Version)
}

// versionAllows reports whether constraint c admits version v; what does
// not parse is not held against the package (the spec validated c).
func versionAllows(c, v string) bool {
	cs, err := version.NewConstraint(c)
	pv, verr := version.NewVersion(v)
	return err != nil || verr != nil || cs.Check(pv)
}

// prepared is a package transaction whose checks passed before the host
// changed: what dnf will be asked to do.
type prepared struct {
	todo      []planner.Step
	t         pkgmgr.Transaction
	installed installedSet
	// changes are every package dnf said it would install, upgrade,
	// downgrade or remove (--assumeno), checked again just before the
	// transaction runs; resolveLater is set when that resolve waits for a
	// release package of an earlier transaction (see preflight.go).
	changes      []pkgmgr.Change
	resolveLater bool
}

// prepare decides a package transaction and checks it against the
// repositories and the rpm database without changing anything: the steps
// still to do, the OpenZFS version (resolved with the planner's rule), that
// the exact kernel-devel is still offered, that the release fits every
// target kernel, that dnf would not install, remove or downgrade a kernel
// the plan did not name, and that every package comes from a repository
// that checks signatures. The repository steps of the plan, and
// zfs-release itself, may not be carried out yet: the queries see the
// repositories as the plan leaves them (plannedRepos).
func (a *applier) prepare(steps []planner.Step) (*prepared, error) {
	installed, err := a.installedSet(steps)
	if err != nil {
		return nil, &StepError{steps[0], err}
	}
	pr := &prepared{installed: installed}
	var zfs []planner.Step
	for _, st := range steps {
		if installed.satisfied(st) {
			continue
		}
		if st.Kind != planner.KindRelease && st.Package == nil {
			return nil, &StepError{st, missingPayload(st)}
		}
		pr.todo = append(pr.todo, st)
		switch {
		case st.Kind == planner.KindRelease:
			// fetched and verified when the transaction runs
		case st.Action == planner.Delete:
			pr.t.Remove = append(pr.t.Remove, st.Package.Name)
		case st.Package.ZFS:
			zfs = append(zfs, st)
		default:
			pr.t.Install = append(pr.t.Install, st.Package.Spec())
		}
		if st.Package != nil {
			for _, r := range st.Package.EnableRepos {
				if !slices.Contains(pr.t.Enable, r) {
					pr.t.Enable = append(pr.t.Enable, r)
				}
			}
		}
	}
	if len(pr.todo) == 0 || slices.ContainsFunc(pr.todo, func(st planner.Step) bool { return st.Kind == planner.KindRelease }) {
		return pr, nil // zfs-release (+ epel-release): nothing to ask the repositories yet
	}
	cfg, err := a.plannedRepos()
	if err != nil {
		return nil, err
	}
	q, err := a.plannedQuery(cfg, pr.t.Enable)
	if err != nil {
		return nil, &StepError{pr.todo[0], err}
	}
	var specs []string
	for _, st := range zfs {
		specs = append(specs, st.Package.Name)
	}
	for _, st := range pr.todo {
		if p := st.Package; p != nil && p.NVRA != "" && st.Action == planner.Create {
			specs = append(specs, p.NVRA)
		}
	}
	resolveNow := (len(specs) > 0 || len(pr.t.Remove) > 0) && !a.reposPending
	var offered []facts.Package
	var earlyChanges []pkgmgr.Change
	earlyResolved := false
	if len(specs) > 0 {
		if resolveNow {
			// Ask what is offered and resolve the transaction with the OpenZFS
			// version left to dnf, in one dnf run where dnf can (see
			// acceptEarly); t is pr.t with the OpenZFS packages unpinned.
			t := pr.t
			t.Install = slices.Clone(pr.t.Install)
			for _, st := range zfs {
				t.Install = append(t.Install, st.Package.Name)
			}
			offered, earlyChanges, earlyResolved, err = a.c.OfferedAndResolved(a.ctx, q, specs, t)
		} else {
			offered, err = a.c.Offered(a.ctx, q, specs...)
		}
		if err != nil {
			return nil, &StepError{pr.todo[0], err}
		}
	}
	for _, st := range pr.todo {
		if p := st.Package; p != nil && p.NVRA != "" && st.Action == planner.Create &&
			!slices.ContainsFunc(offered, func(o facts.Package) bool { return o.NVRA() == p.NVRA }) {
			return nil, &StepError{st, fmt.Errorf("%s is not offered by any enabled repository: %s", p.NVRA, planner.DevelGone(p.NVRA))}
		}
	}
	ver := ""
	if len(zfs) > 0 {
		if ver, err = a.resolve(zfs, installed, offered); err != nil {
			return nil, &StepError{zfs[0], err}
		}
		for _, st := range zfs {
			pr.t.Install = append(pr.t.Install, st.Package.Name+"-"+ver)
		}
	}
	if len(specs) > 0 || len(pr.t.Remove) > 0 {
		if a.reposPending {
			pr.resolveLater = true
			return pr, nil
		}
		if !earlyResolved || !acceptEarly(earlyChanges, zfs, ver) {
			earlyChanges = nil
		}
		if err := a.resolvePrepared(pr, q, cfg, earlyChanges); err != nil {
			return nil, err
		}
	}
	return pr, nil
}

// acceptEarly says whether the transaction dnf resolved with the OpenZFS
// version left to it (OfferedAndResolved) is the transaction of the version
// zfsinstall resolved with the planner's rule, ver: dnf installs every
// OpenZFS package of the transaction at exactly that version. Then the
// pinned request (zfs-VERSION ...) is the same request: dnf picks the best
// version a request allows (best=True) and resolves that version's
// dependencies whichever spec named it. Otherwise (an older release chosen
// for the kernel's kABI, a version constraint, an installed release dnf
// would leave alone) the pinned transaction is resolved on its own.
func acceptEarly(changes []pkgmgr.Change, zfs []planner.Step, ver string) bool {
	for _, st := range zfs {
		if !slices.ContainsFunc(changes, func(ch pkgmgr.Change) bool {
			v, _, _ := strings.Cut(ch.Version, "-")
			return ch.Action != "remove" && ch.Name == st.Package.Name && v == ver
		}) {
			return false
		}
	}
	return true
}

// resolvePrepared asks dnf to resolve pr without running it, through q,
// which shows the repositories cfg holds (as the plan leaves them), and
// refuses when dnf would choose a kernel or install a package whose
// repository does not check signatures. resolved, when not nil, is that
// resolution, already made (acceptEarly).
func (a *applier) resolvePrepared(pr *prepared, q pkgmgr.Query, cfg *repos.DNFConfig, resolved []pkgmgr.Change) error {
	last := pr.todo[len(pr.todo)-1]
	changes := resolved
	var err error
	if changes == nil {
		if changes, err = a.c.Resolve(a.ctx, q, pr.t); err != nil {
			return &StepError{last, err}
		}
	}
	if err := a.noKernelChosen(pr, changes); err != nil {
		return &StepError{last, err}
	}
	if err := unsigned(changes, cfg, "before installing anything"); err != nil {
		return &StepError{last, err}
	}
	pr.changes, pr.resolveLater = changes, false
	return nil
}

// resolveDeferred is resolvePrepared for a transaction whose resolve
// waited for an earlier transaction's release package.
func (a *applier) resolveDeferred(pr *prepared) error {
	cfg, err := a.plannedRepos()
	if err != nil {
		return err
	}
	q, err := a.plannedQuery(cfg, pr.t.Enable)
	if err != nil {
		return &StepError{pr.todo[0], err}
	}
	return a.resolvePrepared(pr, q, cfg, nil)
}

// transaction runs a group of release and package steps as one dnf
// transaction (plus, for zfs-release, the verification and key import that
// must precede it). pr, when not nil, is the transaction prepared before the
// host changed.
func (a *applier) transaction(steps []planner.Step, pr *prepared) error {
	if pr == nil {
		var err error
		if pr, err = a.prepare(steps); err != nil {
			return err
		}
	}
	for _, st := range steps {
		if !slices.ContainsFunc(pr.todo, func(t planner.Step) bool { return t.ID == st.ID }) {
			a.skipped(st)
		}
	}
	if len(pr.todo) == 0 {
		return nil
	}
	t := pr.t
	var keys []repos.Key
	for _, st := range pr.todo {
		if st.Kind != planner.KindRelease {
			continue
		}
		rel, err := a.loadRelease(st)
		if err != nil {
			return &StepError{st, err}
		}
		keys = append(keys, rel.key)
		t.Install = append([]string{rel.file}, t.Install...)
	}
	for _, st := range pr.todo {
		a.hooks.Started(st)
	}
	start := time.Now()
	last := pr.todo[len(pr.todo)-1]
	// Only zfs-release, no package from a repository?
	releaseOnly := len(pr.t.Install) == 0 && len(pr.t.Remove) == 0 && len(t.Install) == 1
	if !releaseOnly {
		more, err := a.repoKeys(t.Enable)
		if err != nil {
			return &StepError{last, err}
		}
		keys = append(keys, more...)
	}
	if err := a.importKeys(pr.installed.keys(), keys...); err != nil {
		return &StepError{last, err}
	}
	if releaseOnly {
		// Only zfs-release: rpm installs the file apply verified itself
		// (signed by a trusted key, digests checked, the bytes planned),
		// with that key already imported so rpm checks the signature too.
		// Every zfs-release published needs nothing but /bin/sh and its
		// scriptlet body is empty (testdata/upstream/openzfs/zfs-release),
		// so there is nothing for dnf to resolve; a dnf run would cost
		// more than the rest of the step. dnf notes the rpm database was
		// changed outside it, and that is all.
		if err := a.c.InstallFile(a.ctx, t.Install[0]); err != nil {
			return &StepError{last, err}
		}
	} else {
		// What dnf resolved comes from repositories that check signatures
		// as the files are now, after the plan's repo steps.
		if pr.changes != nil {
			cfg, err := repos.ReadDNFConfig(a.h)
			if err != nil {
				return &StepError{last, err}
			}
			if err := unsigned(pr.changes, cfg, "the transaction"); err != nil {
				return &StepError{last, err}
			}
		}
		a.res.Transactions++
		if err := a.c.Run(a.ctx, t); err != nil {
			return &StepError{last, err}
		}
	}
	// Verify every step of the transaction against the rpm database.
	installed, err := a.installedSet(steps)
	if err != nil {
		return &StepError{pr.todo[0], err}
	}
	took := time.Since(start).Round(time.Millisecond)
	for _, st := range pr.todo {
		if !installed.satisfied(st) {
			return &StepError{st, fmt.Errorf("verifying: dnf finished but the rpm database does not show %s %s", st.Action, st.Summary)}
		}
		if p := st.Package; p != nil && p.ZFS {
			a.res.Installed = append(a.res.Installed, installed.newest[p.Name].NVRA())
		}
		a.finished(st, took)
	}
	if zfs, ok := installed.newest["zfs"]; ok {
		a.zfs = zfs.Version
	}
	return nil
}

// resolve picks the version of zfs and its module package with the
// planner's rule (planner.ResolveVersion) from what the repositories offer
// now, accepting only a release that fits every target kernel: for DKMS
// it builds there (META range, known build breaks, the package's own
// kernel requirements) and pulls in no kernel; for kmod its kABI fits.
func (a *applier) resolve(zfs []planner.Step, installed installedSet, offered []facts.Package) (string, error) {
	var names []string
	constraint := ""
	for _, st := range zfs {
		names = append(names, st.Package.Name)
		constraint = st.Package.Constraint
		if st.Package.Version != "" {
			constraint = "= " + st.Package.Version
		}
	}
	versions := map[string][]string{}
	for _, p := range offered {
		versions[p.Name] = append(versions[p.Name], p.Version)
	}
	fits, err := a.fits(offered)
	if err != nil {
		return "", err
	}
	q := planner.VersionQuery{Names: names, Offered: versions, Constraint: constraint,
		AllowKnownBad: a.p.AllowKnownBad, AllowDowngrade: a.p.AllowDowngrade, Fits: fits}
	if p, ok := installed.newest["zfs"]; ok {
		q.Installed = p.Version
	}
	best, err := planner.ResolveVersion(q)
	if err != nil {
		return "", fmt.Errorf("refusing before installing ZFS: %w", err)
	}
	if err := a.librariesStay(best, installed); err != nil {
		return "", fmt.Errorf("refusing before installing ZFS: %w", err)
	}
	a.log.WithFields(logrus.Fields{"version": best, "constraint": constraint}).Info("resolved OpenZFS version")
	return best, nil
}

// fits returns the rule a release must meet on the target kernels, from
// the offered packages' own requirements and, for kmod, the kernels'
// symbols read now (one rpm call).
func (a *applier) fits(offered []facts.Package) (func(string) error, error) {
	kernels := a.p.Kernels()
	if a.b.Name() == spec.PackagingDKMS {
		unameR := slices.ContainsFunc(a.f.Kernel.Installed, func(ik facts.InstalledKernel) bool {
			return !strings.HasPrefix(ik.Package, "kernel-lt") && !strings.HasPrefix(ik.Package, "kernel-ml")
		})
		return func(v string) error {
			pkg := offeredAt(offered, "zfs-dkms", v)
			reqs := backends.ParseKernelRequires(strings.Join(pkg.Requires, "\n"))
			for _, kr := range kernels {
				k := catalog.ClassifyKernel(kr, a.f.Kernel.Owner(kr))
				if _, err := backends.CheckDKMS(v, k, nil); err != nil {
					return err
				}
				if err := backends.CheckRequires("zfs-dkms-"+v, reqs, k); err != nil {
					return err
				}
			}
			if !unameR && slices.ContainsFunc(pkg.Requires, func(r string) bool { return strings.HasPrefix(r, "kernel-uname-r") }) {
				return fmt.Errorf("zfs-dkms %s requires kernel-uname-r, which no installed kernel provides (ELRepo kernels provide kernel-lt-uname-r or kernel-ml-uname-r): dnf would install a stock kernel-core nobody asked for", v)
			}
			return nil
		}, nil
	}
	var targets []facts.InstalledKernel
	for _, kr := range kernels {
		targets = append(targets, facts.InstalledKernel{Release: kr, Package: a.f.Kernel.Owner(kr)})
	}
	want := map[string]bool{}
	for _, p := range offered {
		if p.Name == "kmod-zfs" {
			for sym := range backends.KmodSymbols(p.Requires) {
				want[sym] = true
			}
		}
	}
	if len(want) > 0 {
		syms, err := a.c.KernelSymbols(a.ctx, targets, want)
		if err != nil {
			return nil, err
		}
		for i := range targets {
			targets[i].Symbols, targets[i].SymbolsRead = syms[targets[i].Release], targets[i].Package != ""
		}
	}
	return func(v string) error {
		kmod := offeredAt(offered, "kmod-zfs", v)
		for _, k := range targets {
			if fit := backends.FitKmod(kmod, k); !fit.Fits() {
				return fmt.Errorf("%s; use packaging = \"dkms\", or plan again with --refresh (auto then chooses DKMS)", fit.Describe(kmod, k.Release))
			}
		}
		return nil
	}, nil
}

func offeredAt(offered []facts.Package, name, v string) facts.Package {
	for _, p := range offered {
		if p.Name == name && p.Version == v {
			return p
		}
	}
	return facts.Package{Name: name, Version: v}
}

// noKernelChosen refuses the transaction dnf resolved (changes) when dnf
// would install, upgrade, downgrade or remove a kernel package the plan
// does not name: dnf must never choose a kernel (EPEL
// dkms's "(kernel-devel-matched if kernel-core)" pulls the newest kernel;
// zfs-dkms >= 2.2.8 requires kernel-uname-r, which ELRepo kernels do not
// provide; a kmod's kABI requires made dnf install an older kernel-core,
// openzfs/zfs#17987).
func (a *applier) noKernelChosen(pr *prepared, changes []pkgmgr.Change) error {
	// Installing headers or the devel-matched twin of a kernel that is
	// installed, or that the plan names, chooses no kernel.
	known := map[string]bool{}
	for _, ik := range a.f.Kernel.Installed {
		rel, _, _ := strings.Cut(ik.Release, "+")
		known[strings.TrimSuffix(rel, "."+a.f.Arch)] = true
	}
	for _, st := range pr.todo {
		if p := st.Package; p != nil && p.NVRA != "" {
			known[strings.TrimSuffix(strings.TrimPrefix(p.NVRA, p.Name+"-"), "."+a.f.Arch)] = true
		}
	}
	var chosen []string
	for _, ch := range changes {
		if !catalog.IsKernelPackage(ch.Name) || ch.Action == "install" && known[ch.Version] {
			continue
		}
		chosen = append(chosen, ch.Action+" "+ch.Name+"-"+ch.Version+"."+ch.Arch)
	}
	if len(chosen) == 0 {
		return nil
	}
	return fmt.Errorf("refusing before installing anything: to carry out this transaction dnf would %s, a kernel the plan does not name; zfsinstall never lets dnf choose a kernel (it would become the next boot, or remove the one in use). "+
		"Usual causes: a kmod-zfs whose kABI symbols only an older kernel-core provides (openzfs/zfs#17987: use DKMS or wait for a rebuilt kmod); zfs-dkms 2.2.8/2.3.2 and later requiring kernel-uname-r on a host with only ELRepo kernels (pin an earlier release); EPEL dkms's (kernel-devel-matched if kernel-core) reaching for a newer kernel. See `dnf --assumeno install %s`",
		strings.Join(chosen, ", "), strings.Join(pr.t.Install, " "))
}

// openZFSPackage reports whether a package is one of OpenZFS's own, which
// move with the release.
func openZFSPackage(name string) bool {
	for _, p := range []string{"zfs", "libzfs", "libzpool", "libnvpair", "libuutil", "kmod-zfs", "python3-pyzfs"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// librariesStay refuses a release whose library packages have other names
// than the installed ones (libzfs5 on 2.1/2.2, libzfs6 on 2.3, libzfs7 on
// 2.4: the new ones obsolete the old, rpm/generic/zfs.spec.in) while
// packages that are not OpenZFS's own require the old ones: dnf would
// refuse the transaction, or remove them.
func (a *applier) librariesStay(v string, installed installedSet) error {
	libs, ok := catalog.LibrariesFor(v)
	if !ok {
		return nil
	}
	var old []string
	for _, p := range installed.all {
		if slices.Contains(catalog.LibraryPackageNames(), p.Name) &&
			!slices.Contains(append(libs.Runtime(), libs.LibZFSDevel), p.Name) && !slices.Contains(old, p.Name) {
			old = append(old, p.Name)
		}
	}
	if len(old) == 0 {
		return nil
	}
	users, err := a.c.WhatRequires(a.ctx, old...)
	if err != nil {
		return err
	}
	var blocking []string
	for _, u := range users {
		if !openZFSPackage(u.Name) {
			blocking = append(blocking, u.NVRA())
		}
	}
	if len(blocking) == 0 {
		return nil
	}
	return fmt.Errorf("OpenZFS %s replaces %s with %s (their Obsoletes), and these packages require the old ones: %s; dnf would refuse the transaction or remove them. Rebuild or remove them first, or stay on the installed release's branch (zfs.repo = \"x.y\", zfs.version = \"~> x.y.0\")",
		v, strings.Join(old, ", "), strings.Join(libs.Runtime(), ", "), strings.Join(blocking, ", "))
}
