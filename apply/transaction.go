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
	"github.com/zfsinstall/zfsinstall/gather"
	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/spec"
)

// installedSet is what the rpm database holds of the packages a
// transaction is about, read in one rpm call.
type installedSet struct {
	all    []facts.Package
	newest map[string]facts.Package
}

func (a *applier) installedSet(steps []planner.Step) (installedSet, error) {
	names := []string{"zfs-release"} // never the release file itself: rpm -q FILE.rpm queries the file
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

// transaction runs a group of release and package steps as one dnf
// transaction (plus, for zfs-release, the verification and key import that
// must precede it).
func (a *applier) transaction(steps []planner.Step) error {
	installed, err := a.installedSet(steps)
	if err != nil {
		return &StepError{steps[0], err}
	}
	var todo []planner.Step
	for _, st := range steps {
		if installed.satisfied(st) {
			a.skipped(st)
			continue
		}
		if st.Kind != planner.KindRelease && st.Package == nil {
			return &StepError{st, missingPayload(st)}
		}
		todo = append(todo, st)
	}
	if len(todo) == 0 {
		return nil
	}
	var t pkgmgr.Transaction
	var zfs []planner.Step
	for _, st := range todo {
		switch {
		case st.Kind == planner.KindRelease:
			file, key, done, err := a.fetchRelease(st)
			if err != nil {
				return &StepError{st, err}
			}
			defer done()
			if err := a.importKeys(key); err != nil {
				return &StepError{st, fmt.Errorf("importing %s: %w", key.Name, err)}
			}
			t.Install = append(t.Install, file)
		case st.Action == planner.Delete:
			t.Remove = append(t.Remove, st.Package.Name)
		case st.Package.ZFS:
			zfs = append(zfs, st)
		default:
			t.Install = append(t.Install, st.Package.Spec())
		}
		for _, r := range stEnable(st) {
			if !slices.Contains(t.Enable, r) {
				t.Enable = append(t.Enable, r)
			}
		}
	}
	if len(zfs) > 0 {
		ver, err := a.resolve(zfs, installed)
		if err != nil {
			return &StepError{zfs[0], err}
		}
		for _, st := range zfs {
			t.Install = append(t.Install, st.Package.Name+"-"+ver)
		}
	}
	if st, err := a.develOffered(todo, t.Enable); err != nil {
		return &StepError{st, err}
	}
	for _, st := range todo {
		a.hooks.Started(st)
	}
	start := time.Now()
	if err := a.importRepoKeys(t.Enable); err != nil {
		return &StepError{todo[len(todo)-1], err}
	}
	a.res.Transactions++
	if err := a.c.Run(a.ctx, t); err != nil {
		return &StepError{todo[len(todo)-1], err}
	}
	// Verify every step of the transaction against the rpm database.
	if installed, err = a.installedSet(steps); err != nil {
		return &StepError{todo[0], err}
	}
	took := time.Since(start).Round(time.Millisecond)
	for _, st := range todo {
		if !installed.satisfied(st) {
			return &StepError{st, fmt.Errorf("verifying: dnf finished but the rpm database does not show %s %s", st.Action, st.Summary)}
		}
		if p := st.Package; p != nil && p.ZFS {
			a.res.Installed = append(a.res.Installed, installed.newest[p.Name].NVRA())
		}
		a.finished(st, took)
	}
	return nil
}

// versionAllows reports whether constraint c admits version v; what does
// not parse is not held against the package (the planner validated c).
func versionAllows(c, v string) bool {
	cs, err := version.NewConstraint(c)
	pv, verr := version.NewVersion(v)
	return err != nil || verr != nil || cs.Check(pv)
}

func stEnable(st planner.Step) []string {
	if st.Package == nil {
		return nil
	}
	return st.Package.EnableRepos
}

// resolve picks the version of zfs and its module package with the same
// rule the planner uses (planner.ResolveVersion), from what the
// repositories offer now, then checks the chosen release against the target
// kernels with the package's own metadata.
func (a *applier) resolve(zfs []planner.Step, installed installedSet) (string, error) {
	var names []string
	constraint := ""
	for _, st := range zfs {
		names = append(names, st.Package.Name)
		constraint = st.Package.Constraint
		if st.Package.Version != "" {
			constraint = "= " + st.Package.Version
		}
	}
	pkgs, err := a.c.Offered(a.ctx, pkgmgr.Query{}, names...)
	if err != nil {
		return "", err
	}
	offered := map[string][]string{}
	for _, p := range pkgs {
		offered[p.Name] = append(offered[p.Name], p.Version)
	}
	q := planner.VersionQuery{Names: names, Offered: offered, Constraint: constraint,
		AllowKnownBad: a.p.AllowKnownBad, AllowDowngrade: a.p.AllowDowngrade}
	if p, ok := installed.newest["zfs"]; ok {
		q.Installed = p.Version
	}
	if a.b.Name() == spec.PackagingDKMS {
		q.Fits = func(v string) error {
			for _, k := range a.p.Kernels() {
				if err := backends.CheckKernel(v, catalog.ClassifyKernel(k, ""), nil); err != nil {
					return err
				}
			}
			return nil
		}
	}
	best, err := planner.ResolveVersion(q)
	if err != nil {
		return "", fmt.Errorf("refusing before installing ZFS: %w", err)
	}
	if a.b.Name() == spec.PackagingDKMS {
		reqs, err := a.c.Requires(a.ctx, pkgmgr.Query{}, "zfs-dkms-"+best)
		if err != nil {
			return "", err
		}
		for _, k := range a.p.Kernels() {
			if err := backends.CheckRequires("zfs-dkms-"+best, backends.ParseKernelRequires(strings.Join(reqs, "\n")), catalog.ClassifyKernel(k, "")); err != nil {
				return "", fmt.Errorf("refusing before installing ZFS: %w", err)
			}
		}
	} else if err := a.kmodFits(best); err != nil {
		return "", fmt.Errorf("refusing before installing ZFS: %w", err)
	}
	a.log.WithFields(logrus.Fields{"version": best, "constraint": constraint}).Info("resolved OpenZFS version")
	return best, nil
}

// develOffered checks, before the transaction, that the repositories still
// carry the exact kernel-devel packages the plan needs. Mirrors drop an old
// z-stream kernel's packages once a newer one is out; dnf would only say
// "No match for argument", after the other packages were resolved.
func (a *applier) develOffered(todo []planner.Step, enable []string) (planner.Step, error) {
	var want []planner.Step
	var specs []string
	for _, st := range todo {
		if p := st.Package; p != nil && p.NVRA != "" && st.Action == planner.Create {
			want = append(want, st)
			specs = append(specs, p.NVRA)
		}
	}
	if len(want) == 0 {
		return planner.Step{}, nil
	}
	pkgs, err := a.c.Offered(a.ctx, pkgmgr.Query{Enable: enable}, specs...)
	if err != nil {
		return want[0], err
	}
	for _, st := range want {
		if !slices.ContainsFunc(pkgs, func(p facts.Package) bool { return p.NVRA() == st.Package.NVRA }) {
			return st, fmt.Errorf("%s is not offered by any enabled repository: %s", st.Package.NVRA, planner.DevelGone(st.Package.NVRA))
		}
	}
	return planner.Step{}, nil
}

// kmodFits checks that the kmod-zfs about to be installed was built for the
// EL minor release of every target kernel (its modules live under
// /lib/modules/<build kernel>; weak-modules carries them to later z-stream
// kernels of the same minor only).
func (a *applier) kmodFits(version string) error {
	files, err := a.c.Files(a.ctx, pkgmgr.Query{}, "kmod-zfs-"+version)
	if err != nil {
		return err
	}
	for _, fl := range files {
		built := gather.ModulesKernel(fl)
		if built == "" {
			continue
		}
		have := catalog.ClassifyKernel(built, "").ELMinor
		for _, k := range a.p.Kernels() {
			if want := catalog.ClassifyKernel(k, "").ELMinor; want != have {
				return fmt.Errorf("kmod-zfs %s is built for EL %s (kernel %s) but the target kernel %s is EL %s: no kABI-tracking kmod is published for EL %s yet, so the module would not load. Use packaging = \"dkms\", or keep booting an EL %s kernel until OpenZFS publishes one", version, have, built, k, want, want, have)
			}
		}
	}
	return nil
}
