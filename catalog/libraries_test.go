package catalog

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLibrariesFor(t *testing.T) {
	type want struct {
		Runtime   []string
		Devel     string
		Versioned bool
	}
	tests := map[string]struct {
		v    string
		want want
		ok   bool
	}{
		"0.8":                     {"0.8.6", want{[]string{"libzfs2", "libzpool2", "libnvpair1", "libuutil1"}, "libzfs2-devel", false}, true},
		"2.0":                     {"2.0.3", want{[]string{"libzfs4", "libzpool4", "libnvpair3", "libuutil3"}, "libzfs4-devel", false}, true},
		"2.1 before 2.1.6":        {"2.1.5", want{[]string{"libzfs5", "libzpool5", "libnvpair3", "libuutil3"}, "libzfs5-devel", false}, true},
		"2.1.6 versioned":         {"2.1.6", want{[]string{"libzfs5", "libzpool5", "libnvpair3", "libuutil3"}, "libzfs5-devel", true}, true},
		"2.2 keeps libzfs5":       {"zfs-2.2.7-1", want{[]string{"libzfs5", "libzpool5", "libnvpair3", "libuutil3"}, "libzfs5-devel", true}, true},
		"2.3":                     {"2.3.2", want{[]string{"libzfs6", "libzpool6", "libnvpair3", "libuutil3"}, "libzfs6-devel", true}, true},
		"2.4":                     {"2.4.4", want{[]string{"libzfs7", "libzpool7", "libnvpair3", "libuutil3"}, "libzfs7-devel", true}, true},
		"dev tag":                 {"2.3.99", want{}, false},
		"older than the table":    {"0.7.13", want{}, false},
		"newer than the table":    {"2.5.0", want{}, false},
		"not a version":           {"garbage", want{}, false},
		"unknown patch in branch": {"2.2.99", want{}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			l, ok := LibrariesFor(tc.v)
			if ok != tc.ok {
				t.Fatalf("LibrariesFor(%q) ok = %v, want %v", tc.v, ok, tc.ok)
			}
			if !ok {
				return
			}
			got := want{l.Runtime(), l.LibZFSDevel, l.Versioned}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("LibrariesFor(%q) mismatch (-want +got):\n%s", tc.v, diff)
			}
		})
	}
}

func TestLibrariesObsoletes(t *testing.T) {
	tests := map[string]struct{ v, old, want string }{
		"2.3 replaces libzfs5":             {"2.3.0", "libzfs5", "libzfs6"},
		"2.4 replaces libzpool6":           {"2.4.0", "libzpool6", "libzpool7"},
		"2.4 does not replace libzfs6-dev": {"2.4.4", "libzfs6-devel", ""},
		"2.2 replaces zfs-devel":           {"2.2.0", "zfs-devel", "libzfs5-devel"},
		"0.8 replaces nothing but devel":   {"0.8.0", "libzfs1", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			l, ok := LibrariesFor(tc.v)
			if !ok {
				t.Fatalf("no libraries for %s", tc.v)
			}
			if got := l.ObsoletedBy(tc.old); got != tc.want {
				t.Errorf("ObsoletedBy(%q) on %s = %q, want %q", tc.old, tc.v, got, tc.want)
			}
		})
	}
}

// TestLibrariesCoverEveryRelease checks each release of releases.tsv falls
// in exactly one row, so a new release cannot go unnamed.
func TestLibrariesCoverEveryRelease(t *testing.T) {
	for _, r := range Releases() {
		if r.Kind != KindRelease {
			continue
		}
		n := 0
		for _, l := range data().libraries {
			if !r.Version.LessThan(l.first) && !l.last.LessThan(r.Version) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("release %s is in %d rows of libraries.tsv, want 1", r.Version, n)
		}
	}
}

func TestParseLibrariesMalformed(t *testing.T) {
	const header = "first_release\tlast_release\tlibzfs\tlibzpool\tlibnvpair\tlibuutil\tlibzfs_devel\tobsoletes\tversioned\tsource\n"
	good := []string{"2.3.0", "2.3.9", "libzfs6", "libzpool6", "libnvpair3", "libuutil3", "libzfs6-devel", "libzfs6<libzfs5", "yes", "zfs.spec.in"}
	row := func(fields ...string) string { return strings.Join(fields, "\t") + "\n" }
	with := func(i int, v string) string {
		f := append([]string(nil), good...)
		f[i] = v
		return header + row(f...)
	}
	tests := map[string]struct{ text, want string }{
		"not a release":  {with(0, "2.3.77"), "not a release"},
		"dev tag":        {with(1, "2.3.99"), "not a release"},
		"reversed":       {with(1, "2.2.0"), "older than"},
		"bad lib":        {with(2, "zfs6"), "libzfs<soname>"},
		"bad devel":      {with(6, "libzfs5-devel"), "libzfs_devel"},
		"bad obsoletes":  {with(7, "libfoo<libzfs5"), "obsoletes"},
		"bad versioned":  {with(8, "maybe"), "versioned"},
		"no source":      {with(9, " "), "source"},
		"overlap":        {header + row(good...) + row(good...), "overlaps"},
		"missing column": {header + row(good[:9]...), "fields"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseLibraries([]byte(tc.text), Releases())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseLibraries error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
