package catalog

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	version "github.com/hashicorp/go-version"
)

// versionsEqual lets cmp compare go-version values, which have unexported fields.
var versionsEqual = cmp.Options{
	cmp.Comparer(func(a, b *version.Version) bool {
		if a == nil || b == nil {
			return a == b
		}
		return a.Equal(b)
	}),
	cmp.Comparer(func(a, b version.Constraints) bool { return a.String() == b.String() }),
}

func TestLoadEmbedded(t *testing.T) {
	if _, err := load(embedded); err != nil {
		t.Fatalf("embedded data: %v", err)
	}
}

func TestMustLoadPanicsOnMalformedData(t *testing.T) {
	defer func() {
		r := recover()
		msg, _ := r.(string)
		if !strings.Contains(msg, "catalog: embedded data is malformed") || !strings.Contains(msg, "releases.tsv") {
			t.Errorf("panic = %v, want a clear message naming releases.tsv", r)
		}
	}()
	f := embedded
	f.releases = []byte("version\tkind\n2.2.7\trelease\n")
	mustLoad(f)
	t.Error("mustLoad returned on malformed data")
}

// dataRows returns the lines of a TSV file that are not comments or blank.
func dataRows(t *testing.T, b []byte) []string {
	t.Helper()
	var rows []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			rows = append(rows, line)
		}
	}
	return rows
}

func TestReleases(t *testing.T) {
	rs := Releases()
	if want := len(dataRows(t, releasesTSV)) - 1; len(rs) != want {
		t.Fatalf("Releases() has %d entries, releases.tsv has %d rows", len(rs), want)
	}
	for i := 1; i < len(rs); i++ {
		if !rs[i-1].Version.LessThan(rs[i].Version) {
			t.Errorf("Releases() not oldest first: %s before %s", rs[i-1].Version, rs[i].Version)
		}
	}
	for _, r := range rs {
		if !r.SupportsKernel(r.LinuxMin) || !r.SupportsKernel(r.LinuxMax) {
			t.Errorf("%s does not support its own range %s-%s", r.Version, r.LinuxMin, r.LinuxMax)
		}
	}
	rs[0] = Release{}
	if Releases()[0].Version == nil {
		t.Error("changing the slice Releases() returned changed the catalog")
	}
}

func TestLookupRelease(t *testing.T) {
	r227 := Release{
		Version: version.Must(version.NewVersion("2.2.7")), Kind: KindRelease, Date: "2024-12-04",
		LinuxMin: "4.18", LinuxMax: "6.12", DKMSKernelRequires: "kernel-devel in [MIN,MAX.999]",
		Commit: "e269af1b3c7b1b1c000d05f147a2f75e5e72e0ca",
	}
	tests := map[string]struct {
		v      string
		want   Release
		wantOK bool
	}{
		"plain":               {"2.2.7", r227, true},
		"with rpm release":    {"2.2.7-1", r227, true},
		"as zfs version says": {"zfs-kmod-2.2.7-1", r227, true},
		"userland prefix":     {"zfs-2.2.7-1", r227, true},
		"oldest": {"0.8.0", Release{
			Version: version.Must(version.NewVersion("0.8.0")), Kind: KindRelease, Date: "2019-05-21",
			LinuxMin: "2.6.32", LinuxMax: "5.1", DKMSKernelRequires: "kernel-devel (unversioned)",
			Commit: "e34c3ee2fcbb320525a110c1811c557bc60479ff",
		}, true},
		"dev tag": {"2.3.99", Release{
			Version: version.Must(version.NewVersion("2.3.99")), Kind: KindDevTag, Date: "2024-10-04",
			LinuxMin: "4.18", LinuxMax: "6.11", DKMSKernelRequires: "kernel-devel in [MIN,MAX.999]",
			Commit: "437227a9cccc805889c80a4998276740197b5a24",
		}, true},
		"unknown": {"2.2.77", Release{}, false},
		"garbage": {"garbage", Release{}, false},
		"empty":   {"", Release{}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := LookupRelease(tc.v)
			if ok != tc.wantOK {
				t.Errorf("LookupRelease(%q) ok = %v, want %v", tc.v, ok, tc.wantOK)
			}
			if diff := cmp.Diff(tc.want, got, versionsEqual); diff != "" {
				t.Errorf("LookupRelease(%q) mismatch (-want +got):\n%s", tc.v, diff)
			}
		})
	}
}

func TestBranch(t *testing.T) {
	for v, want := range map[string]string{"2.2.7": "2.2", "2.1.16": "2.1", "0.8.6": "0.8", "2.4.0": "2.4"} {
		t.Run(v, func(t *testing.T) {
			r, ok := LookupRelease(v)
			if !ok {
				t.Fatalf("LookupRelease(%q) found nothing", v)
			}
			if diff := cmp.Diff(want, r.Branch()); diff != "" {
				t.Errorf("Branch() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSupportsKernel(t *testing.T) {
	tests := map[string]struct {
		release, upstream string
		want              bool
	}{
		"at the maximum":      {"2.2.7", "6.12", true},
		"above the maximum":   {"2.2.7", "6.13", false},
		"at the minimum":      {"2.2.7", "4.18", true},
		"below the minimum":   {"2.2.7", "3.10", false},
		"patch level ignored": {"2.2.7", "6.12.9", true},
		"6.10 is above 6.9":   {"2.2.5", "6.10", false},
		"6.9 at the maximum":  {"2.2.5", "6.9", true},
		"7.2 at the maximum":  {"2.3.9", "7.2", true},
		"7.10 is above 7.2":   {"2.3.9", "7.10", false},
		"three-part minimum":  {"0.8.0", "2.6", true},
		"EL7 kernel on 0.8":   {"0.8.0", "3.10", true},
		"EL9 kernel on 2.0.6": {"2.0.6", "5.14", true},
		"EL9 kernel on 2.0.5": {"2.0.5", "5.14", false},
		"garbage":             {"2.2.7", "garbage", false},
		"empty":               {"2.2.7", "", false},
		"major only":          {"2.2.7", "6", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, ok := LookupRelease(tc.release)
			if !ok {
				t.Fatalf("LookupRelease(%q) found nothing", tc.release)
			}
			if got := r.SupportsKernel(tc.upstream); got != tc.want {
				t.Errorf("%s.SupportsKernel(%q) = %v, want %v (range %s-%s)", tc.release, tc.upstream, got, tc.want, r.LinuxMin, r.LinuxMax)
			}
		})
	}
}

func TestNewestSupporting(t *testing.T) {
	tests := map[string]struct {
		upstream   string
		constraint string // "" = nil
		want       string // "" = none
	}{
		"any version":               {"6.15", "", "2.4.4"},
		"2.2 branch":                {"6.15", "~> 2.2.0", "2.2.11"},
		"2.3 branch":                {"6.15", "~> 2.3.0", "2.3.9"},
		"dev tags are not releases": {"6.11", "~> 2.3.0", "2.3.9"},
		"nothing old enough":        {"6.15", "< 2.2.8", ""},
		"kernel newer than all":     {"7.3", "", ""},
		"EL7 kernel":                {"3.10", "", "2.2.6"},
		"EL9 kernel on 2.1":         {"5.14", "~> 2.1.0", "2.1.16"},
		"unparsable kernel":         {"garbage", "", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var c version.Constraints
			if tc.constraint != "" {
				var err error
				if c, err = version.NewConstraint(tc.constraint); err != nil {
					t.Fatal(err)
				}
			}
			r, ok := NewestSupporting(tc.upstream, c)
			if diff := cmp.Diff(tc.want, releaseVersion(r, ok)); diff != "" {
				t.Errorf("NewestSupporting(%q, %q) mismatch (-want +got):\n%s", tc.upstream, tc.constraint, diff)
			}
		})
	}
}

func TestOldestSupporting(t *testing.T) {
	tests := map[string]struct {
		upstream string
		want     string
	}{
		"6.15":                  {"6.15", "2.2.8"},
		"6.12 (RHEL 10)":        {"6.12", "2.2.7"},
		"5.14 (RHEL 9)":         {"5.14", "2.0.6"},
		"4.18 (RHEL 8)":         {"4.18", "0.8.0"},
		"6.16":                  {"6.16", "2.2.9"},
		"kernel newer than all": {"7.3", ""},
		"unparsable":            {"", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, ok := OldestSupporting(tc.upstream)
			if diff := cmp.Diff(tc.want, releaseVersion(r, ok)); diff != "" {
				t.Errorf("OldestSupporting(%q) mismatch (-want +got):\n%s", tc.upstream, diff)
			}
		})
	}
}

func releaseVersion(r Release, ok bool) string {
	if !ok {
		return ""
	}
	return r.Version.String()
}

func TestParseReleasesMalformed(t *testing.T) {
	const header = "version\tkind\ttag_date\tLinux-Minimum\tLinux-Maximum\tgeneric_kmod_spec_in\tgeneric_dkms_spec_in\tdkms_kernel_requires\ttag_commit\n"
	const commit = "e269af1b3c7b1b1c000d05f147a2f75e5e72e0ca"
	row := func(fields ...string) string { return strings.Join(fields, "\t") + "\n" }
	good := []string{"2.2.7", "release", "2024-12-04", "4.18", "6.12", "yes", "yes", "kernel-devel", commit}
	with := func(i int, v string) string {
		f := append([]string(nil), good...)
		f[i] = v
		return header + row(f...)
	}
	tests := map[string]struct {
		text string
		want string
	}{
		"renamed column":        {strings.Replace(header, "tag_date", "date", 1) + row(good...), "header"},
		"bad version":           {with(0, "2.2"), "version"},
		"prerelease version":    {with(0, "2.2.7-rc1"), "version"},
		"bad kind":              {with(1, "rc"), "kind"},
		"bad date":              {with(2, "2024-13-01"), "tag_date"},
		"bad minimum":           {with(3, "four"), "Linux-Minimum"},
		"maximum below minimum": {with(4, "4.17"), "Linux-Minimum"},
		"bad spec flag":         {with(5, "maybe"), "spec column"},
		"empty requires":        {with(7, ""), "dkms_kernel_requires"},
		"short commit":          {with(8, "e269af1"), "tag_commit"},
		"missing field":         {header + row(good[:8]...), "fields"},
		"duplicate":             {header + row(good...) + row(good...), "twice"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseReleases([]byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseReleases error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := parseReleases([]byte(header + row(good...))); err != nil {
		t.Errorf("parseReleases(good row) = %v", err)
	}
}

// TestReleasesHaveNoGaps checks that releases.tsv starts at 0.8.0 (its
// header says why) and that every branch runs from X.Y.0 without a missing
// patch release, so a tag left out when the table is updated is caught.
func TestReleasesHaveNoGaps(t *testing.T) {
	rs := Releases()
	if got := rs[0].Version.String(); got != "0.8.0" {
		t.Errorf("first release is %s, want 0.8.0 (the first tag whose META has Linux-Minimum/Maximum)", got)
	}
	next := map[string]int{} // branch -> next patch number expected
	for _, r := range rs {
		if r.Kind != KindRelease {
			continue
		}
		b, patch := r.Branch(), r.Version.Segments()[2]
		if patch != next[b] {
			t.Errorf("branch %s: release %s follows %s.%d", b, r.Version, b, next[b]-1)
		}
		next[b] = patch + 1
	}
}
