package catalog

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	version "github.com/hashicorp/go-version"
)

func TestAdvisories(t *testing.T) {
	c := func(s string) version.Constraints { return version.MustConstraints(version.NewConstraint(s)) }
	want := []Advisory{
		{ID: "ZFS-2023-15526", Affected: c(">= 2.2.0, < 2.2.2"), AffectedText: ">= 2.2.0, < 2.2.2", FixedIn: "2.2.2",
			Source: "https://github.com/openzfs/zfs/issues/15526"},
		{ID: "ZFS-2024-16527", Affected: c(">= 2.0.0, < 2.1.0"), AffectedText: ">= 2.0.0, < 2.1.0", FixedIn: "2.1.11",
			Source: "https://github.com/openzfs/zfs/issues/16527"},
		{ID: "ZFS-2024-16351", Affected: c(">= 2.0.0, < 2.1.0"), AffectedText: ">= 2.0.0, < 2.1.0", FixedIn: "2.1.11",
			Source: "https://github.com/openzfs/zfs/issues/16351"},
		{ID: "ZFS-2025-17313", Affected: c(">= 2.3.1, <= 2.3.2"), AffectedText: ">= 2.3.1, <= 2.3.2", FixedIn: "",
			Source: "https://github.com/openzfs/zfs/issues/17313"},
	}
	got := Advisories()
	for i := range got {
		if got[i].Impact == "" || strings.ContainsAny(got[i].Impact, "\n\t") {
			t.Errorf("%s: impact %q is not one line", got[i].ID, got[i].Impact)
		}
		got[i].Impact = "" // prose; checked above, not pinned here
	}
	if diff := cmp.Diff(want, got, versionsEqual); diff != "" {
		t.Errorf("Advisories() mismatch (-want +got):\n%s", diff)
	}
}

// TestAdvisoriesAgainstReleases checks every advisory names real releases:
// its range holds at least one release, and its fix is a release outside it.
func TestAdvisoriesAgainstReleases(t *testing.T) {
	for _, a := range Advisories() {
		t.Run(a.ID, func(t *testing.T) {
			n := 0
			for _, r := range Releases() {
				if r.Kind == KindRelease && a.Affected.Check(r.Version) {
					n++
				}
			}
			if n == 0 {
				t.Errorf("affected %q holds no release in releases.tsv", a.AffectedText)
			}
			if a.FixedIn == "" {
				return
			}
			r, ok := LookupRelease(a.FixedIn)
			if !ok || r.Kind != KindRelease {
				t.Errorf("fixed_in %s is not a release in releases.tsv", a.FixedIn)
			}
			if len(AdvisoriesFor(a.FixedIn)) != 0 {
				t.Errorf("fixed_in %s has advisories of its own: %v", a.FixedIn, ids(AdvisoriesFor(a.FixedIn)))
			}
		})
	}
}

func TestAdvisoriesFor(t *testing.T) {
	tests := map[string]struct {
		v    string
		want []string
	}{
		"2.2.0":                  {"2.2.0", []string{"ZFS-2023-15526"}},
		"2.2.1":                  {"2.2.1", []string{"ZFS-2023-15526"}},
		"2.2.1 with rpm release": {"2.2.1-1", []string{"ZFS-2023-15526"}},
		"as zfs version prints":  {"zfs-kmod-2.2.1-1", []string{"ZFS-2023-15526"}},
		"2.2.2 has the fix":      {"2.2.2", nil},
		"2.2.7":                  {"2.2.7", nil},
		"2.1.16":                 {"2.1.16", nil},
		"2.0.0":                  {"2.0.0", []string{"ZFS-2024-16527", "ZFS-2024-16351"}},
		"2.0.3":                  {"2.0.3", []string{"ZFS-2024-16527", "ZFS-2024-16351"}},
		"2.0.7":                  {"2.0.7-1", []string{"ZFS-2024-16527", "ZFS-2024-16351"}},
		"2.1.11":                 {"2.1.11", nil},
		"0.8.6":                  {"0.8.6", nil},
		"2.3.0":                  {"2.3.0", nil},
		"2.3.1":                  {"2.3.1", []string{"ZFS-2025-17313"}},
		"2.3.2":                  {"2.3.2-1", []string{"ZFS-2025-17313"}},
		"2.3.3":                  {"2.3.3", nil},
		"2.4.4":                  {"2.4.4", nil},
		"garbage":                {"garbage", nil},
		"empty":                  {"", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ids(AdvisoriesFor(tc.v))); diff != "" {
				t.Errorf("AdvisoriesFor(%q) mismatch (-want +got):\n%s", tc.v, diff)
			}
		})
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
	const header = "id\taffected\tfixed_in\timpact\tsource\n"
	const src = "https://github.com/openzfs/zfs/issues/15526"
	row := func(fields ...string) string { return strings.Join(fields, "\t") + "\n" }
	tests := map[string]struct {
		text string
		want string
	}{
		"bad id":               {header + row("15526", ">= 2.2.0, < 2.2.2", "2.2.2", "x", src), "ZFS-YYYY-N"},
		"source another issue": {header + row("ZFS-2023-15527", ">= 2.2.0, < 2.2.2", "2.2.2", "x", src), "issue number"},
		"source not a URL":     {header + row("ZFS-2023-15526", ">= 2.2.0, < 2.2.2", "2.2.2", "x", "#15526"), "https"},
		"bad constraint":       {header + row("ZFS-2023-15526", "2.2.0 to 2.2.1", "2.2.2", "x", src), "affected"},
		"fix inside range":     {header + row("ZFS-2023-15526", ">= 2.2.0, <= 2.2.2", "2.2.2", "x", src), "inside the affected range"},
		"bad fix":              {header + row("ZFS-2023-15526", ">= 2.2.0, < 2.2.2", "soon", "x", src), "fixed_in"},
		"empty impact":         {header + row("ZFS-2023-15526", ">= 2.2.0, < 2.2.2", "2.2.2", " ", src), "impact"},
		"duplicate":            {header + row("ZFS-2023-15526", ">= 2.2.0, < 2.2.2", "2.2.2", "x", src) + row("ZFS-2023-15526", ">= 2.2.0, < 2.2.2", "2.2.2", "x", src), "twice"},
		"missing column":       {header + row("ZFS-2023-15526", ">= 2.2.0, < 2.2.2", "2.2.2", "x"), "fields"},
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
