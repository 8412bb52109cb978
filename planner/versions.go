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
	"github.com/zfsinstall/zfsinstall/spec"
)

// versions is the version-policy stage: it settles the OpenZFS release dnf
// will install when that can be known now, and refuses one that cannot
// build on a target kernel or has a known serious defect, before any step
// is planned. Where the release is only known at apply (a range, the
// repositories not asked), apply resolves it with ResolveVersion, the same
// rule.
func (pl *planner) versions() bool {
	pl.candidate = pl.resolveCandidate()
	pl.preflight()
	pl.advisories()
	return true
}

// resolveCandidate is the OpenZFS version dnf would install: the pinned
// one, or the newest the repositories offer within the constraint ("" =
// unknown until apply asks the repositories).
func (pl *planner) resolveCandidate() string {
	if v := exactVersion(pl.s); v != "" {
		return v
	}
	if !pl.f.Available.Known {
		return ""
	}
	best := ""
	for _, p := range pl.f.Available.Packages {
		if p.Name != pl.backend.ModulePackage() || (pl.s.ZFS.Constraint != nil && !pl.s.ZFS.Constraint.Check(mustVersion(p.Version))) {
			continue
		}
		if best == "" || rpm.CompareVersions(p.Version, best) > 0 {
			best = p.Version
		}
	}
	return best
}

// preflight refuses, before anything is installed, an OpenZFS release that
// cannot build on a target kernel. Where the candidate is not known yet
// apply runs the same check once the repositories have answered.
func (pl *planner) preflight() {
	if !pl.buildsDKMS || pl.candidate == "" {
		return
	}
	attr := "zfs.repo"
	if exactVersion(pl.s) != "" {
		attr = "zfs.version"
	}
	for _, k := range pl.kernels {
		if err := backends.CheckKernel(pl.candidate, k, pl.s.ZFS.Constraint); err != nil {
			pl.errorf(attr, "OpenZFS "+pl.candidate+" cannot be built for kernel "+k.Release, "%v.", err)
		}
	}
}

// advisories refuses a pinned or resolved OpenZFS version with a known
// serious defect unless the spec accepts that advisory by ID, and warns
// about an installed one.
func (pl *planner) advisories() {
	if v := pl.candidate; v != "" {
		attr := "zfs.version"
		if exactVersion(pl.s) == "" {
			attr = "zfs.repo"
		}
		for _, a := range catalog.AdvisoriesFor(v) {
			if slices.Contains(pl.s.ZFS.AllowKnownBad, a.ID) {
				pl.note("OpenZFS %s is affected by %s (%s; %s), accepted by allow_known_bad.", v, a.ID, a.Impact, a.Source)
				continue
			}
			pl.errorf(attr, fmt.Sprintf("OpenZFS %s has a known serious defect (%s)", v, a.ID),
				"%s: %s (affected: %s). %s To install it anyway, add %q to zfs.allow_known_bad.",
				a.Source, a.Impact, a.AffectedText, fixedAdvice(a), a.ID)
		}
	}
	if p, ok := pl.f.Installed("zfs"); ok {
		for _, a := range catalog.Unaccepted(p.Version, pl.s.ZFS.AllowKnownBad) {
			pl.warnf("", fmt.Sprintf("installed OpenZFS %s has a known serious defect (%s)", p.Version, a.ID),
				"%s: %s (affected: %s). %s", a.Source, a.Impact, a.AffectedText, fixedAdvice(a))
		}
	}
}

func fixedAdvice(a catalog.Advisory) string {
	if a.FixedIn == "" {
		return "No fixed release is named upstream: avoid the affected versions."
	}
	return "Fixed in " + a.FixedIn + ": set zfs.version to allow it (e.g. \">= " + a.FixedIn + "\")."
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

// exactVersion returns the version when zfs.version pins one ("2.2.7" or "= 2.2.7").
func exactVersion(s *spec.Spec) string {
	v := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s.ZFS.Version), "="))
	if v == "" || strings.ContainsAny(v, "<>~!,= ") {
		return ""
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
