package catalog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Distribution families of zfs-release.tsv.
const (
	FamilyEL     = "el"
	FamilyFedora = "fedora"
)

// ZFSRelease is the zfs-release package OpenZFS publishes for one
// distribution major release, from zfs-release.tsv.
type ZFSRelease struct {
	Family  string // FamilyEL or FamilyFedora
	Major   int    // 9 for EL9, 44 for Fedora 44
	Version string // "3-1": version-release without the dist tag
	File    string // "zfs-release-3-1.fc44.noarch.rpm"
	URL     string // where it is published
	// SignedBy is the key file that signed this package
	// ("RPM-GPG-KEY-openzfs-2022").
	SignedBy string
	// RepoKey signs the packages the repository serves: the key zfs.repo's
	// gpgkey= link (RPM-GPG-KEY-openzfs-el-9) points at.
	RepoKey string
	// AcceptedKeys are the keys any published zfs-release package for this
	// distribution release has been signed with, RepoKey first.
	AcceptedKeys []string
	Source       string
	sections     []ReleaseSection
}

// Section kinds: the package flavor a zfs.repo section serves.
const (
	SectionDKMS   = "dkms"   // [zfs], [zfs-latest], [zfs-2.3]: zfs-dkms and userland
	SectionKmod   = "kmod"   // [zfs-kmod], [zfs-2.3-kmod]: kABI-tracking kmod-zfs
	SectionSource = "source" // [zfs-source], [zfs-2.3-source]: SRPMs
)

// ReleaseSection is one section of the zfs.repo a zfs-release package
// installs, from zfs-release-sections.tsv.
type ReleaseSection struct {
	ID      string // "zfs-2.3-kmod"
	Enabled bool   // enabled=1 as shipped
	BaseURL string // as written, with $releasever and $basearch
	GPGKey  string // as written: "file:///etc/pki/rpm-gpg/RPM-GPG-KEY-openzfs-el-$releasever"
	// Base is the DKMS section this one is a twin of: "zfs-2.3" for
	// zfs-2.3-kmod and zfs-2.3-source, the ID itself for a DKMS section.
	Base string
	Kind string // SectionDKMS, SectionKmod or SectionSource
}

// ZFSReleases returns every row of zfs-release.tsv in file order. The slice
// is the caller's to keep.
func ZFSReleases() []ZFSRelease {
	out := make([]ZFSRelease, len(data().zfsReleases))
	for i, r := range data().zfsReleases {
		out[i] = r.copy()
	}
	return out
}

// LookupZFSRelease returns the zfs-release package published for family
// ("el", "fedora") and major release. ok is false when none is listed: an EL
// major zfsinstall does not know, or a Fedora release older than 35 (only
// the retired 1.x series) or newer than the table.
func LookupZFSRelease(family string, major int) (ZFSRelease, bool) {
	for _, r := range data().zfsReleases {
		if r.Family == family && r.Major == major {
			return r.copy(), true
		}
	}
	return ZFSRelease{}, false
}

// ZFSReleaseKeys returns the key that signs family/major's repository
// packages and the keys a zfs-release package for it may be signed with. A
// major the table does not list takes the nearest listed one of its family
// (a Fedora newer than the table the newest row's keys, an older one the
// oldest row's), so a package the administrator downloaded for a new
// Fedora is still checked against the key OpenZFS uses now. ok is false for
// an unknown family.
func ZFSReleaseKeys(family string, major int) (repoKey string, accepted []string, ok bool) {
	var best *ZFSRelease
	for i := range data().zfsReleases {
		r := &data().zfsReleases[i]
		if r.Family != family {
			continue
		}
		if best == nil || abs(r.Major-major) < abs(best.Major-major) {
			best = r
		}
	}
	if best == nil {
		return "", nil, false
	}
	return best.RepoKey, append([]string(nil), best.AcceptedKeys...), true
}

// ZFSReleaseSite is the directory OpenZFS publishes family's zfs-release
// packages in: "https://zfsonlinux.org/epel/", "https://zfsonlinux.org/fedora/".
// "" for an unknown family.
func ZFSReleaseSite(family string) string {
	for _, r := range data().zfsReleases {
		if r.Family == family {
			return r.URL[:strings.LastIndexByte(r.URL, '/')+1]
		}
	}
	return ""
}

// Sections returns the zfs.repo sections the package installs, in file
// order: what a host will have once it is installed, so a plan can name the
// section changes before it is.
func (r ZFSRelease) Sections() []ReleaseSection {
	return append([]ReleaseSection(nil), r.sections...)
}

// ReleaseSections returns the zfs.repo sections a family/major host gets
// from the zfs-release package published for it (LookupZFSRelease). It is
// the layout to plan with before zfs-release is installed; once it is, the
// installed zfs.repo is the authority.
func ReleaseSections(family string, major int) ([]ReleaseSection, error) {
	r, ok := LookupZFSRelease(family, major)
	if !ok {
		return nil, fmt.Errorf("no zfs-release package is known for %s %d", family, major)
	}
	return r.Sections(), nil
}

func (r ZFSRelease) copy() ZFSRelease {
	r.AcceptedKeys = append([]string(nil), r.AcceptedKeys...)
	r.sections = append([]ReleaseSection(nil), r.sections...)
	return r
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// releaseKeys are the key files a zfs-release.tsv row may name.
var releaseKeys = []string{"RPM-GPG-KEY-openzfs-2013", "RPM-GPG-KEY-openzfs-2022"}

func parseZFSReleases(b, sectionsTSV []byte) ([]ZFSRelease, error) {
	const name = "zfs-release.tsv"
	rows, err := readTSV(name, b, []string{"family", "major", "version", "file", "url", "signed_by", "repo_key", "accepted_keys", "source"})
	if err != nil {
		return nil, err
	}
	sections, err := parseReleaseSections(sectionsTSV)
	if err != nil {
		return nil, err
	}
	var out []ZFSRelease
	for _, row := range rows {
		f := row.fields
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, row.line, fmt.Sprintf(format, args...))
		}
		r := ZFSRelease{Family: f[0], Version: f[2], File: f[3], URL: f[4], SignedBy: f[5], RepoKey: f[6],
			AcceptedKeys: strings.Fields(f[7]), Source: f[8]}
		var dist string
		switch r.Family {
		case FamilyEL:
			dist = "el"
		case FamilyFedora:
			dist = "fc"
		default:
			return nil, bad("family %q is not %q or %q", r.Family, FamilyEL, FamilyFedora)
		}
		if r.Major, err = strconv.Atoi(f[1]); err != nil || r.Major <= 0 || !allDigits(f[1]) {
			return nil, bad("major %q is not a positive number", f[1])
		}
		for _, prev := range out {
			if prev.Family == r.Family && prev.Major == r.Major {
				return nil, bad("%s %d listed twice", r.Family, r.Major)
			}
		}
		want := fmt.Sprintf("zfs-release-%s.%s%d.noarch.rpm", r.Version, dist, r.Major)
		if r.File != want {
			return nil, bad("file %q is not %q (version %s on %s %d)", r.File, want, r.Version, r.Family, r.Major)
		}
		if !strings.HasPrefix(r.URL, "https://") || !strings.HasSuffix(r.URL, "/"+r.File) {
			return nil, bad("url %q is not an https URL of %s", r.URL, r.File)
		}
		for _, k := range append([]string{r.SignedBy, r.RepoKey}, r.AcceptedKeys...) {
			if !slices.Contains(releaseKeys, k) {
				return nil, bad("key %q is not one of %q", k, releaseKeys)
			}
		}
		if len(r.AcceptedKeys) == 0 || r.AcceptedKeys[0] != r.RepoKey || !slices.Contains(r.AcceptedKeys, r.SignedBy) {
			return nil, bad("accepted_keys %q must start with repo_key %s and hold signed_by %s", r.AcceptedKeys, r.RepoKey, r.SignedBy)
		}
		if strings.TrimSpace(r.Source) == "" {
			return nil, bad("source is empty")
		}
		if r.sections = sections[strings.TrimSuffix(r.File, ".rpm")]; len(r.sections) == 0 {
			return nil, bad("zfs-release-sections.tsv has no sections for %s", r.File)
		}
		out = append(out, r)
	}
	return out, nil
}

// parseReleaseSections reads zfs-release-sections.tsv: package (file name
// without .rpm) -> its sections in file order.
func parseReleaseSections(b []byte) (map[string][]ReleaseSection, error) {
	const name = "zfs-release-sections.tsv"
	rows, err := readTSV(name, b, []string{"rpm", "section", "enabled", "baseurl", "gpgkey"})
	if err != nil {
		return nil, err
	}
	out := map[string][]ReleaseSection{}
	for _, row := range rows {
		f := row.fields
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, row.line, fmt.Sprintf(format, args...))
		}
		s := ReleaseSection{ID: f[1], BaseURL: f[3], GPGKey: f[4], Base: f[1], Kind: SectionDKMS}
		switch f[2] {
		case "0":
		case "1":
			s.Enabled = true
		default:
			return nil, bad("enabled %q is not 0 or 1", f[2])
		}
		if !strings.HasPrefix(s.ID, "zfs") || strings.ContainsAny(s.ID, " []") {
			return nil, bad("section %q is not a zfs.repo section id", s.ID)
		}
		if base, ok := strings.CutSuffix(s.ID, "-kmod"); ok {
			s.Base, s.Kind = base, SectionKmod
		} else if base, ok := strings.CutSuffix(s.ID, "-source"); ok {
			s.Base, s.Kind = base, SectionSource
		}
		if !strings.HasPrefix(s.BaseURL, "http") || !strings.HasPrefix(s.GPGKey, "file:///etc/pki/rpm-gpg/") {
			return nil, bad("baseurl %q / gpgkey %q do not look like zfs.repo's", s.BaseURL, s.GPGKey)
		}
		for _, prev := range out[f[0]] {
			if prev.ID == s.ID {
				return nil, bad("%s has section %s twice", f[0], s.ID)
			}
		}
		out[f[0]] = append(out[f[0]], s)
	}
	for pkg, secs := range out {
		n := 0
		for _, s := range secs {
			if s.Enabled {
				n++
			}
		}
		if n != 1 {
			return nil, fmt.Errorf("%s: %s enables %d sections, want exactly one", name, pkg, n)
		}
	}
	return out, nil
}
