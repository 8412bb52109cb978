package catalog

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestAdvisories(t *testing.T) {
	type rng struct{ Branch, First, Last, FixedIn, FixCommit string }
	type adv struct {
		ID, Severity, Condition, Source, AffectedText, FixedIn string
		Aliases                                                []string
		Ranges                                                 []rng
	}
	want := []adv{
		{ID: "ZFS-2023-15526", Severity: SeverityError, Condition: ConditionAlways,
			Source:       "https://github.com/openzfs/zfs/issues/15526",
			AffectedText: "0.8.0-0.8.6, 2.0.0-2.0.7, 2.1.0-2.1.13, 2.2.0-2.2.1", FixedIn: "2.2.2",
			Ranges: []rng{
				{"0.8", "0.8.0", "0.8.6", "", ""},
				{"2.0", "2.0.0", "2.0.7", "", ""},
				{"2.1", "2.1.0", "2.1.13", "2.1.14", "77b0c6f0403b2b7d145bf6c244b6acbc757ccdc9"},
				{"2.2", "2.2.0", "2.2.1", "2.2.2", "9b9b09f452a469458451c221debfbab944e7f081"},
			}},
		{ID: "ZFS-2023-14753", Severity: SeverityError, Condition: ConditionAlways,
			Source:       "https://github.com/openzfs/zfs/issues/14753",
			AffectedText: "2.1.10", FixedIn: "2.1.11",
			Ranges: []rng{{"2.1", "2.1.10", "2.1.10", "2.1.11", "a969b1b22c030dc17237186a307da7265bce83b2"}}},
		{ID: "ZFS-2021-11531", Severity: SeverityError, Condition: ConditionAlways,
			Source:       "https://github.com/openzfs/zfs/issues/11531",
			AffectedText: "2.0.0-2.0.5", FixedIn: "2.0.6", Aliases: []string{"ZFS-2024-16527"},
			Ranges: []rng{{"2.0", "2.0.0", "2.0.5", "2.0.6", "1ad8fcc0548ab33910ee5e672b9f6d1abf4a58d6"}}},
		{ID: "ZFS-2020-10523", Severity: SeverityError, Condition: ConditionEncryption,
			Source:       "https://github.com/openzfs/zfs/issues/10523",
			AffectedText: "0.8.0-0.8.6, 2.0.0-2.0.7, 2.1.0-2.1.2", FixedIn: "2.1.3", Aliases: []string{"ZFS-2024-16351"},
			Ranges: []rng{
				{"0.8", "0.8.0", "0.8.6", "", ""},
				{"2.0", "2.0.0", "2.0.7", "", ""},
				{"2.1", "2.1.0", "2.1.2", "2.1.3", "e257bd481bb77181e475bf35292c1a4b0cb2c57a"},
			}},
		{ID: "ZFS-2021-12014", Severity: SeverityWarning, Condition: ConditionEncryption,
			Source:       "https://github.com/openzfs/zfs/issues/12014",
			AffectedText: "2.0.0-2.0.7, 2.1.0-2.1.16, 2.2.0-2.2.7, 2.3.0-2.3.2", FixedIn: "2.3.3",
			Ranges: []rng{
				{"2.0", "2.0.0", "2.0.7", "", ""},
				{"2.1", "2.1.0", "2.1.16", "", ""},
				{"2.2", "2.2.0", "2.2.7", "2.2.8", "b144b160b65206518412a133d8246579d03c7811"},
				{"2.3", "2.3.0", "2.3.2", "2.3.3", "f28c685a84e6e51865354656fb639c92c0fdafd9"},
			}},
		{ID: "ZFS-2024-15933", Severity: SeverityError, Condition: ConditionMmap,
			Source:       "https://github.com/openzfs/zfs/issues/15933",
			AffectedText: "0.8.0-0.8.6, 2.0.0-2.0.7, 2.1.0-2.1.16, 2.2.0-2.2.3", FixedIn: "2.2.4",
			Ranges: []rng{
				{"0.8", "0.8.0", "0.8.6", "", ""},
				{"2.0", "2.0.0", "2.0.7", "", ""},
				{"2.1", "2.1.0", "2.1.16", "", ""},
				{"2.2", "2.2.0", "2.2.3", "2.2.4", "deb7a84231aff8d772bb4ce9fa486d1886f1a2b6"},
			}},
	}
	var got []adv
	for _, a := range Advisories() {
		if a.Impact == "" || strings.ContainsAny(a.Impact, "\n\t") {
			t.Errorf("%s: impact %q is not one line", a.ID, a.Impact)
		}
		g := adv{ID: a.ID, Severity: a.Severity, Condition: a.Condition, Source: a.Source,
			AffectedText: a.AffectedText, FixedIn: a.FixedIn, Aliases: a.Aliases}
		for _, r := range a.Ranges {
			g.Ranges = append(g.Ranges, rng{r.Branch, r.First, r.Last, r.FixedIn, r.FixCommit})
		}
		got = append(got, g)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Advisories() mismatch (-want +got):\n%s", diff)
	}
}

// TestAdvisoriesAgainstReleases checks every advisory against releases.tsv:
// every version it names is a release of the range's branch, each branch's
// fixed release is outside the range and is the release right after it, a
// branch without a fix is affected to its newest release, and for every
// affected release the advice names a newer, unaffected one.
func TestAdvisoriesAgainstReleases(t *testing.T) {
	for _, a := range Advisories() {
		t.Run(a.ID, func(t *testing.T) {
			for _, r := range a.Ranges {
				var branch []string
				for _, rel := range Releases() {
					if rel.Kind == KindRelease && rel.Branch() == r.Branch {
						branch = append(branch, rel.Version.String())
					}
				}
				idx := func(v string) int {
					for i, b := range branch {
						if b == v {
							return i
						}
					}
					t.Errorf("range %s: %s is not a %s release in releases.tsv", r.Branch, v, r.Branch)
					return -1
				}
				first, last := idx(r.First), idx(r.Last)
				if first > last {
					t.Errorf("range %s: %s after %s", r.Branch, r.First, r.Last)
				}
				if r.FixedIn == "" {
					if last != len(branch)-1 {
						t.Errorf("range %s has no fix but stops at %s before %s", r.Branch, r.Last, branch[len(branch)-1])
					}
				} else {
					if fixed := idx(r.FixedIn); fixed != last+1 {
						t.Errorf("range %s: fixed_in %s is not the release after %s", r.Branch, r.FixedIn, r.Last)
					}
					if a.Affects(r.FixedIn) {
						t.Errorf("range %s: fixed_in %s is affected", r.Branch, r.FixedIn)
					}
				}
			}
			n := 0
			for _, rel := range Releases() {
				v := rel.Version.String()
				if rel.Kind != KindRelease || !a.Affects(v) {
					continue
				}
				n++
				fix, ok := a.FixFor(v)
				if !ok {
					t.Errorf("no fix named for affected %s", v)
					continue
				}
				if !rel.Version.LessThan(fix.Version) || a.Affects(fix.Version.String()) {
					t.Errorf("FixFor(%s) = %s: not a newer unaffected release", v, fix.Version)
				}
				if r, _ := a.RangeFor(v); r.FixedIn != "" && fix.Version.String() != r.FixedIn {
					t.Errorf("FixFor(%s) = %s, want the branch's fix %s", v, fix.Version, r.FixedIn)
				}
			}
			if n == 0 {
				t.Errorf("affects no release in releases.tsv")
			}
		})
	}
}

func TestAffecting(t *testing.T) {
	tests := map[string]struct {
		v          string
		all, error []string
	}{
		"0.8.6":                 {"0.8.6", []string{"ZFS-2023-15526", "ZFS-2020-10523", "ZFS-2024-15933"}, []string{"ZFS-2023-15526", "ZFS-2020-10523", "ZFS-2024-15933"}},
		"2.0.3":                 {"2.0.3", []string{"ZFS-2023-15526", "ZFS-2021-11531", "ZFS-2020-10523", "ZFS-2021-12014", "ZFS-2024-15933"}, []string{"ZFS-2023-15526", "ZFS-2021-11531", "ZFS-2020-10523", "ZFS-2024-15933"}},
		"2.0.6 has the revert":  {"2.0.6-1", []string{"ZFS-2023-15526", "ZFS-2020-10523", "ZFS-2021-12014", "ZFS-2024-15933"}, []string{"ZFS-2023-15526", "ZFS-2020-10523", "ZFS-2024-15933"}},
		"2.1.2":                 {"2.1.2", []string{"ZFS-2023-15526", "ZFS-2020-10523", "ZFS-2021-12014", "ZFS-2024-15933"}, []string{"ZFS-2023-15526", "ZFS-2020-10523", "ZFS-2024-15933"}},
		"2.1.10":                {"2.1.10", []string{"ZFS-2023-15526", "ZFS-2023-14753", "ZFS-2021-12014", "ZFS-2024-15933"}, []string{"ZFS-2023-15526", "ZFS-2023-14753", "ZFS-2024-15933"}},
		"2.1.14 has 15526 fix":  {"2.1.14", []string{"ZFS-2021-12014", "ZFS-2024-15933"}, []string{"ZFS-2024-15933"}},
		"2.2.1":                 {"2.2.1", []string{"ZFS-2023-15526", "ZFS-2021-12014", "ZFS-2024-15933"}, []string{"ZFS-2023-15526", "ZFS-2024-15933"}},
		"as zfs version prints": {"zfs-kmod-2.2.1-1", []string{"ZFS-2023-15526", "ZFS-2021-12014", "ZFS-2024-15933"}, []string{"ZFS-2023-15526", "ZFS-2024-15933"}},
		"2.2.4":                 {"2.2.4", []string{"ZFS-2021-12014"}, nil},
		"2.2.7":                 {"2.2.7", []string{"ZFS-2021-12014"}, nil},
		"2.2.8":                 {"2.2.8", nil, nil},
		"2.3.0":                 {"2.3.0", []string{"ZFS-2021-12014"}, nil},
		"2.3.2":                 {"2.3.2-1", []string{"ZFS-2021-12014"}, nil},
		"2.3.3":                 {"2.3.3", nil, nil},
		"2.4.4":                 {"2.4.4", nil, nil},
		"dev tag":               {"2.2.99", nil, nil},
		"older than the table":  {"0.7.13", nil, nil},
		"newer than the table":  {"2.5.0", nil, nil},
		"garbage":               {"garbage", nil, nil},
		"empty":                 {"", nil, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.all, ids(Affecting(tc.v))); diff != "" {
				t.Errorf("Affecting(%q) mismatch (-want +got):\n%s", tc.v, diff)
			}
			if diff := cmp.Diff(tc.error, ids(AdvisoriesFor(tc.v))); diff != "" {
				t.Errorf("AdvisoriesFor(%q) mismatch (-want +got):\n%s", tc.v, diff)
			}
		})
	}
}

func TestUnaccepted(t *testing.T) {
	tests := map[string]struct {
		v        string
		accepted []string
		want     []string
	}{
		"none accepted":   {"2.0.3", nil, []string{"ZFS-2023-15526", "ZFS-2021-11531", "ZFS-2020-10523", "ZFS-2024-15933"}},
		"by id":           {"2.0.3", []string{"ZFS-2021-11531", "ZFS-2024-15933"}, []string{"ZFS-2023-15526", "ZFS-2020-10523"}},
		"by former id":    {"2.0.3", []string{"ZFS-2024-16527", "ZFS-2024-16351"}, []string{"ZFS-2023-15526", "ZFS-2024-15933"}},
		"warnings absent": {"2.2.7", nil, nil},
		"clean":           {"2.2.8", []string{"ZFS-2023-15526"}, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ids(Unaccepted(tc.v, tc.accepted))); diff != "" {
				t.Errorf("Unaccepted(%q, %q) mismatch (-want +got):\n%s", tc.v, tc.accepted, diff)
			}
		})
	}
}

func advisory(t *testing.T, id string) Advisory {
	t.Helper()
	for _, a := range Advisories() {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("no advisory %s", id)
	return Advisory{}
}

func TestAdvice(t *testing.T) {
	tests := map[string]struct {
		id, v string
		want  string
	}{
		"same branch": {"ZFS-2023-15526", "2.2.1",
			`Fixed in 2.2.2 on the 2.2 branch: allow it with zfs.version = "~> 2.2.2" (or any newer release).`},
		"older branch with its own fix": {"ZFS-2023-15526", "2.1.13",
			`Fixed in 2.1.14 on the 2.1 branch: allow it with zfs.version = "~> 2.1.14" (or any newer release).`},
		"branch never fixed": {"ZFS-2023-15526", "2.0.3",
			`No 2.0 release fixes it; the nearest fix is 2.1.14 on the 2.1 branch: allow it with zfs.version = "~> 2.1.14" and zfs.repo = "2.1" (or "latest").`},
		"next branch never affected": {"ZFS-2021-11531", "2.0.5",
			`Fixed in 2.0.6 on the 2.0 branch: allow it with zfs.version = "~> 2.0.6" (or any newer release).`},
		"2.1 host, fix on 2.2": {"ZFS-2021-12014", "2.1.16",
			`No 2.1 release fixes it; the nearest fix is 2.2.8 on the 2.2 branch: allow it with zfs.version = "~> 2.2.8" and zfs.repo = "2.2" (or "latest").`},
		"2.2.7 is told 2.2.8": {"ZFS-2021-12014", "2.2.7",
			`Fixed in 2.2.8 on the 2.2 branch: allow it with zfs.version = "~> 2.2.8" (or any newer release).`},
		"2.3.2 is told 2.3.3, not 2.2.8": {"ZFS-2021-12014", "2.3.2-1",
			`Fixed in 2.3.3 on the 2.3 branch: allow it with zfs.version = "~> 2.3.3" (or any newer release).`},
		"2.2.8 is not affected: no advice, never a downgrade": {"ZFS-2021-12014", "2.2.8", ""},
		"fixed release itself":                                {"ZFS-2023-15526", "2.2.2", ""},
		"garbage":                                             {"ZFS-2023-15526", "garbage", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := advisory(t, tc.id).Advice(tc.v); got != tc.want {
				t.Errorf("Advice(%q) =\n  %s\nwant\n  %s", tc.v, got, tc.want)
			}
		})
	}
}

// TestAdviceNeverDowngrades checks, for every advisory and every release,
// that the advice names only releases newer than the one asked about.
func TestAdviceNeverDowngrades(t *testing.T) {
	for _, a := range Advisories() {
		for _, rel := range Releases() {
			v := rel.Version.String()
			if fix, ok := a.FixFor(v); ok && !rel.Version.LessThan(fix.Version) {
				t.Errorf("%s: FixFor(%s) = %s, a downgrade", a.ID, v, fix.Version)
			}
			if s, ok := NearestSafe(v); ok && s.Version.LessThan(rel.Version) {
				t.Errorf("NearestSafe(%s) = %s, a downgrade", v, s.Version)
			}
		}
	}
}

func TestNearestSafe(t *testing.T) {
	tests := map[string]struct {
		v, want string
		ok      bool
	}{
		"clean stays":             {"2.2.7", "2.2.7", true},
		"warning only stays":      {"2.3.1", "2.3.1", true},
		"same branch":             {"2.2.1", "2.2.4", true},
		"2.1 has no clean":        {"2.1.13", "2.2.4", true},
		"from 0.8":                {"0.8.0", "2.2.4", true},
		"newest":                  {"2.4.4", "2.4.4", true},
		"newer than the table":    {"2.5.0", "", false},
		"garbage":                 {"garbage", "", false},
		"rpm release and prefix":  {"zfs-2.2.3-1", "2.2.4", true},
		"fixed release is itself": {"2.2.4", "2.2.4", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, ok := NearestSafe(tc.v)
			got := ""
			if ok {
				got = r.Version.String()
			}
			if ok != tc.ok || got != tc.want {
				t.Errorf("NearestSafe(%q) = %q, %v; want %q, %v", tc.v, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestConditionText(t *testing.T) {
	for _, a := range Advisories() {
		if (a.Condition == ConditionAlways) != (a.ConditionText() == "") {
			t.Errorf("%s: condition %q has text %q", a.ID, a.Condition, a.ConditionText())
		}
	}
}

func ids(as []Advisory) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func TestParseAdvisoriesMalformed(t *testing.T) {
	const header = "id\tseverity\tcondition\timpact\tsource\tsee_also\taliases\n"
	const src = "https://github.com/openzfs/zfs/issues/15526"
	row := func(fields ...string) string { return strings.Join(fields, "\t") + "\n" }
	tests := map[string]struct {
		text string
		want string
	}{
		"bad id":               {header + row("15526", "error", "", "x", src, "", ""), "ZFS-YYYY-N"},
		"source another issue": {header + row("ZFS-2023-15527", "error", "", "x", src, "", ""), "issue number"},
		"source not a URL":     {header + row("ZFS-2023-15526", "error", "", "x", "#15526", "", ""), "https"},
		"bad severity":         {header + row("ZFS-2023-15526", "fatal", "", "x", src, "", ""), "severity"},
		"bad condition":        {header + row("ZFS-2023-15526", "error", "dedup", "x", src, "", ""), "condition"},
		"bad see_also":         {header + row("ZFS-2023-15526", "error", "", "x", src, "#15571", ""), "see_also"},
		"bad alias":            {header + row("ZFS-2023-15526", "error", "", "x", src, "", "old-id"), "alias"},
		"alias is another id":  {header + row("ZFS-2023-15526", "error", "", "x", src, "", "") + row("ZFS-2023-15571", "error", "", "x", "https://github.com/openzfs/zfs/issues/15571", "", "ZFS-2023-15526"), "twice"},
		"empty impact":         {header + row("ZFS-2023-15526", "error", "", " ", src, "", ""), "impact"},
		"duplicate":            {header + row("ZFS-2023-15526", "error", "", "x", src, "", "") + row("ZFS-2023-15526", "error", "", "x", src, "", ""), "twice"},
		"missing column":       {header + row("ZFS-2023-15526", "error", "", "x", src, ""), "fields"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseAdvisories([]byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseAdvisories error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestParseAdvisoryRangesMalformed(t *testing.T) {
	const header = "id\tbranch\tfirst_affected\tlast_affected\tfixed_in\tfix_commit\tnote\n"
	const commit = "9b9b09f452a469458451c221debfbab944e7f081"
	row := func(fields ...string) string { return strings.Join(fields, "\t") + "\n" }
	advs := func() []Advisory { return []Advisory{{ID: "ZFS-2023-15526"}, {ID: "ZFS-2021-12014"}} }
	tests := map[string]struct {
		text string
		want string
	}{
		"unknown id":         {header + row("ZFS-2023-1", "2.2", "2.2.0", "2.2.1", "2.2.2", commit, ""), "not in advisories.tsv"},
		"unknown branch":     {header + row("ZFS-2023-15526", "1.9", "1.9.0", "1.9.1", "", "", ""), "no releases"},
		"version not there":  {header + row("ZFS-2023-15526", "2.2", "2.2.0", "2.2.77", "", "", ""), "not a 2.2 release"},
		"other branch":       {header + row("ZFS-2023-15526", "2.2", "2.1.0", "2.2.1", "2.2.2", commit, ""), "not a 2.2 release"},
		"dev tag":            {header + row("ZFS-2023-15526", "2.2", "2.2.0", "2.2.99", "", "", ""), "not a 2.2 release"},
		"reversed":           {header + row("ZFS-2023-15526", "2.2", "2.2.1", "2.2.0", "2.2.2", commit, ""), "older than"},
		"fix inside range":   {header + row("ZFS-2023-15526", "2.2", "2.2.0", "2.2.2", "2.2.2", commit, ""), "right after"},
		"fix skips releases": {header + row("ZFS-2023-15526", "2.2", "2.2.0", "2.2.1", "2.2.4", commit, ""), "right after"},
		"fix older":          {header + row("ZFS-2023-15526", "2.2", "2.2.1", "2.2.2", "2.2.0", commit, ""), "right after"},
		"open range too short": {header + row("ZFS-2023-15526", "2.2", "2.2.0", "2.2.1", "", "", ""),
			"not the newest 2.2 release"},
		"commit without fix": {header + row("ZFS-2023-15526", "2.1", "2.1.0", "2.1.16", "", commit, ""), "without fixed_in"},
		"short commit":       {header + row("ZFS-2023-15526", "2.2", "2.2.0", "2.2.1", "2.2.2", "9b9b09f452", ""), "40-hex"},
		"two on a branch": {header + row("ZFS-2023-15526", "2.2", "2.2.0", "2.2.1", "2.2.2", commit, "") +
			row("ZFS-2023-15526", "2.2", "2.2.0", "2.2.1", "2.2.2", commit, ""), "two ranges"},
		"advisory without range": {header + row("ZFS-2023-15526", "2.2", "2.2.0", "2.2.1", "2.2.2", commit, ""),
			"ZFS-2021-12014 has no affected range"},
		"missing column": {header + row("ZFS-2023-15526", "2.2", "2.2.0", "2.2.1", "2.2.2", commit), "fields"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := parseAdvisoryRanges([]byte(tc.text), advs(), Releases())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseAdvisoryRanges error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
