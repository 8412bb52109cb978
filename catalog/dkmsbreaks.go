package catalog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	version "github.com/hashicorp/go-version"
)

// Failure kinds in dkms-breaks.tsv.
const (
	// FailureBuild: configure or compile fails; DKMS leaves no module.
	FailureBuild = "build"
	// FailureLoad: the module builds, but loading it trips a kernel
	// WARNING; upstream did not support the kernel before the fix.
	FailureLoad = "load"
)

// Evidence bases in dkms-breaks.tsv: how much of a row's affected range was
// seen failing, and how much is read from the code at the release tags.
const (
	BasisReport     = "report"      // every affected release was reported failing
	BasisReportCode = "report+code" // some reported, the rest carry the same failing check
	BasisCode       = "code"        // no report on this branch; the failing check is in every affected tag
)

// BuildBreak is one row of dkms-breaks.tsv: OpenZFS releases of one branch
// that do not work when DKMS builds them for certain stock EL or CentOS
// Stream kernels, although the kernel's upstream version is inside the
// releases' META range (Red Hat backports change kernel APIs). Every row
// cites its sources.
type BuildBreak struct {
	Branch       string              // "2.1"
	Affected     version.Constraints // the OpenZFS versions that fail
	AffectedText string              // Affected as written: ">= 2.1.0, <= 2.1.15"
	Kernels      []KernelSelector    // the kernels they fail on
	KernelsText  string              // Kernels as written: "el9.5+,stream9>=446"
	// FirstBuilding is the first release of Branch with this row's fix; ""
	// when the branch never got it. Other rows can cover the same kernel
	// with later fixes: DKMSFirstBuilding combines them.
	FirstBuilding string
	Failure       string   // FailureBuild or FailureLoad
	Basis         string   // BasisReport, BasisReportCode or BasisCode
	Sources       []string // https://github.com/openzfs/zfs URLs; the first is the primary report or fix
	Evidence      string   // one line: what the sources show
}

// KernelSelector picks kernels in a dkms-breaks.tsv row. A stock selector
// matches stock EL kernels of minor Major.Minor (and, with AndLater, every
// later minor of that major); a Stream selector matches CentOS Stream
// kernels of Major whose build number is at least MinBuild.
type KernelSelector struct {
	Stream   bool
	Major    int
	Minor    int  // stock only
	AndLater bool // stock only: this minor and every later one
	MinBuild int  // Stream only: the first field of the kernel release (446 in 5.14.0-446.el9)
}

// Matches reports whether the selector picks kernel k (from ClassifyKernel).
func (s KernelSelector) Matches(k KernelInfo) bool {
	if k.ELMajor != s.Major {
		return false
	}
	if s.Stream {
		build, ok := leadingInt(k.Build)
		return k.Flavor == FlavorStream && ok && build >= s.MinBuild
	}
	if k.Flavor != FlavorStock {
		return false
	}
	major, minor, ok := parseTwoNumbers(k.ELMinor)
	if !ok || major != s.Major {
		return false
	}
	return minor == s.Minor || (s.AndLater && minor > s.Minor)
}

// String names the kernels for people: "EL 9.5 and later minors",
// "CentOS Stream 9 kernels from build 446".
func (s KernelSelector) String() string {
	switch {
	case s.Stream:
		return fmt.Sprintf("CentOS Stream %d kernels from build %d", s.Major, s.MinBuild)
	case s.AndLater:
		return fmt.Sprintf("EL %d.%d and later minors", s.Major, s.Minor)
	}
	return fmt.Sprintf("EL %d.%d", s.Major, s.Minor)
}

// Matches reports whether any of the row's selectors picks kernel k.
func (b BuildBreak) Matches(k KernelInfo) bool {
	for _, s := range b.Kernels {
		if s.Matches(k) {
			return true
		}
	}
	return false
}

// DKMSBreaks returns every row of dkms-breaks.tsv in file order. The slice
// is the caller's to keep.
func DKMSBreaks() []BuildBreak {
	return append([]BuildBreak(nil), data().dkmsBreaks...)
}

// DKMSBreaksFor returns the rows saying that OpenZFS version v ("2.2.7",
// "2.2.7-1", "zfs-2.2.7-1") does not work when DKMS builds it for kernel k:
// build failures first, then load failures, each in file order. An
// unparsable v, or a kernel no row covers, has none. No row is not a
// promise that the build works: the table only holds what was reported or
// read from the code.
func DKMSBreaksFor(v string, k KernelInfo) []BuildBreak {
	ver, err := parseZFSVersion(v)
	if err != nil {
		return nil
	}
	branch := branchOf(ver)
	var out []BuildBreak
	for _, b := range data().dkmsBreaks {
		if b.Branch == branch && b.Affected.Check(ver) && b.Matches(k) {
			out = append(out, b)
		}
	}
	slices.SortStableFunc(out, func(a, b BuildBreak) int {
		return failureRank(a.Failure) - failureRank(b.Failure)
	})
	return out
}

// DKMSBuildBreak returns the row saying that OpenZFS version v does not
// work when DKMS builds it for kernel k, the most severe one (a build
// failure before a load failure) when several do.
func DKMSBuildBreak(v string, k KernelInfo) (BuildBreak, bool) {
	bs := DKMSBreaksFor(v, k)
	if len(bs) == 0 {
		return BuildBreak{}, false
	}
	return bs[0], true
}

// BranchFix says which release of one branch is the first to build on a
// kernel, according to the dkms-breaks.tsv rows covering that kernel.
type BranchFix struct {
	Branch string
	// First is the first release of Branch that builds and loads on the
	// kernel; the zero Release when None.
	First Release
	// None is true when no release of Branch builds there.
	None bool
	// Rows are the dkms-breaks.tsv rows for Branch that cover the kernel.
	Rows []BuildBreak
}

// DKMSFirstBuilding says which release of branch ("2.2") is the first to
// build on kernel k. ok is false when no row covers branch on k: then the
// table knows of no break there, and says nothing about which release is
// the first to build.
func DKMSFirstBuilding(branch string, k KernelInfo) (fix BranchFix, ok bool) {
	fix = BranchFix{Branch: branch}
	var first *version.Version
	for _, b := range data().dkmsBreaks {
		if b.Branch != branch || !b.Matches(k) {
			continue
		}
		fix.Rows = append(fix.Rows, b)
		if b.FirstBuilding == "" {
			fix.None = true
			continue
		}
		v := version.Must(version.NewVersion(b.FirstBuilding))
		if first == nil || v.GreaterThan(first) {
			first = v
		}
	}
	if len(fix.Rows) == 0 {
		return BranchFix{}, false
	}
	if fix.None {
		return fix, true
	}
	// Start from the newest fix among the rows; should a row covering k
	// still hold that release (a fix that came with a new break), step on
	// to the next release that no row holds.
	for _, r := range data().releases {
		if r.Kind != KindRelease || branchOf(r.Version) != branch || r.Version.LessThan(first) {
			continue
		}
		if len(DKMSBreaksFor(r.Version.String(), k)) == 0 {
			fix.First = r
			return fix, true
		}
	}
	fix.None = true
	return fix, true
}

// DKMSFirstBuildingAll returns, for every branch that dkms-breaks.tsv
// covers on kernel k, which of its releases is the first to build there,
// oldest branch first: the way out a plan names ("use 2.2.8 or later").
func DKMSFirstBuildingAll(k KernelInfo) []BranchFix {
	var branches []string
	for _, b := range data().dkmsBreaks {
		if b.Matches(k) && !slices.Contains(branches, b.Branch) {
			branches = append(branches, b.Branch)
		}
	}
	slices.SortFunc(branches, compareBranches)
	var out []BranchFix
	for _, br := range branches {
		if fix, ok := DKMSFirstBuilding(br, k); ok {
			out = append(out, fix)
		}
	}
	return out
}

// NewestDKMSBuilding returns the newest release (development tags
// excluded) that satisfies constraint (nil or empty allows any), whose
// META range covers k's upstream version, and that no dkms-breaks.tsv row
// says fails on k, load failures included: the release a version range
// resolves to for a DKMS install on k.
func NewestDKMSBuilding(k KernelInfo, constraint version.Constraints) (Release, bool) {
	for i := len(data().releases) - 1; i >= 0; i-- {
		r := data().releases[i]
		if r.Kind == KindRelease && constraint.Check(r.Version) && r.SupportsKernel(k.Upstream) &&
			len(DKMSBreaksFor(r.Version.String(), k)) == 0 {
			return r, true
		}
	}
	return Release{}, false
}

func failureRank(f string) int {
	if f == FailureBuild {
		return 0
	}
	return 1
}

// branchOf is the major.minor of an OpenZFS version.
func branchOf(v *version.Version) string {
	s := v.Segments()
	return strconv.Itoa(s[0]) + "." + strconv.Itoa(s[1])
}

// compareBranches orders "2.1" before "2.10".
func compareBranches(a, b string) int {
	am, an, _ := parseTwoNumbers(a)
	bm, bn, _ := parseTwoNumbers(b)
	if am != bm {
		return am - bm
	}
	return an - bn
}

// parseTwoNumbers reads "9.5" (an EL minor) or "2.2" (a branch) as two numbers.
func parseTwoNumbers(s string) (major, minor int, ok bool) {
	a, b, found := strings.Cut(s, ".")
	if !found || !allDigits(a) || !allDigits(b) || len(a) > 4 || len(b) > 4 {
		return 0, 0, false
	}
	major, _ = strconv.Atoi(a)
	minor, _ = strconv.Atoi(b)
	return major, minor, true
}

// parseKernelSelectors reads the kernels column: comma-separated "elM.N",
// "elM.N+" and "streamM>=B", each naming a major that kernels.tsv knows
// (and, for elM.N, a minor it lists).
func parseKernelSelectors(s string, el elTable) ([]KernelSelector, error) {
	if s == "" {
		return nil, fmt.Errorf("kernels is empty")
	}
	var out []KernelSelector
	for _, f := range strings.Split(s, ",") {
		var sel KernelSelector
		switch {
		case strings.HasPrefix(f, "stream"):
			majorText, buildText, ok := strings.Cut(strings.TrimPrefix(f, "stream"), ">=")
			if !ok || !allDigits(majorText) || !allDigits(buildText) || len(majorText) > 3 || len(buildText) > 9 {
				return nil, fmt.Errorf("kernel selector %q is not streamM>=BUILD", f)
			}
			sel.Stream = true
			sel.Major, _ = strconv.Atoi(majorText)
			sel.MinBuild, _ = strconv.Atoi(buildText)
			if _, known := el.kernel[sel.Major]; !known {
				return nil, fmt.Errorf("kernel selector %q: EL %d is not in kernels.tsv", f, sel.Major)
			}
			if sel.MinBuild <= 0 {
				return nil, fmt.Errorf("kernel selector %q: build must be positive", f)
			}
		case strings.HasPrefix(f, "el"):
			minorText, andLater := strings.CutSuffix(strings.TrimPrefix(f, "el"), "+")
			major, minor, ok := parseTwoNumbers(minorText)
			if !ok {
				return nil, fmt.Errorf("kernel selector %q is not elM.N or elM.N+", f)
			}
			if !slices.ContainsFunc(el.rows, func(r elRow) bool { return r.minor == minorText }) {
				return nil, fmt.Errorf("kernel selector %q: EL %s is not in kernels.tsv", f, minorText)
			}
			sel = KernelSelector{Major: major, Minor: minor, AndLater: andLater}
		default:
			return nil, fmt.Errorf("kernel selector %q is not elM.N, elM.N+ or streamM>=BUILD", f)
		}
		if slices.Contains(out, sel) {
			return nil, fmt.Errorf("kernel selector %q listed twice", f)
		}
		out = append(out, sel)
	}
	return out, nil
}

func parseDKMSBreaks(b []byte, el elTable) ([]BuildBreak, error) {
	const name = "dkms-breaks.tsv"
	rows, err := readTSV(name, b, []string{"branch", "affected", "kernels", "first_building", "failure", "basis", "sources", "evidence"})
	if err != nil {
		return nil, err
	}
	var out []BuildBreak
	for _, row := range rows {
		f := row.fields
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, row.line, fmt.Sprintf(format, args...))
		}
		bb := BuildBreak{Branch: f[0], AffectedText: f[1], KernelsText: f[2], FirstBuilding: f[3],
			Failure: f[4], Basis: f[5], Evidence: f[7]}
		if _, _, ok := parseTwoNumbers(bb.Branch); !ok {
			return nil, bad("branch %q is not MAJOR.MINOR", bb.Branch)
		}
		if bb.Affected, err = version.NewConstraint(bb.AffectedText); err != nil {
			return nil, bad("affected %q: %v", bb.AffectedText, err)
		}
		if bb.Kernels, err = parseKernelSelectors(bb.KernelsText, el); err != nil {
			return nil, bad("%v", err)
		}
		switch bb.FirstBuilding {
		case "none":
			bb.FirstBuilding = ""
		case "":
			return nil, bad(`first_building is empty; write "none" when the branch never got the fix`)
		default:
			v, err := version.NewVersion(bb.FirstBuilding)
			if err != nil || v.Prerelease() != "" || len(v.Segments()) != 3 || strings.Count(bb.FirstBuilding, ".") != 2 {
				return nil, bad("first_building %q is not X.Y.Z or none", bb.FirstBuilding)
			}
			if branchOf(v) != bb.Branch {
				return nil, bad("first_building %s is not on branch %s", bb.FirstBuilding, bb.Branch)
			}
			if bb.Affected.Check(v) {
				return nil, bad("first_building %s is inside the affected range %q", bb.FirstBuilding, bb.AffectedText)
			}
		}
		if bb.Failure != FailureBuild && bb.Failure != FailureLoad {
			return nil, bad("failure %q is not %q or %q", bb.Failure, FailureBuild, FailureLoad)
		}
		if bb.Basis != BasisReport && bb.Basis != BasisReportCode && bb.Basis != BasisCode {
			return nil, bad("basis %q is not %q, %q or %q", bb.Basis, BasisReport, BasisReportCode, BasisCode)
		}
		bb.Sources = strings.Fields(f[6])
		if len(bb.Sources) == 0 {
			return nil, bad("sources is empty; every row cites its report or fix")
		}
		for _, s := range bb.Sources {
			if !strings.HasPrefix(s, "https://github.com/openzfs/zfs/") {
				return nil, bad("source %q is not an https://github.com/openzfs/zfs/ URL", s)
			}
		}
		if strings.TrimSpace(bb.Evidence) == "" {
			return nil, bad("evidence is empty")
		}
		out = append(out, bb)
	}
	return out, nil
}
