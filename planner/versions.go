package planner

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/cavaliergopher/rpm"
	"github.com/hashicorp/go-version"
	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/spec"
)

// versions is the version-policy stage: it settles the OpenZFS release dnf
// will install when that can be known now, and refuses one that cannot
// work on a target kernel or has a known serious defect, before any step
// is planned. Where the release is only known at apply (a range, the
// repositories not asked), apply resolves it with ResolveVersion and the
// same Fits rule.
func (pl *planner) versions() bool {
	pl.candidate = pl.resolveCandidate()
	pl.advisories()
	pl.libraries()
	return true
}

// libraries says when the release moves to libraries of other names
// (libzfs5 -> libzfs6): apply checks what else requires the old ones
// before it installs anything.
func (pl *planner) libraries() {
	p, ok := pl.f.Installed("zfs")
	if !ok || pl.candidate == "" {
		return
	}
	from, ok1 := catalog.LibrariesFor(p.Version)
	to, ok2 := catalog.LibrariesFor(pl.candidate)
	if ok1 && ok2 && from.LibZFS != to.LibZFS {
		pl.note("OpenZFS %s replaces %s with %s (and the other libraries with theirs, through Obsoletes): apply first checks that no other package requires the old ones and refuses, naming them, if one does.",
			pl.candidate, strings.Join(from.Runtime(), ", "), strings.Join(to.Runtime(), ", "))
	}
}

// versionAttr is the spec attribute a version refusal points at.
func (pl *planner) versionAttr() string {
	if pl.s.ZFS.Version != "" {
		return "zfs.version"
	}
	return "zfs.repo"
}

// resolveCandidate is the OpenZFS version dnf would install: the pinned
// one, or the newest the repositories offer that zfs.version allows and
// that fits every target kernel ("" = unknown until apply asks the
// repositories).
func (pl *planner) resolveCandidate() string {
	if v := exactVersion(pl.s); v != "" {
		if err := pl.Fits(v); err != nil {
			what := "does not fit kernel "
			if pl.buildsDKMS {
				what = "cannot be built for kernel "
			}
			pl.errorf("zfs.version", "OpenZFS "+v+" "+what+pl.p.TargetKernel, "%v.", err)
		}
		pl.warnLoad(v)
		return v
	}
	offered := map[string][]string{}
	for _, p := range pl.f.Available.Packages {
		if p.Name == "zfs" || p.Name == pl.backend.ModulePackage() {
			offered[p.Name] = append(offered[p.Name], p.Version)
		}
	}
	if len(offered[pl.backend.ModulePackage()]) == 0 {
		pl.rangeBuilds()
		return "" // not asked, or no OpenZFS repository yet: apply resolves it
	}
	q := VersionQuery{Names: []string{"zfs", pl.backend.ModulePackage()}, Offered: offered, Constraint: pl.s.ZFS.Version,
		AllowKnownBad: pl.s.ZFS.AllowKnownBad, AllowDowngrade: true, Fits: pl.Fits}
	v, err := ResolveVersion(q)
	if err != nil {
		pl.errorf(pl.versionAttr(), "no OpenZFS release on offer can be installed", "%v.", err)
		return ""
	}
	pl.warnLoad(v)
	return v
}

// Fits says whether OpenZFS v, packaged as planned, can work on every
// target kernel: for DKMS, it builds there (META range and the known
// build breaks) and its requirements pull in no kernel nobody asked for;
// for kmod, the offered kmod-zfs of that version fits each kernel's kABI.
func (pl *planner) Fits(v string) error {
	for _, k := range pl.kernels {
		if pl.buildsDKMS {
			if _, err := backends.CheckDKMS(v, k, pl.s.ZFS.Constraint); err != nil {
				return err
			}
			continue
		}
		ik, ok := pl.installedKernel(k.Release)
		if !ok {
			continue
		}
		for _, p := range pl.f.Available.Packages {
			if p.Name == "kmod-zfs" && backends.SameVersion(p.Version, v) {
				if fit := backends.FitKmod(p, ik); !fit.Fits() {
					return fmt.Errorf("%s", fit.Describe(p, k.Release))
				}
			}
		}
	}
	if pl.buildsDKMS {
		return pl.unameRFits(v)
	}
	return nil
}

// warnLoad warns about a release that builds on a target kernel but trips
// a kernel warning when its module loads there.
func (pl *planner) warnLoad(v string) {
	if !pl.buildsDKMS {
		return
	}
	for _, k := range pl.kernels {
		if w, err := backends.CheckDKMS(v, k, pl.s.ZFS.Constraint); err == nil && w != "" {
			pl.warnf(pl.versionAttr(), "OpenZFS "+v+" is not supported on kernel "+k.Release, "%s.", w)
		}
	}
}

// rangeBuilds refuses, for DKMS with the repositories not asked, a
// zfs.version that no OpenZFS release can satisfy on a target kernel: not
// one release it allows is known to build there. A constraint that allows
// releases newer than the embedded table is given the benefit of the doubt.
func (pl *planner) rangeBuilds() {
	c := pl.s.ZFS.Constraint
	if !pl.buildsDKMS || c == nil || allowsNewer(c) {
		return
	}
	for _, k := range pl.kernels {
		if _, ok := catalog.NewestDKMSBuilding(k, c); ok {
			continue
		}
		pl.errorf("zfs.version", fmt.Sprintf("no OpenZFS release zfs.version = %q allows builds on kernel %s", pl.s.ZFS.Version, k.Release),
			"%s.", noneBuilds(k, c))
	}
}

// noneBuilds explains that no release in the constraint builds on k.
func noneBuilds(k catalog.KernelInfo, c version.Constraints) string {
	msg := fmt.Sprintf("of the OpenZFS releases zfs.version allows, none builds with DKMS on kernel %s (Linux %s)", k.Release, k.Upstream)
	if r, ok := catalog.NewestDKMSBuilding(k, nil); ok {
		return msg + fmt.Sprintf(": widen zfs.version (OpenZFS %s builds there; set zfs.repo = %q or \"latest\") or boot a kernel it supports", r.Version, r.Branch())
	}
	return msg + ": no OpenZFS release known to zfsinstall builds there; boot a kernel OpenZFS supports (the distribution kernel or ELRepo kernel-lt)"
}

// allowsNewer reports whether c allows an OpenZFS release newer than every
// one in the embedded table (one the table cannot judge).
func allowsNewer(c version.Constraints) bool {
	rs := catalog.Releases()
	newest := rs[len(rs)-1].Version.Segments()
	for _, v := range []string{
		fmt.Sprintf("%d.%d.%d", newest[0], newest[1], newest[2]+1),
		fmt.Sprintf("%d.%d.0", newest[0], newest[1]+1),
		fmt.Sprintf("%d.0.0", newest[0]+1),
	} {
		if c.Check(version.Must(version.NewVersion(v))) {
			return true
		}
	}
	return false
}

// unameRFits refuses a zfs-dkms that requires kernel-uname-r on a host
// where no installed kernel provides it: zfs-dkms 2.2.8 and 2.3.2 onwards
// require it (rpm/generic/zfs-dkms.spec.in, commit 3b58dd5e1a, openzfs/zfs
// #17265), ELRepo's kernels provide kernel-lt-uname-r or kernel-ml-uname-r
// instead, so dnf would pull in a stock kernel-core nobody asked for, and
// it would become the next boot.
func (pl *planner) unameRFits(v string) error {
	for _, ik := range pl.f.Kernel.Installed {
		if providesUnameR(ik.Package) {
			return nil
		}
	}
	if !dkmsRequiresUnameR(v, pl.f.Available.Packages) {
		return nil
	}
	return fmt.Errorf("zfs-dkms %s requires kernel-uname-r (OpenZFS 2.2.8 and 2.3.2 onwards, openzfs/zfs#17265), which only the distribution's kernel-core provides; no installed kernel provides it (ELRepo kernels provide kernel-lt-uname-r or kernel-ml-uname-r), so dnf would install a stock kernel-core nobody asked for and make it the next boot. "+
		"Pin a release before the requirement (zfs.version = \"~> 2.2.0, < 2.2.8\" or \"< 2.3.2\" on 2.3), or install the distribution kernel deliberately first", backends.Short(v))
}

// providesUnameR reports whether a kernel's owning package provides
// kernel-uname-r: the distribution's kernels do, ELRepo's do not.
func providesUnameR(owner string) bool {
	return !strings.HasPrefix(owner, "kernel-lt") && !strings.HasPrefix(owner, "kernel-ml")
}

// dkmsRequiresUnameR says whether zfs-dkms v requires kernel-uname-r: from
// its metadata when the repositories were asked, else from the release
// table (the spec at its tag).
func dkmsRequiresUnameR(v string, offered []facts.Package) bool {
	for _, p := range offered {
		if p.Name == "zfs-dkms" && backends.SameVersion(p.Version, v) {
			return slices.ContainsFunc(p.Requires, func(r string) bool { return strings.HasPrefix(r, "kernel-uname-r") })
		}
	}
	r, ok := catalog.LookupRelease(v)
	return ok && strings.Contains(r.DKMSKernelRequires, "kernel-uname-r")
}

// advisories refuses a pinned or resolved OpenZFS version with a known
// serious defect (an advisory of severity error) unless the spec accepts
// that advisory by ID, warns about one of severity warning, and warns about
// an installed release with either. The advice never names an older
// release than the one in question.
func (pl *planner) advisories() {
	if v := pl.candidate; v != "" {
		for _, a := range catalog.Affecting(v) {
			switch {
			case a.AcceptedBy(pl.s.ZFS.AllowKnownBad):
				pl.note("OpenZFS %s is affected by %s (%s; %s), accepted by allow_known_bad.", v, a.ID, a.Impact, a.Source)
			case a.Severity == catalog.SeverityError:
				pl.errorf(pl.versionAttr(), fmt.Sprintf("OpenZFS %s has a known serious defect (%s)", v, a.ID),
					"%s. To install it anyway, add %q to zfs.allow_known_bad.", advisoryText(a, v), a.ID)
			default:
				pl.warnf(pl.versionAttr(), fmt.Sprintf("OpenZFS %s has a known defect (%s)", v, a.ID), "%s.", advisoryText(a, v))
			}
		}
	}
	if p, ok := pl.f.Installed("zfs"); ok && p.Version != pl.candidate {
		for _, a := range catalog.Affecting(p.Version) {
			if !a.AcceptedBy(pl.s.ZFS.AllowKnownBad) {
				pl.warnf("", fmt.Sprintf("installed OpenZFS %s has a known defect (%s)", p.Version, a.ID), "%s.", advisoryText(a, p.Version))
			}
		}
	}
}

// advisoryText says what an advisory is about, whom it hits, and what to do
// for version v.
func advisoryText(a catalog.Advisory, v string) string {
	text := fmt.Sprintf("%s: %s (affected: %s)", a.Source, a.Impact, a.AffectedText)
	if c := a.ConditionText(); c != "" {
		text += "; " + c
	}
	return text + ". " + strings.TrimSuffix(a.Advice(v), ".")
}

// downgrade reports whether meeting zfs.version means going below the
// installed version: no release the constraint allows (of those offered,
// or, when the repositories were not asked, of all OpenZFS releases) is at
// least the installed one.
func (pl *planner) downgrade(installed string) bool {
	c := pl.s.ZFS.Constraint
	if c == nil {
		return false
	}
	var versions []string
	if pl.f.Available.Known {
		for _, p := range pl.f.Available.Packages {
			if p.Name == "zfs" {
				versions = append(versions, p.Version)
			}
		}
	} else {
		for _, r := range catalog.Releases() {
			if r.Kind == catalog.KindRelease {
				versions = append(versions, r.Version.String())
			}
		}
	}
	iv := mustVersion(installed)
	for _, v := range versions {
		if pv := mustVersion(v); c.Check(pv) && !pv.LessThan(iv) {
			return false
		}
	}
	return true
}

// exactVersion returns the version when zfs.version pins one ("2.2.7" or
// "= 2.2.7"), as its packages spell it: "2.2" pins 2.2.0 (the spec warns).
func exactVersion(s *spec.Spec) string {
	v := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s.ZFS.Version), "="))
	if v == "" || strings.ContainsAny(v, "<>~!,= ") {
		return ""
	}
	if pv, err := version.NewVersion(v); err == nil {
		return pv.String()
	}
	return v
}

// mustVersion parses an installed package's version; rpm versions that
// go-version cannot read compare as 0.
func mustVersion(v string) *version.Version {
	pv, err := version.NewVersion(v)
	if err != nil {
		pv, _ = version.NewVersion("0")
	}
	return pv
}

// VersionQuery is what ResolveVersion chooses the OpenZFS version from.
type VersionQuery struct {
	// Names are the packages that must all be offered at the version: zfs
	// and the module package, or only the module package when zfs is
	// installed and stays (it must then match the installed userland).
	Names []string
	// Offered maps each name to the versions the repositories offer.
	Offered map[string][]string
	// Constraint is zfs.version as written ("" = any).
	Constraint string
	// AllowKnownBad are the advisory IDs the spec accepts.
	AllowKnownBad []string
	// Installed is the installed zfs version ("" = none); AllowDowngrade
	// lets the result be older.
	Installed      string
	AllowDowngrade bool
	// Fits says whether a version can work on every target kernel (nil:
	// all can); a version that does not fit is never chosen.
	Fits func(version string) error
}

// ResolveVersion picks the newest OpenZFS version every name is offered at
// that satisfies the constraint, has no unaccepted advisory and fits the
// target kernels. It refuses a downgrade unless allowed. Apply uses it with
// the repositories' answer; it is the one rule for "which release".
func ResolveVersion(q VersionQuery) (string, error) {
	offered := map[string]map[string]bool{}
	for _, n := range q.Names {
		offered[n] = map[string]bool{}
		for _, v := range q.Offered[n] {
			offered[n][v] = true
		}
	}
	var common []string
	for v := range offered[q.Names[0]] {
		if !slices.ContainsFunc(q.Names[1:], func(n string) bool { return !offered[n][v] }) {
			common = append(common, v)
		}
	}
	if q.Installed != "" && !slices.Contains(q.Names, "zfs") {
		// Only the module package is new: it must match the installed userland.
		common = nil
		if offered[q.Names[0]][q.Installed] {
			common = []string{q.Installed}
		}
	}
	var c version.Constraints
	if q.Constraint != "" {
		var err error
		if c, err = version.NewConstraint(q.Constraint); err != nil {
			return "", err
		}
	}
	best := ""
	var skipped []string
	var unfit []string
	for _, v := range common {
		pv, err := version.NewVersion(v)
		if err != nil || (c != nil && !c.Check(pv)) {
			continue
		}
		if bad := catalog.Unaccepted(v, q.AllowKnownBad); len(bad) > 0 {
			var ids []string
			for _, adv := range bad {
				ids = append(ids, adv.ID)
			}
			skipped = append(skipped, v+" ("+strings.Join(ids, ", ")+")")
			continue
		}
		if q.Fits != nil {
			if err := q.Fits(v); err != nil {
				unfit = append(unfit, err.Error())
				continue
			}
		}
		if best == "" || rpm.CompareVersions(v, best) > 0 {
			best = v
		}
	}
	if best == "" {
		if len(unfit) > 0 && len(skipped) == 0 {
			sort.Strings(unfit)
			return "", fmt.Errorf("%s", strings.Join(unfit, "; "))
		}
		known := ""
		if len(skipped) > 0 {
			sort.Strings(skipped)
			known = "; skipped for known serious defects: " + strings.Join(skipped, ", ") + " (accept one with zfs.allow_known_bad)"
		}
		if len(unfit) > 0 {
			sort.Strings(unfit)
			known += "; skipped because they cannot work on the target kernel: " + strings.Join(unfit, "; ")
		}
		return "", fmt.Errorf("no version of %s satisfying %q is offered by the enabled repositories (offered: %s%s); check zfs.version and zfs.repo, or `dnf repoquery %s`",
			strings.Join(q.Names, " and "), anyVersion(q.Constraint), describeOffered(offered), known, strings.Join(q.Names, " "))
	}
	if q.Installed != "" && rpm.CompareVersions(best, q.Installed) < 0 && !q.AllowDowngrade {
		return "", fmt.Errorf("refusing to downgrade zfs from %s to %s, the newest release zfs.version (%q) allows in the enabled section: set allow_downgrade = true if that is intended, or widen zfs.version", q.Installed, best, anyVersion(q.Constraint))
	}
	return best, nil
}

// anyVersion shows an empty constraint as "any".
func anyVersion(c string) string {
	if c == "" {
		return "any"
	}
	return c
}

func describeOffered(o map[string]map[string]bool) string {
	var parts []string
	for n, vs := range o {
		var l []string
		for v := range vs {
			l = append(l, v)
		}
		sort.Strings(l)
		if len(l) == 0 {
			l = []string{"none"}
		}
		parts = append(parts, n+" "+strings.Join(l, ", "))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}
