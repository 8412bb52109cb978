package catalog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	version "github.com/hashicorp/go-version"
)

// Release kinds in releases.tsv.
const (
	KindRelease = "release"
	KindDevTag  = "dev-tag" // an X.Y.99 development tag, never a packaged release
)

// Release is one OpenZFS tag from releases.tsv.
type Release struct {
	Version *version.Version
	Kind    string // KindRelease or KindDevTag
	Date    string // tag date, "2024-12-04"
	// LinuxMin and LinuxMax are Linux-Minimum and Linux-Maximum from the tag's
	// META file ("3.10", "6.12"; LinuxMin can be "2.6.32"). A DKMS build on a
	// newer upstream kernel than LinuxMax fails.
	LinuxMin, LinuxMax string
	// DKMSKernelRequires says how the zfs-dkms spec constrains kernel-devel,
	// e.g. "kernel-devel (unversioned)", "kernel-devel in [MIN,MAX.999]".
	DKMSKernelRequires string
	Commit             string // the tag's commit in openzfs/zfs
}

// Releases returns every OpenZFS tag in releases.tsv, development tags
// included, oldest version first. The slice is the caller's to keep.
func Releases() []Release {
	return append([]Release(nil), data().releases...)
}

// LookupRelease finds a tag by version: "2.2.7", or with an rpm release
// "2.2.7-1" (which is ignored), or as `zfs version` prints it ("zfs-2.2.7-1",
// "zfs-kmod-2.2.7-1").
func LookupRelease(v string) (Release, bool) {
	want, err := parseZFSVersion(v)
	if err != nil {
		return Release{}, false
	}
	for _, r := range data().releases {
		if r.Version.Equal(want) {
			return r, true
		}
	}
	return Release{}, false
}

// Branch is the release's major.minor, which names its pinned repo section
// (zfs-2.2) and the go-version constraint for it ("~> 2.2.0").
func (r Release) Branch() string {
	s := r.Version.Segments()
	return strconv.Itoa(s[0]) + "." + strconv.Itoa(s[1])
}

// SupportsKernel reports whether the release's META range covers an
// upstream kernel, LinuxMin <= upstream <= LinuxMax, compared numerically as
// major.minor ("6.10" > "6.9"). upstream may carry a patch level ("6.1.80"),
// which is ignored. An unparsable upstream is not supported.
//
// For stock EL kernels this is necessary, not sufficient: Red Hat backports
// can break a build inside the range.
func (r Release) SupportsKernel(upstream string) bool {
	k, ok := parseMajorMinor(upstream)
	if !ok {
		return false
	}
	lo, okLo := parseMajorMinor(r.LinuxMin)
	hi, okHi := parseMajorMinor(r.LinuxMax)
	return okLo && okHi && !k.less(lo) && !hi.less(k)
}

// NewestSupporting returns the newest release (development tags excluded)
// that supports the upstream kernel and satisfies constraint; a nil or empty
// constraint allows any version. To stay on one branch pass "~> 2.2.0".
func NewestSupporting(upstream string, constraint version.Constraints) (Release, bool) {
	for i := len(data().releases) - 1; i >= 0; i-- {
		r := data().releases[i]
		if r.Kind == KindRelease && r.SupportsKernel(upstream) && constraint.Check(r.Version) {
			return r, true
		}
	}
	return Release{}, false
}

// OldestSupporting returns the oldest release (development tags excluded)
// that supports the upstream kernel: with NewestSupporting it gives the
// range a plan can name ("kernel 6.15 needs 2.2.8 or newer").
func OldestSupporting(upstream string) (Release, bool) {
	for _, r := range data().releases {
		if r.Kind == KindRelease && r.SupportsKernel(upstream) {
			return r, true
		}
	}
	return Release{}, false
}

// parseZFSVersion reads "2.2.7", "2.2.7-1", "zfs-2.2.7-1" or
// "zfs-kmod-2.2.7-1" as the OpenZFS version 2.2.7. The rpm release is cut
// off rather than kept: go-version would read "-1" as a prerelease, which
// no constraint without one matches.
func parseZFSVersion(v string) (*version.Version, error) {
	s := strings.TrimSpace(v)
	s = strings.TrimPrefix(s, "zfs-kmod-")
	s = strings.TrimPrefix(s, "zfs-")
	s, _, _ = strings.Cut(s, "-")
	if s == "" || s[0] < '0' || s[0] > '9' {
		return nil, fmt.Errorf("%q is not an OpenZFS version", v)
	}
	return version.NewVersion(s)
}

// majorMinor is an upstream kernel series.
type majorMinor struct{ major, minor int }

func (a majorMinor) less(b majorMinor) bool {
	return a.major < b.major || (a.major == b.major && a.minor < b.minor)
}

// parseMajorMinor reads "6.10", "6.1.80" or "2.6.32" as its major.minor.
func parseMajorMinor(s string) (majorMinor, bool) {
	majorText, rest, ok := strings.Cut(s, ".")
	if !ok {
		return majorMinor{}, false
	}
	minorText, patch, hasPatch := strings.Cut(rest, ".")
	if !allDigits(majorText) || !allDigits(minorText) || len(majorText) > 4 || len(minorText) > 4 {
		return majorMinor{}, false
	}
	if hasPatch && !allDigits(patch) {
		return majorMinor{}, false
	}
	major, _ := strconv.Atoi(majorText)
	minor, _ := strconv.Atoi(minorText)
	return majorMinor{major, minor}, true
}

func parseReleases(b []byte) ([]Release, error) {
	const name = "releases.tsv"
	rows, err := readTSV(name, b, []string{"version", "kind", "tag_date", "Linux-Minimum", "Linux-Maximum",
		"generic_kmod_spec_in", "generic_dkms_spec_in", "dkms_kernel_requires", "tag_commit"})
	if err != nil {
		return nil, err
	}
	var out []Release
	for _, row := range rows {
		f := row.fields
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, row.line, fmt.Sprintf(format, args...))
		}
		v, err := version.NewVersion(f[0])
		if err != nil || v.Prerelease() != "" || v.Metadata() != "" || len(strings.Split(f[0], ".")) != 3 {
			return nil, bad("version %q is not X.Y.Z", f[0])
		}
		r := Release{Version: v, Kind: f[1], Date: f[2], LinuxMin: f[3], LinuxMax: f[4], DKMSKernelRequires: f[7], Commit: f[8]}
		if r.Kind != KindRelease && r.Kind != KindDevTag {
			return nil, bad("kind %q is not %q or %q", r.Kind, KindRelease, KindDevTag)
		}
		if _, err := time.Parse(time.DateOnly, r.Date); err != nil {
			return nil, bad("tag_date %q is not YYYY-MM-DD", r.Date)
		}
		lo, okLo := parseMajorMinor(r.LinuxMin)
		hi, okHi := parseMajorMinor(r.LinuxMax)
		if !okLo || !okHi || hi.less(lo) {
			return nil, bad("Linux-Minimum %q / Linux-Maximum %q is not a kernel range", r.LinuxMin, r.LinuxMax)
		}
		for _, yn := range f[5:7] {
			if yn != "yes" && yn != "no" {
				return nil, bad("spec column %q is not yes or no", yn)
			}
		}
		if r.DKMSKernelRequires == "" {
			return nil, bad("dkms_kernel_requires is empty")
		}
		if len(r.Commit) != 40 || strings.Trim(r.Commit, "0123456789abcdef") != "" {
			return nil, bad("tag_commit %q is not a 40-hex commit", r.Commit)
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b Release) int { return a.Version.Compare(b.Version) })
	for i := 1; i < len(out); i++ {
		if out[i].Version.Equal(out[i-1].Version) {
			return nil, fmt.Errorf("%s: version %s listed twice", name, out[i].Version)
		}
	}
	return out, nil
}
