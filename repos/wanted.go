package repos

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// branchRe matches a pinned OpenZFS branch such as "2.2".
var branchRe = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)

// zfsSection is a zfs* section id taken apart: [zfs-2.2-kmod] is stream
// "2.2", kmod; [zfs-latest-source] is stream "latest", source.
type zfsSection struct {
	id     string
	stream string // "" for [zfs]/[zfs-kmod], "latest", "legacy", "2.2", "testing", "next", ...
	kmod   bool
	source bool
}

// pkg reports whether the section carries OpenZFS packages that a spec can
// ask for: not sources, not the deprecated testing or 1.x "next" repos.
func (z zfsSection) pkg() bool {
	return !z.source && (z.stream == "" || z.stream == "latest" || z.stream == "legacy" || branchRe.MatchString(z.stream))
}

func parseZFSSection(id string) (zfsSection, bool) {
	if id != "zfs" && !strings.HasPrefix(id, "zfs-") {
		return zfsSection{}, false
	}
	z := zfsSection{id: id}
	rest := strings.TrimPrefix(strings.TrimPrefix(id, "zfs"), "-")
	if r, ok := strings.CutSuffix(rest, "source"); ok {
		z.source, rest = true, r
	} else if r, ok := strings.CutSuffix(rest, "kmod"); ok {
		z.kmod, rest = true, r
	}
	z.stream = strings.TrimSuffix(rest, "-")
	return z, true
}

// streamName is how a spec's repo attribute names a stream.
func streamName(stream string) string {
	if stream == "" {
		return "default"
	}
	return stream
}

// Wanted returns the desired enabled state of every zfs* section present in
// sections (the sections of one zfs.repo): exactly one OpenZFS package
// section enabled, every other zfs* section disabled. Sections not named
// zfs or zfs-* are not in the map.
//
// repo is the spec's "default" (the plain [zfs]/[zfs-kmod] sections),
// "latest", "legacy" or a branch "x.y"; kmod selects the -kmod twin. Source
// (-source), testing (zfs-testing*) and 1.x zfs-next sections are always
// disabled. Fedora's zfs.repo has no -kmod sections, so asking for kmod
// there is an error, and so is a stream the file does not have (the error
// lists what it offers; zfs-release 2-x files offer only "default").
func Wanted(sections []Section, repo string, kmod bool) (map[string]bool, error) {
	stream := repo
	switch {
	case repo == "default":
		stream = ""
	case repo == "latest", repo == "legacy", branchRe.MatchString(repo):
	default:
		return nil, fmt.Errorf(`repo must be "default", "latest", "legacy" or a branch "x.y" such as "2.2", not %q`, repo)
	}
	want := map[string]bool{}
	target := ""
	hasKmod := false
	offered := map[string]bool{}
	for _, s := range sections {
		z, ok := parseZFSSection(s.ID)
		if !ok {
			continue
		}
		want[s.ID] = false
		if !z.pkg() {
			continue
		}
		hasKmod = hasKmod || z.kmod
		if z.kmod == kmod {
			offered[z.stream] = true
			if z.stream == stream {
				target = s.ID
			}
		}
	}
	if kmod && !hasKmod {
		return nil, errors.New(`this zfs.repo has no -kmod sections (Fedora's zfs-release has none: OpenZFS publishes kABI-tracking kmods for Enterprise Linux only): use packaging = "dkms"`)
	}
	if target == "" {
		return nil, missingStream(repo, kmod, offered)
	}
	want[target] = true
	return want, nil
}

// missingStream explains that the file lacks the asked-for stream.
func missingStream(repo string, kmod bool, offered map[string]bool) error {
	id := "zfs"
	if repo != "default" {
		id += "-" + repo
	}
	kind := "DKMS"
	if kmod {
		id += "-kmod"
		kind = "kmod"
	}
	if len(offered) == 0 {
		return fmt.Errorf("zfs.repo has no [%s] section for repo = %q, nor any other OpenZFS %s package section: reinstall zfs-release to get the file it ships", id, repo, kind)
	}
	var names []string
	for s := range offered {
		names = append(names, s)
	}
	sort.Slice(names, func(i, j int) bool { return streamLess(names[i], names[j]) })
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = strconv.Quote(streamName(n))
	}
	msg := fmt.Sprintf("zfs.repo has no [%s] section for repo = %q: it offers %s for %s", id, repo, strings.Join(quoted, ", "), kind)
	if !offered["latest"] {
		msg += "; zfs-release 3-0 adds the zfs-latest, zfs-legacy and zfs-x.y branch sections: install it, or use repo = \"default\""
	}
	return errors.New(msg)
}

// streamLess orders streams as default, latest, legacy, then branches by
// version.
func streamLess(a, b string) bool {
	rank := func(s string) int {
		switch s {
		case "":
			return 0
		case "latest":
			return 1
		case "legacy":
			return 2
		}
		return 3
	}
	if ra, rb := rank(a), rank(b); ra != rb || ra < 3 {
		return ra < rb
	}
	am, an, _ := strings.Cut(a, ".")
	bm, bn, _ := strings.Cut(b, ".")
	if am != bm {
		x, _ := strconv.Atoi(am)
		y, _ := strconv.Atoi(bm)
		return x < y
	}
	x, _ := strconv.Atoi(an)
	y, _ := strconv.Atoi(bn)
	return x < y
}

// StreamSections are the two package sections of a spec's zfs.repo stream
// ("default", "latest", "legacy", "2.2"): the DKMS one and its -kmod twin.
func StreamSections(stream string) []string {
	id := "zfs"
	if stream != "" && stream != "default" {
		id += "-" + stream
	}
	return []string{id, id + "-kmod"}
}

// IsOpenZFS reports whether a repository section serves OpenZFS packages:
// an OpenZFS section id (zfs, zfs-kmod, zfs-2.2, ...) or a baseurl on
// OpenZFS's download site.
func IsOpenZFS(id, baseURL string) bool {
	if _, ok := parseZFSSection(id); ok {
		return true
	}
	return strings.Contains(baseURL, "download.zfsonlinux.org") || strings.Contains(baseURL, "zfsonlinux.org/epel") || strings.Contains(baseURL, "zfsonlinux.org/fedora")
}

// GPGCheckOff reports whether a gpgcheck= value turns signature checks off.
func GPGCheckOff(v string) bool {
	b, ok := parseBool(v)
	return ok && !b
}
