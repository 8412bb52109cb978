package catalog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	version "github.com/hashicorp/go-version"
)

// Advisory severities, from advisories.tsv.
const (
	// SeverityError marks a defect zfsinstall refuses to install or pin
	// unless the spec accepts it by ID: data loss or corruption, or a kernel
	// panic, with upstream evidence.
	SeverityError = "error"
	// SeverityWarning marks a defect worth telling about that does not stop
	// an install.
	SeverityWarning = "warning"
)

// Advisory conditions, from advisories.tsv: what a host must do to be hit.
const (
	ConditionAlways     = ""           // any host
	ConditionEncryption = "encryption" // only with native encryption
	ConditionMmap       = "mmap"       // only files written through mmap(2)
)

// conditionText says each condition for people.
var conditionText = map[string]string{
	ConditionAlways:     "",
	ConditionEncryption: "only with native encryption (encrypted datasets, and zfs send/receive of them)",
	ConditionMmap:       "only for files written through mmap(2)",
}

// Advisory is a known serious defect in OpenZFS releases, from
// advisories.tsv and advisory-ranges.tsv. Every advisory cites its upstream
// report in Source and, per affected branch, the commit that fixed it.
type Advisory struct {
	ID        string // "ZFS-2023-15526": year the upstream issue was opened, issue number
	Severity  string // SeverityError or SeverityWarning
	Condition string // one of the Condition constants
	Impact    string // one line, for people
	Source    string // URL of the upstream issue
	SeeAlso   []string
	// Aliases are IDs earlier zfsinstall versions gave this advisory; a
	// spec's allow_known_bad may still name them.
	Aliases []string
	// Ranges are the affected releases, one per branch, oldest branch first.
	Ranges []AffectedRange
	// AffectedText is Ranges for people: "2.1.0-2.1.13, 2.2.0-2.2.1".
	AffectedText string
	// FixedIn is the fixed release on the newest affected branch, "" when
	// that branch has none. It is never older than an affected release, so
	// it is never a downgrade, but for an older branch's host it may not be
	// the nearest fix: FixFor and Advice name that.
	FixedIn string
}

// AffectedRange is the affected releases of one branch.
type AffectedRange struct {
	Branch      string // "2.2"
	First, Last string // oldest and newest affected release: "2.2.0", "2.2.1"
	FixedIn     string // first release of the branch with the fix; "" if the branch never got it
	FixCommit   string // the fixing commit on this branch (openzfs/zfs), "" with FixedIn
	Note        string
	first, last *version.Version
}

// contains reports whether v is inside the range.
func (r AffectedRange) contains(v *version.Version) bool {
	return !v.LessThan(r.first) && !r.last.LessThan(v)
}

// Advisories returns every advisory in file order. The slice is the
// caller's to keep.
func Advisories() []Advisory {
	return append([]Advisory(nil), data().advisories...)
}

// Affecting returns every advisory, of any severity, whose affected ranges
// hold the OpenZFS version v ("2.2.1", "2.2.1-1", "zfs-kmod-2.2.1-1"; the rpm
// release is ignored). An unparsable v has none. A release older than
// releases.tsv (0.6.x, 0.7.x) has none listed, though older defects such as
// ZFS-2023-15526 reach back that far.
func Affecting(v string) []Advisory {
	ver, err := parseZFSVersion(v)
	if err != nil {
		return nil
	}
	var out []Advisory
	for _, a := range data().advisories {
		if a.affects(ver) {
			out = append(out, a)
		}
	}
	return out
}

// AdvisoriesFor returns the advisories of severity SeverityError that hold
// v: the ones a plan refuses. Warnings are left out; Affecting has them all.
func AdvisoriesFor(v string) []Advisory {
	var out []Advisory
	for _, a := range Affecting(v) {
		if a.Severity == SeverityError {
			out = append(out, a)
		}
	}
	return out
}

// Unaccepted returns the advisories of severity SeverityError against v
// that accepted (a spec's allow_known_bad) names neither by ID nor by one of
// its Aliases.
func Unaccepted(v string, accepted []string) []Advisory {
	var out []Advisory
	for _, a := range AdvisoriesFor(v) {
		if !a.AcceptedBy(accepted) {
			out = append(out, a)
		}
	}
	return out
}

// AcceptedBy reports whether accepted (a spec's allow_known_bad) names the
// advisory by its ID or one of its aliases.
func (a Advisory) AcceptedBy(accepted []string) bool {
	if slices.Contains(accepted, a.ID) {
		return true
	}
	for _, alias := range a.Aliases {
		if slices.Contains(accepted, alias) {
			return true
		}
	}
	return false
}

// Affects reports whether the OpenZFS version v is in one of the
// advisory's affected ranges.
func (a Advisory) Affects(v string) bool {
	ver, err := parseZFSVersion(v)
	return err == nil && a.affects(ver)
}

func (a Advisory) affects(v *version.Version) bool {
	for _, r := range a.Ranges {
		if r.contains(v) {
			return true
		}
	}
	return false
}

// RangeFor returns the affected range holding v.
func (a Advisory) RangeFor(v string) (AffectedRange, bool) {
	ver, err := parseZFSVersion(v)
	if err != nil {
		return AffectedRange{}, false
	}
	for _, r := range a.Ranges {
		if r.contains(ver) {
			return r, true
		}
	}
	return AffectedRange{}, false
}

// ConditionText says when the advisory applies, for people: "" when it
// applies to every host.
func (a Advisory) ConditionText() string {
	return conditionText[a.Condition]
}

// FixFor returns the release to move an affected v to: the nearest release
// newer than v that the advisory does not affect. That is the fixed release
// of v's branch when it has one, else the first unaffected release of the
// next newer branch (its fixed release, or its first release when the branch
// was never affected). It is always newer than v, never a downgrade. ok is
// false when v is not affected or no newer unaffected release is known.
func (a Advisory) FixFor(v string) (Release, bool) {
	ver, err := parseZFSVersion(v)
	if err != nil || !a.affects(ver) {
		return Release{}, false
	}
	for _, r := range data().releases {
		if r.Kind == KindRelease && ver.LessThan(r.Version) && !a.affects(r.Version) {
			return r, true
		}
	}
	return Release{}, false
}

// Advice says what an administrator on (or about to install) OpenZFS v
// should do about the advisory: the nearest fixed release, on v's branch
// when it has one, and the zfs.version constraint that reaches it without
// allowing a downgrade. It is "" when v is not affected.
func (a Advisory) Advice(v string) string {
	r, inRange := a.RangeFor(v)
	if !inRange {
		return ""
	}
	fix, ok := a.FixFor(v)
	switch {
	case !ok:
		return fmt.Sprintf("No newer release without this defect is known upstream (%s).", a.Source)
	case fix.Branch() == r.Branch:
		return fmt.Sprintf("Fixed in %s on the %s branch: allow it with zfs.version = \"~> %s\" (or any newer release).",
			fix.Version, r.Branch, fix.Version)
	default:
		return fmt.Sprintf("No %s release fixes it; the nearest fix is %s on the %s branch: allow it with zfs.version = \"~> %s\" and zfs.repo = %q (or \"latest\").",
			r.Branch, fix.Version, fix.Branch(), fix.Version, fix.Branch())
	}
}

// NearestSafe returns the oldest release at or above v that no advisory of
// severity SeverityError affects: v itself when it is clean, else the
// nearest release on v's branch, else on the next newer branches. It never
// returns a release older than v. Kernel support is not considered.
func NearestSafe(v string) (Release, bool) {
	ver, err := parseZFSVersion(v)
	if err != nil {
		return Release{}, false
	}
	for _, r := range data().releases {
		if r.Kind != KindRelease || r.Version.LessThan(ver) {
			continue
		}
		if len(AdvisoriesFor(r.Version.String())) == 0 {
			return r, true
		}
	}
	return Release{}, false
}

func parseAdvisories(b []byte) ([]Advisory, error) {
	const name = "advisories.tsv"
	rows, err := readTSV(name, b, []string{"id", "severity", "condition", "impact", "source", "see_also", "aliases"})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []Advisory
	for _, row := range rows {
		f := row.fields
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, row.line, fmt.Sprintf(format, args...))
		}
		a := Advisory{ID: f[0], Severity: f[1], Condition: f[2], Impact: f[3], Source: f[4],
			SeeAlso: strings.Fields(f[5]), Aliases: strings.Fields(f[6])}
		number, err := advisoryNumber(a.ID)
		if err != nil {
			return nil, bad("%v", err)
		}
		for _, id := range append([]string{a.ID}, a.Aliases...) {
			if seen[id] {
				return nil, bad("id %s listed twice", id)
			}
			seen[id] = true
			if _, err := advisoryNumber(id); err != nil {
				return nil, bad("alias: %v", err)
			}
		}
		if a.Severity != SeverityError && a.Severity != SeverityWarning {
			return nil, bad("severity %q is not %q or %q", a.Severity, SeverityError, SeverityWarning)
		}
		if _, ok := conditionText[a.Condition]; !ok {
			return nil, bad("condition %q is not one of \"\", %q, %q", a.Condition, ConditionEncryption, ConditionMmap)
		}
		if !strings.HasPrefix(a.Source, "https://") || !strings.HasSuffix(a.Source, "/"+number) {
			return nil, bad("source %q is not an https URL ending in the issue number %s", a.Source, number)
		}
		for _, u := range a.SeeAlso {
			if !strings.HasPrefix(u, "https://") {
				return nil, bad("see_also %q is not an https URL", u)
			}
		}
		if strings.TrimSpace(a.Impact) == "" {
			return nil, bad("impact is empty")
		}
		out = append(out, a)
	}
	return out, nil
}

// parseAdvisoryRanges reads advisory-ranges.tsv into the advisories it
// belongs to, checking each range against the releases: every version named
// is a release of the row's branch, first <= last, fixed_in is the release
// right after last, and a branch without a fix is affected up to its newest
// release.
func parseAdvisoryRanges(b []byte, advs []Advisory, rels []Release) error {
	const name = "advisory-ranges.tsv"
	rows, err := readTSV(name, b, []string{"id", "branch", "first_affected", "last_affected", "fixed_in", "fix_commit", "note"})
	if err != nil {
		return err
	}
	index := map[string]int{}
	for i, a := range advs {
		index[a.ID] = i
	}
	for _, row := range rows {
		f := row.fields
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, row.line, fmt.Sprintf(format, args...))
		}
		i, ok := index[f[0]]
		if !ok {
			return bad("id %s is not in advisories.tsv", f[0])
		}
		r := AffectedRange{Branch: f[1], First: f[2], Last: f[3], FixedIn: f[4], FixCommit: f[5], Note: f[6]}
		branch := branchReleases(rels, r.Branch)
		if len(branch) == 0 {
			return bad("branch %q has no releases in releases.tsv", r.Branch)
		}
		find := func(col, v string) (int, error) {
			for j, rel := range branch {
				if rel.Version.String() == v {
					return j, nil
				}
			}
			return 0, bad("%s %q is not a %s release in releases.tsv", col, v, r.Branch)
		}
		first, err := find("first_affected", r.First)
		if err != nil {
			return err
		}
		last, err := find("last_affected", r.Last)
		if err != nil {
			return err
		}
		if last < first {
			return bad("last_affected %s is older than first_affected %s", r.Last, r.First)
		}
		r.first, r.last = branch[first].Version, branch[last].Version
		switch {
		case r.FixedIn == "" && r.FixCommit != "":
			return bad("fix_commit %s without fixed_in", r.FixCommit)
		case r.FixedIn == "" && last != len(branch)-1:
			return bad("no fixed_in, but %s is not the newest %s release (%s): name the fix or extend the range", r.Last, r.Branch, branch[len(branch)-1].Version)
		case r.FixedIn != "":
			fixed, err := find("fixed_in", r.FixedIn)
			if err != nil {
				return err
			}
			if fixed != last+1 {
				return bad("fixed_in %s is not the release right after last_affected %s", r.FixedIn, r.Last)
			}
			if len(r.FixCommit) != 40 || strings.Trim(r.FixCommit, "0123456789abcdef") != "" {
				return bad("fix_commit %q is not a 40-hex commit", r.FixCommit)
			}
		}
		a := &advs[i]
		for _, prev := range a.Ranges {
			if prev.Branch == r.Branch {
				return bad("%s has two ranges on branch %s", a.ID, r.Branch)
			}
		}
		a.Ranges = append(a.Ranges, r)
	}
	for i := range advs {
		a := &advs[i]
		if len(a.Ranges) == 0 {
			return fmt.Errorf("%s: advisory %s has no affected range", name, a.ID)
		}
		slices.SortFunc(a.Ranges, func(x, y AffectedRange) int { return x.first.Compare(y.first) })
		var parts []string
		for _, r := range a.Ranges {
			if r.First == r.Last {
				parts = append(parts, r.First)
			} else {
				parts = append(parts, r.First+"-"+r.Last)
			}
		}
		a.AffectedText = strings.Join(parts, ", ")
		a.FixedIn = a.Ranges[len(a.Ranges)-1].FixedIn
	}
	return nil
}

// branchReleases returns the releases (development tags excluded) of one
// branch, oldest first.
func branchReleases(rels []Release, branch string) []Release {
	var out []Release
	for _, r := range rels {
		if r.Kind == KindRelease && r.Branch() == branch {
			out = append(out, r)
		}
	}
	return out
}

// advisoryNumber checks an id "ZFS-YYYY-N" and returns N.
func advisoryNumber(id string) (string, error) {
	parts := strings.Split(id, "-")
	if len(parts) != 3 || parts[0] != "ZFS" || len(parts[1]) != 4 || !allDigits(parts[1]) || !allDigits(parts[2]) {
		return "", fmt.Errorf("id %q is not ZFS-YYYY-N", id)
	}
	if year, _ := strconv.Atoi(parts[1]); year < 2010 {
		return "", fmt.Errorf("id %q has an implausible year", id)
	}
	return parts[2], nil
}
