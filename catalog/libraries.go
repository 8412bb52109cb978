package catalog

import (
	"fmt"
	"slices"
	"strings"

	version "github.com/hashicorp/go-version"
)

// LibraryPackages are the library packages an OpenZFS release's rpm spec
// builds, from libraries.tsv: the names change with the libraries' SONAME
// (libzfs5 on 2.1 and 2.2, libzfs6 on 2.3, libzfs7 on 2.4).
type LibraryPackages struct {
	First, Last string // the run of releases these names hold for: "2.2.0", "2.2.11"
	LibZFS      string // "libzfs5" (holds libzfs and libzfs_core)
	LibZPool    string // "libzpool5"
	LibNVPair   string // "libnvpair3"
	LibUUtil    string // "libuutil3"
	LibZFSDevel string // "libzfs5-devel"
	// Obsoletes are the spec's Obsoletes lines: Package obsoletes Old.
	Obsoletes []Obsolete
	// Versioned says the Obsoletes carry "<= %{version}".
	Versioned bool
	first     *version.Version
	last      *version.Version
}

// Obsolete is one Obsoletes line of a library package.
type Obsolete struct{ Package, Old string }

// Runtime returns the four runtime library packages, libzfs first.
func (l LibraryPackages) Runtime() []string {
	return []string{l.LibZFS, l.LibZPool, l.LibNVPair, l.LibUUtil}
}

// ObsoletedBy returns the package of l that obsoletes old ("libzfs5" for
// libzfs6 in 2.3), "" when none does (libzfs6-devel in 2.4).
func (l LibraryPackages) ObsoletedBy(old string) string {
	for _, o := range l.Obsoletes {
		if o.Old == old {
			return o.Package
		}
	}
	return ""
}

// LibrariesFor returns the library packages of OpenZFS release v ("2.3.4",
// "2.3.4-1", "zfs-2.3.4-1"). ok is false for a version outside
// libraries.tsv (before 0.8.0, a development tag, newer than the table).
func LibrariesFor(v string) (LibraryPackages, bool) {
	ver, err := parseZFSVersion(v)
	if err != nil {
		return LibraryPackages{}, false
	}
	if r, ok := LookupRelease(ver.String()); !ok || r.Kind != KindRelease {
		return LibraryPackages{}, false
	}
	for _, l := range data().libraries {
		if !ver.LessThan(l.first) && !l.last.LessThan(ver) {
			l.Obsoletes = append([]Obsolete(nil), l.Obsoletes...)
			return l, true
		}
	}
	return LibraryPackages{}, false
}

func parseLibraries(b []byte, rels []Release) ([]LibraryPackages, error) {
	const name = "libraries.tsv"
	rows, err := readTSV(name, b, []string{"first_release", "last_release", "libzfs", "libzpool", "libnvpair", "libuutil", "libzfs_devel", "obsoletes", "versioned", "source"})
	if err != nil {
		return nil, err
	}
	var out []LibraryPackages
	for _, row := range rows {
		f := row.fields
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, row.line, fmt.Sprintf(format, args...))
		}
		l := LibraryPackages{First: f[0], Last: f[1], LibZFS: f[2], LibZPool: f[3], LibNVPair: f[4], LibUUtil: f[5], LibZFSDevel: f[6]}
		for _, bound := range []string{l.First, l.Last} {
			r, ok := findRelease(rels, bound)
			if !ok || r.Kind != KindRelease {
				return nil, bad("%q is not a release in releases.tsv", bound)
			}
		}
		l.first, _ = version.NewVersion(l.First)
		l.last, _ = version.NewVersion(l.Last)
		if l.last.LessThan(l.first) {
			return nil, bad("last_release %s is older than first_release %s", l.Last, l.First)
		}
		if len(out) > 0 && !out[len(out)-1].last.LessThan(l.first) {
			return nil, bad("%s-%s overlaps the row before", l.First, l.Last)
		}
		for _, p := range []struct{ pkg, prefix string }{{l.LibZFS, "libzfs"}, {l.LibZPool, "libzpool"}, {l.LibNVPair, "libnvpair"}, {l.LibUUtil, "libuutil"}} {
			if n, ok := strings.CutPrefix(p.pkg, p.prefix); !ok || !allDigits(n) {
				return nil, bad("%q is not %s<soname>", p.pkg, p.prefix)
			}
		}
		if l.LibZFSDevel != l.LibZFS+"-devel" {
			return nil, bad("libzfs_devel %q is not %s-devel", l.LibZFSDevel, l.LibZFS)
		}
		for _, pair := range strings.Fields(f[7]) {
			pkg, old, ok := strings.Cut(pair, "<")
			if !ok || old == "" || (pkg != l.LibZFS && pkg != l.LibZPool && pkg != l.LibNVPair && pkg != l.LibUUtil && pkg != l.LibZFSDevel) {
				return nil, bad("obsoletes %q is not <one of this row's packages><<old package>", pair)
			}
			l.Obsoletes = append(l.Obsoletes, Obsolete{pkg, old})
		}
		switch f[8] {
		case "yes":
			l.Versioned = true
		case "no":
		default:
			return nil, bad("versioned %q is not yes or no", f[8])
		}
		if strings.TrimSpace(f[9]) == "" {
			return nil, bad("source is empty")
		}
		out = append(out, l)
	}
	return out, nil
}

// findRelease looks a version up in rels.
func findRelease(rels []Release, v string) (Release, bool) {
	for _, r := range rels {
		if r.Version.String() == v {
			return r, true
		}
	}
	return Release{}, false
}

// LibraryPackageNames lists every library package name of every release
// in libraries.tsv (runtime and -devel), sorted.
func LibraryPackageNames() []string {
	var names []string
	for _, l := range data().libraries {
		for _, n := range append(l.Runtime(), l.LibZFSDevel) {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	return names
}
