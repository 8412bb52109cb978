package catalog

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	version "github.com/hashicorp/go-version"
)

// breakRow is the part of a dkms-breaks.tsv row the tests pin; evidence is
// prose and checked for shape only.
type breakRow struct {
	Branch, Affected, Kernels, First, Failure, Basis, Source string
}

func rowOf(b BuildBreak) breakRow {
	first := b.FirstBuilding
	if first == "" {
		first = "none"
	}
	return breakRow{b.Branch, b.AffectedText, b.KernelsText, first, b.Failure, b.Basis, b.Sources[0]}
}

const issue = "https://github.com/openzfs/zfs/issues/"

func TestDKMSBreaksTable(t *testing.T) {
	want := []breakRow{
		{"0.8", ">= 0.8.4, <= 0.8.5", "el8.3+,stream8>=211", "0.8.6", FailureBuild, BasisReport, issue + "11195"},
		{"0.8", ">= 0.8.0, <= 0.8.6", "el8.4+,stream8>=257", "none", FailureBuild, BasisReportCode, issue + "11342"},
		{"2.0", "2.0.0", "el8.4+,stream8>=257", "2.0.1", FailureBuild, BasisReport, issue + "11195"},
		{"2.1", ">= 2.1.0, <= 2.1.15", "el9.5+,stream9>=446", "2.1.16", FailureBuild, BasisReportCode, issue + "16746"},
		{"2.1", ">= 2.1.0, <= 2.1.16", "el9.6+,stream9>=570", "none", FailureBuild, BasisReportCode, issue + "17448"},
		{"2.2", ">= 2.2.0, < 2.2.4", "el9.5+,stream9>=446", "2.2.4", FailureBuild, BasisCode, issue + "16746"},
		{"2.2", ">= 2.2.0, < 2.2.5", "el9.6+,stream9>=570", "2.2.5", FailureBuild, BasisCode, issue + "17349"},
		{"2.2", ">= 2.2.0, < 2.2.8", "el9.6+,stream9>=570", "2.2.8", FailureLoad, BasisReportCode, issue + "17364"},
		{"2.3", ">= 2.3.0, < 2.3.3", "el9.6+,stream9>=570", "2.3.3", FailureLoad, BasisCode, issue + "17364"},
		{"2.2", ">= 2.2.0, < 2.2.10", "stream10>=214", "2.2.10", FailureBuild, BasisReportCode, issue + "18369"},
		{"2.3", ">= 2.3.0, < 2.3.6", "stream10>=214", "2.3.6", FailureBuild, BasisCode, issue + "18369"},
	}
	var got []breakRow
	for _, b := range DKMSBreaks() {
		got = append(got, rowOf(b))
		if strings.TrimSpace(b.Evidence) == "" || strings.ContainsAny(b.Evidence, "\n\t") {
			t.Errorf("%s %s: evidence %q is not one line", b.Branch, b.AffectedText, b.Evidence)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DKMSBreaks() mismatch (-want +got):\n%s", diff)
	}
}

// sourceURL is what a row may cite: an openzfs/zfs issue or pull request,
// or a commit by its full hash.
var sourceURL = regexp.MustCompile(`^https://github\.com/openzfs/zfs/((issues|pull)/[1-9][0-9]*|commit/[0-9a-f]{40})$`)

// TestDKMSBreaksAgainstReleases checks every row names real releases of its
// branch and cites upstream: the versions in its range and its fix are in
// releases.tsv, the range holds only releases of the branch, and every
// source is an https GitHub URL of openzfs/zfs.
func TestDKMSBreaksAgainstReleases(t *testing.T) {
	for i, b := range DKMSBreaks() {
		t.Run(b.Branch+" "+b.AffectedText+" "+b.KernelsText, func(t *testing.T) {
			for _, clause := range strings.Split(b.AffectedText, ",") {
				fields := strings.Fields(clause)
				v := fields[len(fields)-1]
				if r, ok := LookupRelease(v); !ok || r.Kind != KindRelease {
					t.Errorf("affected names %s, which is not a release in releases.tsv", v)
				}
			}
			n := 0
			for _, r := range Releases() {
				if r.Kind == KindRelease && b.Affected.Check(r.Version) {
					n++
					if r.Branch() != b.Branch {
						t.Errorf("affected %q holds %s, which is not on branch %s", b.AffectedText, r.Version, b.Branch)
					}
				}
			}
			if n == 0 {
				t.Errorf("affected %q holds no release in releases.tsv", b.AffectedText)
			}
			if b.FirstBuilding != "" {
				if r, ok := LookupRelease(b.FirstBuilding); !ok || r.Kind != KindRelease {
					t.Errorf("first_building %s is not a release in releases.tsv", b.FirstBuilding)
				}
			}
			for _, s := range b.Sources {
				if !sourceURL.MatchString(s) {
					t.Errorf("source %q is not an https://github.com/openzfs/zfs issue, pull request or full-hash commit URL", s)
				}
			}
			if !strings.Contains(b.Sources[0], "/issues/") && !strings.Contains(b.Sources[0], "/pull/") {
				t.Errorf("primary source %q is not an issue or pull request", b.Sources[0])
			}
			// The first release of the branch that works on the row's own
			// kernels is never one the row says fails.
			for _, sel := range b.Kernels {
				k := kernelFor(sel)
				fix, ok := DKMSFirstBuilding(b.Branch, k)
				if !ok {
					t.Errorf("row %d: DKMSFirstBuilding(%s, %s) knows no row", i, b.Branch, k.Release)
					continue
				}
				if fix.None {
					continue
				}
				if b.FirstBuilding == "" {
					t.Errorf("row %d has no fix on %s, but DKMSFirstBuilding says %s", i, k.Release, fix.First.Version)
				} else if fix.First.Version.LessThan(version.Must(version.NewVersion(b.FirstBuilding))) {
					t.Errorf("DKMSFirstBuilding(%s, %s) = %s, before the row's fix %s", b.Branch, k.Release, fix.First.Version, b.FirstBuilding)
				}
				if bs := DKMSBreaksFor(fix.First.Version.String(), k); len(bs) != 0 {
					t.Errorf("DKMSFirstBuilding(%s, %s) = %s, which a row says fails there (%s)", b.Branch, k.Release, fix.First.Version, bs[0].Sources[0])
				}
			}
		})
	}
}

// kernelFor is the first kernel a selector picks, as ClassifyKernel would
// see it: the GA kernel of a stock minor, or the Stream build itself.
func kernelFor(sel KernelSelector) KernelInfo {
	if sel.Stream {
		return KernelInfo{Release: "stream", Flavor: FlavorStream, ELMajor: sel.Major, Build: strconv.Itoa(sel.MinBuild)}
	}
	minor := strconv.Itoa(sel.Major) + "." + strconv.Itoa(sel.Minor)
	return KernelInfo{Release: "el" + minor, Flavor: FlavorStock, ELMajor: sel.Major, ELMinor: minor}
}

func TestDKMSBuildBreak(t *testing.T) {
	tests := map[string]struct {
		v, kernel string
		want      string // primary source of the row, "" for none
		failure   string
	}{
		"2.1.15 on RHEL 9.5":                  {"2.1.15", "5.14.0-503.11.1.el9_5.x86_64", issue + "16746", FailureBuild},
		"2.1.15-3 as packaged on Alma 9.5":    {"2.1.15-3", "5.14.0-503.11.1.el9_5.x86_64", issue + "16746", FailureBuild},
		"2.1.15 on a 9.5 RT kernel":           {"2.1.15", "5.14.0-503.11.1.el9_5.x86_64+rt", issue + "16746", FailureBuild},
		"2.1.15 on RHEL 9.4 builds":           {"2.1.15", "5.14.0-427.42.1.el9_4.x86_64", "", ""},
		"2.1.14 on RHEL 9.5":                  {"2.1.14", "5.14.0-503.40.1.el9_5.x86_64", issue + "16746", FailureBuild},
		"2.1.16 on RHEL 9.5 builds":           {"2.1.16", "5.14.0-503.11.1.el9_5.x86_64", "", ""},
		"2.1.16 on RHEL 9.6":                  {"2.1.16", "5.14.0-570.17.1.el9_6.x86_64", issue + "17448", FailureBuild},
		"2.1.16 on RHEL 9.7":                  {"2.1.16", "5.14.0-611.5.1.el9_7.x86_64", issue + "17448", FailureBuild},
		"2.1.15 on 9.6: the earlier break":    {"2.1.15", "5.14.0-570.17.1.el9_6.x86_64", issue + "16746", FailureBuild},
		"2.1.15 on Stream 9 446":              {"2.1.15", "5.14.0-446.el9.x86_64", issue + "16746", FailureBuild},
		"2.1.15 on Stream 9 437 builds":       {"2.1.15", "5.14.0-437.el9.x86_64", "", ""},
		"2.1.16 on Stream 9 503 builds":       {"2.1.16", "5.14.0-503.el9.x86_64", "", ""},
		"2.1.16 on Stream 9 570":              {"2.1.16", "5.14.0-570.el9.x86_64", issue + "17448", FailureBuild},
		"2.2.3 on RHEL 9.5":                   {"2.2.3", "5.14.0-503.11.1.el9_5.x86_64", issue + "16746", FailureBuild},
		"2.2.4 on RHEL 9.5 builds":            {"2.2.4", "5.14.0-503.11.1.el9_5.x86_64", "", ""},
		"2.2.4 on RHEL 9.6":                   {"2.2.4", "5.14.0-570.17.1.el9_6.x86_64", issue + "17349", FailureBuild},
		"2.2.7 on RHEL 9.6: load warning":     {"2.2.7", "5.14.0-570.17.1.el9_6.x86_64", issue + "17364", FailureLoad},
		"2.2.7 on RHEL 9.5 builds":            {"2.2.7", "5.14.0-503.11.1.el9_5.x86_64", "", ""},
		"2.2.8 on RHEL 9.6":                   {"2.2.8", "5.14.0-570.17.1.el9_6.x86_64", "", ""},
		"2.2.8 on RHEL 9.7":                   {"zfs-2.2.8-1", "5.14.0-611.5.1.el9_7.x86_64", "", ""},
		"2.3.2 on RHEL 9.6: load warning":     {"2.3.2", "5.14.0-570.17.1.el9_6.x86_64", issue + "17364", FailureLoad},
		"2.3.3 on RHEL 9.6":                   {"2.3.3", "5.14.0-570.17.1.el9_6.x86_64", "", ""},
		"2.2.9 on Stream 10 214":              {"2.2.9", "6.12.0-214.el10.x86_64", issue + "18369", FailureBuild},
		"2.2.9 on Stream 10 211 not reported": {"2.2.9", "6.12.0-211.el10.x86_64", "", ""},
		"2.2.9 on RHEL 10.2 not reported":     {"2.2.9", "6.12.0-211.7.1.el10_2.x86_64", "", ""},
		"2.2.10 on Stream 10 214":             {"2.2.10", "6.12.0-214.el10.x86_64", "", ""},
		"2.3.5 on Stream 10 214":              {"2.3.5", "6.12.0-214.el10.x86_64", issue + "18369", FailureBuild},
		"0.8.5 on RHEL 8.3 GA":                {"0.8.5", "4.18.0-240.el8.x86_64", issue + "11195", FailureBuild},
		"0.8.4 on Stream 8 211":               {"0.8.4", "4.18.0-211.el8.x86_64", issue + "11195", FailureBuild},
		"0.8.3 on RHEL 8.3 not claimed":       {"0.8.3", "4.18.0-240.22.1.el8_3.x86_64", "", ""},
		"0.8.6 on RHEL 8.3 builds":            {"0.8.6", "4.18.0-240.22.1.el8_3.x86_64", "", ""},
		"0.8.6 on RHEL 8.4":                   {"0.8.6", "4.18.0-305.25.1.el8_4.x86_64", issue + "11342", FailureBuild},
		"0.8.6 on RHEL 8.10":                  {"0.8.6", "4.18.0-553.16.1.el8_10.x86_64", issue + "11342", FailureBuild},
		"2.0.0 on Stream 8 257":               {"2.0.0", "4.18.0-257.el8.x86_64", issue + "11195", FailureBuild},
		"2.0.1 on Stream 8 257":               {"2.0.1", "4.18.0-257.el8.x86_64", "", ""},
		"2.1.15 on ELRepo: not this table":    {"2.1.15", "6.1.80-1.el9.elrepo.x86_64", "", ""},
		"2.1.15 on UEK: not this table":       {"2.1.15", "5.15.0-101.103.2.1.el9uek.x86_64", "", ""},
		"2.1.15 on Fedora: not this table":    {"2.1.15", "6.11.4-301.fc41.x86_64", "", ""},
		"garbage version":                     {"soon", "5.14.0-503.11.1.el9_5.x86_64", "", ""},
		"garbage kernel":                      {"2.1.15", "not a kernel", "", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			k := ClassifyKernel(tc.kernel, "")
			b, ok := DKMSBuildBreak(tc.v, k)
			got, failure := "", ""
			if ok {
				got, failure = b.Sources[0], b.Failure
			}
			if got != tc.want || failure != tc.failure {
				t.Errorf("DKMSBuildBreak(%q, %s) = %q %q, want %q %q", tc.v, tc.kernel, got, failure, tc.want, tc.failure)
			}
		})
	}
}

func TestDKMSBreaksForOrdersBuildFirst(t *testing.T) {
	k := ClassifyKernel("5.14.0-570.17.1.el9_6.x86_64", "")
	var got []string
	for _, b := range DKMSBreaksFor("2.2.3", k) {
		got = append(got, b.Failure+" "+b.AffectedText)
	}
	want := []string{
		"build >= 2.2.0, < 2.2.4",
		"build >= 2.2.0, < 2.2.5",
		"load >= 2.2.0, < 2.2.8",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DKMSBreaksFor(2.2.3, 9.6) mismatch (-want +got):\n%s", diff)
	}
}

func TestDKMSFirstBuilding(t *testing.T) {
	tests := map[string]struct {
		branch, kernel string
		ok             bool
		want           string // "none" when no release of the branch builds
	}{
		"2.1 on RHEL 9.5":                {"2.1", "5.14.0-503.11.1.el9_5.x86_64", true, "2.1.16"},
		"2.1 on RHEL 9.6":                {"2.1", "5.14.0-570.17.1.el9_6.x86_64", true, "none"},
		"2.1 on Stream 9 446":            {"2.1", "5.14.0-446.el9.x86_64", true, "2.1.16"},
		"2.1 on Stream 9 570":            {"2.1", "5.14.0-570.el9.x86_64", true, "none"},
		"2.1 on RHEL 9.4: no row":        {"2.1", "5.14.0-427.42.1.el9_4.x86_64", false, ""},
		"2.2 on RHEL 9.5":                {"2.2", "5.14.0-503.11.1.el9_5.x86_64", true, "2.2.4"},
		"2.2 on RHEL 9.6":                {"2.2", "5.14.0-570.17.1.el9_6.x86_64", true, "2.2.8"},
		"2.2 on RHEL 9.7":                {"2.2", "5.14.0-611.5.1.el9_7.x86_64", true, "2.2.8"},
		"2.3 on RHEL 9.6":                {"2.3", "5.14.0-570.17.1.el9_6.x86_64", true, "2.3.3"},
		"2.3 on RHEL 9.5: no row":        {"2.3", "5.14.0-503.11.1.el9_5.x86_64", false, ""},
		"2.2 on Stream 10 214":           {"2.2", "6.12.0-214.el10.x86_64", true, "2.2.10"},
		"2.3 on Stream 10 214":           {"2.3", "6.12.0-214.el10.x86_64", true, "2.3.6"},
		"0.8 on RHEL 8.3":                {"0.8", "4.18.0-240.22.1.el8_3.x86_64", true, "0.8.6"},
		"0.8 on RHEL 8.4":                {"0.8", "4.18.0-305.25.1.el8_4.x86_64", true, "none"},
		"2.0 on RHEL 8.5":                {"2.0", "4.18.0-348.7.1.el8_5.x86_64", true, "2.0.1"},
		"unknown branch":                 {"9.9", "5.14.0-570.17.1.el9_6.x86_64", false, ""},
		"2.2 on ELRepo: no row":          {"2.2", "6.1.80-1.el9.elrepo.x86_64", false, ""},
		"2.2 on a garbage kernel":        {"2.2", "garbage", false, ""},
		"2.1 on RHEL 9.6 aarch64 64k":    {"2.1", "5.14.0-570.17.1.el9_6.aarch64+64k", true, "none"},
		"2.2 on Oracle RHCK respin 9.6":  {"2.2", "5.14.0-570.12.1.0.1.el9_6.x86_64", true, "2.2.8"},
		"2.2 on RHEL 9.6 debug variant":  {"2.2", "5.14.0-570.17.1.el9_6.x86_64+debug", true, "2.2.8"},
		"2.1 on Stream 9 just below 446": {"2.1", "5.14.0-445.el9.x86_64", false, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fix, ok := DKMSFirstBuilding(tc.branch, ClassifyKernel(tc.kernel, ""))
			got := ""
			switch {
			case ok && fix.None:
				got = "none"
			case ok:
				got = fix.First.Version.String()
			}
			if ok != tc.ok || got != tc.want {
				t.Errorf("DKMSFirstBuilding(%s, %s) = %q, %v; want %q, %v", tc.branch, tc.kernel, got, ok, tc.want, tc.ok)
			}
			if ok && len(fix.Rows) == 0 {
				t.Errorf("DKMSFirstBuilding(%s, %s) names no rows", tc.branch, tc.kernel)
			}
		})
	}
}

func TestDKMSFirstBuildingAll(t *testing.T) {
	summary := func(fs []BranchFix) []string {
		var out []string
		for _, f := range fs {
			if f.None {
				out = append(out, f.Branch+" none")
			} else {
				out = append(out, f.Branch+" "+f.First.Version.String())
			}
		}
		return out
	}
	tests := map[string]struct {
		kernel string
		want   []string
	}{
		"RHEL 9.6":     {"5.14.0-570.17.1.el9_6.x86_64", []string{"2.1 none", "2.2 2.2.8", "2.3 2.3.3"}},
		"RHEL 9.5":     {"5.14.0-503.11.1.el9_5.x86_64", []string{"2.1 2.1.16", "2.2 2.2.4"}},
		"Stream 10":    {"6.12.0-214.el10.x86_64", []string{"2.2 2.2.10", "2.3 2.3.6"}},
		"RHEL 8.4":     {"4.18.0-305.25.1.el8_4.x86_64", []string{"0.8 none", "2.0 2.0.1"}},
		"RHEL 9.4":     {"5.14.0-427.42.1.el9_4.x86_64", nil},
		"ELRepo lt":    {"6.1.80-1.el9.elrepo.x86_64", nil},
		"empty string": {"", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, summary(DKMSFirstBuildingAll(ClassifyKernel(tc.kernel, "")))); diff != "" {
				t.Errorf("DKMSFirstBuildingAll(%s) mismatch (-want +got):\n%s", tc.kernel, diff)
			}
		})
	}
}

func TestNewestDKMSBuilding(t *testing.T) {
	tests := map[string]struct {
		kernel, constraint string
		want               string // "" for none
	}{
		"2.1 on 9.5 resolves to the fix":     {"5.14.0-503.11.1.el9_5.x86_64", "~> 2.1.0", "2.1.16"},
		"no 2.1 builds on 9.6":               {"5.14.0-570.17.1.el9_6.x86_64", "~> 2.1.0", ""},
		"up to 2.2.7 nothing works on 9.6":   {"5.14.0-570.17.1.el9_6.x86_64", ">= 2.2.0, <= 2.2.7", ""},
		"up to 2.2.8 on 9.6":                 {"5.14.0-570.17.1.el9_6.x86_64", "<= 2.2.8", "2.2.8"},
		"a pin outside any row stays":        {"5.14.0-427.42.1.el9_4.x86_64", "2.2.7", "2.2.7"},
		"2.2.9 or older on Stream 10 214":    {"6.12.0-214.el10.x86_64", "<= 2.2.9", ""},
		"2.3.6 or older on Stream 10 214":    {"6.12.0-214.el10.x86_64", "<= 2.3.6", "2.3.6"},
		"0.8 on 8.3 skips to 0.8.6":          {"4.18.0-240.22.1.el8_3.x86_64", "~> 0.8.0", "0.8.6"},
		"0.8.5 or older on 8.3: 0.8.3 is ok": {"4.18.0-240.22.1.el8_3.x86_64", "<= 0.8.5", "0.8.3"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := version.MustConstraints(version.NewConstraint(tc.constraint))
			r, ok := NewestDKMSBuilding(ClassifyKernel(tc.kernel, ""), c)
			got := ""
			if ok {
				got = r.Version.String()
			}
			if got != tc.want {
				t.Errorf("NewestDKMSBuilding(%s, %q) = %q, want %q", tc.kernel, tc.constraint, got, tc.want)
			}
		})
	}
}

func TestKernelSelector(t *testing.T) {
	tests := map[string]struct {
		text    string
		kernel  string
		matches bool
		says    string
	}{
		"exact minor":                {"el9.5", "5.14.0-503.11.1.el9_5.x86_64", true, "EL 9.5"},
		"exact minor, later kernel":  {"el9.5", "5.14.0-570.17.1.el9_6.x86_64", false, "EL 9.5"},
		"and later":                  {"el9.5+", "5.14.0-570.17.1.el9_6.x86_64", true, "EL 9.5 and later minors"},
		"and later, earlier kernel":  {"el9.5+", "5.14.0-427.42.1.el9_4.x86_64", false, "EL 9.5 and later minors"},
		"two-digit minor":            {"el8.4+", "4.18.0-553.16.1.el8_10.x86_64", true, "EL 8.4 and later minors"},
		"other major":                {"el9.5+", "6.12.0-55.9.1.el10_0.x86_64", false, "EL 9.5 and later minors"},
		"stock selector, Stream":     {"el9.5+", "5.14.0-570.el9.x86_64", false, "EL 9.5 and later minors"},
		"stream at the bound":        {"stream9>=446", "5.14.0-446.el9.x86_64", true, "CentOS Stream 9 kernels from build 446"},
		"stream below":               {"stream9>=446", "5.14.0-445.el9.x86_64", false, "CentOS Stream 9 kernels from build 446"},
		"stream selector, stock":     {"stream9>=446", "5.14.0-503.11.1.el9_5.x86_64", false, "CentOS Stream 9 kernels from build 446"},
		"stream selector, other maj": {"stream9>=446", "6.12.0-500.el10.x86_64", false, "CentOS Stream 9 kernels from build 446"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sels, err := parseKernelSelectors(tc.text, data().el)
			if err != nil || len(sels) != 1 {
				t.Fatalf("parseKernelSelectors(%q) = %v, %v", tc.text, sels, err)
			}
			if got := sels[0].Matches(ClassifyKernel(tc.kernel, "")); got != tc.matches {
				t.Errorf("%s.Matches(%s) = %v, want %v", tc.text, tc.kernel, got, tc.matches)
			}
			if got := sels[0].String(); got != tc.says {
				t.Errorf("%s.String() = %q, want %q", tc.text, got, tc.says)
			}
		})
	}
}

func TestParseDKMSBreaksMalformed(t *testing.T) {
	const header = "branch\taffected\tkernels\tfirst_building\tfailure\tbasis\tsources\tevidence\n"
	const src = "https://github.com/openzfs/zfs/issues/16746"
	row := func(fields ...string) string { return strings.Join(fields, "\t") + "\n" }
	ok := func(mod func(f []string)) string {
		f := []string{"2.1", "<= 2.1.15", "el9.5+,stream9>=446", "2.1.16", "build", "report", src, "configure fails"}
		mod(f)
		return header + row(f...)
	}
	tests := map[string]struct {
		text string
		want string
	}{
		"bad branch":            {ok(func(f []string) { f[0] = "2" }), "branch"},
		"bad constraint":        {ok(func(f []string) { f[1] = "2.1.0 to 2.1.15" }), "affected"},
		"empty kernels":         {ok(func(f []string) { f[2] = "" }), "kernels is empty"},
		"kernels with space":    {ok(func(f []string) { f[2] = "el9.5+, stream9>=446" }), "kernel selector"},
		"unknown selector":      {ok(func(f []string) { f[2] = "rhel9.5" }), "kernel selector"},
		"unknown minor":         {ok(func(f []string) { f[2] = "el9.99" }), "not in kernels.tsv"},
		"unknown stream major":  {ok(func(f []string) { f[2] = "stream6>=1" }), "not in kernels.tsv"},
		"stream without bound":  {ok(func(f []string) { f[2] = "stream9" }), "streamM>=BUILD"},
		"stream zero build":     {ok(func(f []string) { f[2] = "stream9>=0" }), "positive"},
		"duplicate selector":    {ok(func(f []string) { f[2] = "el9.5+,el9.5+" }), "twice"},
		"empty first_building":  {ok(func(f []string) { f[3] = "" }), `"none"`},
		"first not a version":   {ok(func(f []string) { f[3] = "soon" }), "first_building"},
		"first two fields":      {ok(func(f []string) { f[3] = "2.1" }), "first_building"},
		"first other branch":    {ok(func(f []string) { f[3] = "2.2.8" }), "not on branch 2.1"},
		"first inside range":    {ok(func(f []string) { f[3] = "2.1.15" }), "inside the affected range"},
		"bad failure":           {ok(func(f []string) { f[4] = "crash" }), "failure"},
		"bad basis":             {ok(func(f []string) { f[5] = "hearsay" }), "basis"},
		"no source":             {ok(func(f []string) { f[6] = " " }), "sources is empty"},
		"source not openzfs":    {ok(func(f []string) { f[6] = "https://example.com/16746" }), "openzfs/zfs"},
		"source not https":      {ok(func(f []string) { f[6] = "http://github.com/openzfs/zfs/issues/16746" }), "openzfs/zfs"},
		"empty evidence":        {ok(func(f []string) { f[7] = " " }), "evidence"},
		"missing column":        {header + row("2.1", "<= 2.1.15", "el9.5+", "2.1.16", "build", "report", src), "fields"},
		"no rows":               {header, "no rows"},
		"header from elsewhere": {"branch\taffected\n", "header"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseDKMSBreaks([]byte(tc.text), data().el)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseDKMSBreaks error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := parseDKMSBreaks([]byte(ok(func([]string) {})), data().el); err != nil {
		t.Errorf("valid row: %v", err)
	}
}

func TestMustLoadPanicsOnMalformedDKMSBreaks(t *testing.T) {
	defer func() {
		r := recover()
		msg, _ := r.(string)
		if !strings.Contains(msg, "catalog: embedded data is malformed") || !strings.Contains(msg, "dkms-breaks.tsv") {
			t.Errorf("panic = %v, want a clear message naming dkms-breaks.tsv", r)
		}
	}()
	f := embedded
	f.dkmsBreaks = []byte("branch\taffected\tkernels\tfirst_building\tfailure\tbasis\tsources\tevidence\n2.1\t<= 2.1.15\tel9.5+\tnone\tbuild\treport\t\tx\n")
	mustLoad(f)
}
