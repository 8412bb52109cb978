package planner

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/repos"
)

// repoSections plans zfs.repo so that exactly the wanted section is
// enabled, and holds an exact zfs.version on it.
func (pl *planner) repoSections() bool {
	var secs []repos.Section
	for _, r := range pl.zfsRepo() {
		secs = append(secs, repos.Section{ID: r.ID, Enabled: r.Enabled, HasEnabledLine: true, BaseURL: r.BaseURL, GPGKey: r.GPGKey, Exclude: r.Exclude, Include: r.Include})
	}
	if len(secs) == 0 {
		var err error
		if secs, err = releaseSections(pl.f.Distro); err != nil {
			pl.errorf("zfs.repo", "cannot choose the zfs.repo section", "%v", err)
			return true
		}
	}
	want, err := repos.Wanted(secs, pl.s.ZFS.Repo, pl.backend.KmodRepos())
	if err != nil {
		pl.errorf("zfs.repo", "cannot choose the zfs.repo section", "%v", err)
		return true
	}
	for _, sec := range secs {
		w, ok := want[sec.ID]
		if ok && w {
			pl.hold(sec)
			pl.minorRelease(sec)
		} else if ok && isHold(sec.Include) {
			pl.add(Step{ID: "hold." + sec.ID, Action: Delete, Kind: KindHold,
				Summary: fmt.Sprintf("repo %s: remove includepkgs=%s", sec.ID, sec.Include), Before: sec.Include,
				Reason: "zfsinstall held the version here; this section is no longer the one in use",
				Hold:   &HoldStep{Path: repos.ZFSRepoPath, Section: sec.ID}})
		}
		if !ok || w == sec.Enabled {
			continue
		}
		pl.add(Step{ID: "repo." + sec.ID, Action: Update, Kind: KindRepo,
			Summary: fmt.Sprintf("repo %s: enabled %s -> %s", sec.ID, b01(sec.Enabled), b01(w)),
			Reason:  pl.sectionReason(sec.ID, w),
			Before:  "enabled=" + b01(sec.Enabled), After: "enabled=" + b01(w),
			Repo: &RepoStep{Path: repos.ZFSRepoPath, Section: sec.ID, Enabled: w}})
	}
	pl.mirror(secs, want)
	return true
}

// releaseSections is the zfs.repo the host's zfs-release package will
// install (catalog/data/zfs-release-sections.tsv, read out of the real
// packages), to plan section changes before it is installed; apply works
// on the file actually installed.
func releaseSections(d facts.Distro) ([]repos.Section, error) {
	secs, err := catalog.ReleaseSections(string(d.Family), d.Major)
	if err != nil {
		return nil, err
	}
	out := make([]repos.Section, len(secs))
	for i, s := range secs {
		out[i] = repos.Section{ID: s.ID, Enabled: s.Enabled, HasEnabledLine: true, BaseURL: s.BaseURL, GPGKey: s.GPGKey}
	}
	return out, nil
}

func (pl *planner) sectionReason(id string, enabled bool) string {
	kind := "DKMS"
	if pl.backend.KmodRepos() {
		kind = "kmod"
	}
	branch := pl.s.ZFS.Repo
	if enabled {
		return fmt.Sprintf("%s packages for repo = %q come from [%s]; exactly one OpenZFS section is enabled so dnf cannot mix builds", kind, branch, id)
	}
	return fmt.Sprintf("only one OpenZFS section may be enabled (packaging %s, repo = %q); [%s] would offer a second, different build", pl.backend.Name(), branch, id)
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// HoldPattern is the includepkgs= value that holds a section at version v:
// every package of that release (zfs, the libraries, the module package)
// and nothing else, so a plain `dnf update` cannot move ZFS.
func HoldPattern(v string) string { return "*-" + v + "-*" }

// isHold reports whether an includepkgs= value is one zfsinstall wrote.
func isHold(include string) bool {
	return strings.HasPrefix(include, "*-") && strings.HasSuffix(include, "-*") && !strings.Contains(include, " ")
}

// hold plans the version hold on the section in use: with an exact
// zfs.version the section offers only that release. A version range is not
// held (dnf update may move within what the section offers); the plan says so.
func (pl *planner) hold(sec repos.Section) {
	v := exactVersion(pl.s)
	switch {
	case v == "" && isHold(sec.Include):
		pl.add(Step{ID: "hold." + sec.ID, Action: Delete, Kind: KindHold,
			Summary: fmt.Sprintf("repo %s: remove includepkgs=%s (release the hold)", sec.ID, sec.Include), Before: sec.Include,
			Reason: "zfs.version no longer pins one release",
			Hold:   &HoldStep{Path: repos.ZFSRepoPath, Section: sec.ID}})
	case v == "":
		if pl.s.ZFS.Version != "" {
			pl.note("zfs.version = %q is a range: the resolved release is not held, so `dnf update` may move ZFS within it. Pin one release (e.g. version = \"2.2.7\") to hold it.", pl.s.ZFS.Version)
		}
	case sec.Include != HoldPattern(v):
		action := Create
		if sec.Include != "" {
			action = Update
		}
		pl.add(Step{ID: "hold." + sec.ID, Action: action, Kind: KindHold,
			Summary: fmt.Sprintf("repo %s: includepkgs=%s (hold OpenZFS at %s)", sec.ID, HoldPattern(v), v),
			Reason: "zfs.version pins " + v + ": the section then offers only that release, so a plain `dnf update` cannot move zfs, its libraries or its module. " +
				"includepkgs= in zfs.repo, not dnf versionlock: it needs no plugin, is visible where the repo is defined, and works the same in a chroot or --root (versionlock reads its list from the machine's /etc/dnf/plugins)",
			Before: sec.Include, After: HoldPattern(v),
			Hold: &HoldStep{Path: repos.ZFSRepoPath, Section: sec.ID, Pattern: HoldPattern(v)}})
	}
}

// option plans key=value in a zfs.repo section when it differs.
func (pl *planner) option(sec repos.Section, key, have, value, why string) {
	if have == value {
		return
	}
	pl.add(Step{ID: "option." + sec.ID + "." + key, Action: Update, Kind: KindOption,
		Summary: fmt.Sprintf("repo %s: %s=%s", sec.ID, key, value), Before: key + "=" + have, After: key + "=" + value, Reason: why,
		Option: &OptionStep{Path: repos.ZFSRepoPath, Section: sec.ID, Key: key, Value: value}})
}

// minorRelease accounts for a $releasever pinned to a minor release
// (/etc/dnf/vars/releasever = "9.4"): OpenZFS serves each minor's builds
// from epel/X.Y/, and its documentation uses --releasever=X.Y to stay on an
// older minor's kmods, so the pin is honoured; only the key link for a
// minor (RPM-GPG-KEY-openzfs-el-9.4) does not exist, so the section in use
// names the major's (the same key).
func (pl *planner) minorRelease(sec repos.Section) {
	d := pl.f.Distro
	major, _, pinned := strings.Cut(d.Releasever, ".")
	if d.Family != facts.FamilyEL || !pinned {
		return
	}
	pl.note("$releasever is pinned to %s (%s): zfs.repo takes OpenZFS from the epel/%s/ directories, whose kmods are built for EL %s kernels (the OpenZFS documentation's way to stay on an older minor release's kmods); remove the pin to follow the newest minor.",
		d.Releasever, facts.ReleaseverFile, d.Releasever, d.Releasever)
	if strings.Contains(sec.GPGKey, "$releasever") {
		pl.option(sec, "gpgkey", sec.GPGKey, strings.ReplaceAll(sec.GPGKey, "$releasever", major),
			fmt.Sprintf("with $releasever %s the key path would be RPM-GPG-KEY-openzfs-el-%s, which zfs-release does not ship (it links one key per major release); the major's link is the same OpenZFS key", d.Releasever, d.Releasever))
	}
}

// downloadSite is where zfs-release's sections point (catalog/data/
// zfs-release-sections.tsv); a mirror takes its place.
const downloadSite = "http://download.zfsonlinux.org"

// mirror points the section in use at spec's zfs.mirror, keeping the
// original baseurls in repos' origins file so that removing the mirror
// from the spec restores them.
func (pl *planner) mirror(secs []repos.Section, want map[string]bool) {
	origins := parseOrigins(pl.f.Files[facts.RepoOriginsFile])
	layout := map[string]string{}
	if rs, err := catalog.ReleaseSections(string(pl.f.Distro.Family), pl.f.Distro.Major); err == nil {
		for _, r := range rs {
			layout[r.ID] = r.BaseURL
		}
	}
	keep := map[string]string{}
	for _, sec := range secs {
		orig, recorded := origins[sec.ID]
		if !recorded {
			orig = sec.BaseURL
		}
		switch {
		case pl.s.ZFS.Mirror != "" && want[sec.ID]:
			path, ok := strings.CutPrefix(layout[sec.ID], downloadSite)
			if !ok {
				pl.errorf("zfs.mirror", "no mirror path for ["+sec.ID+"]",
					"zfs-release's layout for this distribution does not name a download.zfsonlinux.org baseurl for [%s], so zfsinstall cannot tell where the mirror serves it; set its baseurl in %s by hand and remove zfs.mirror.", sec.ID, repos.ZFSRepoPath)
				continue
			}
			keep[sec.ID] = orig
			pl.option(sec, "baseurl", sec.BaseURL, strings.TrimSuffix(pl.s.ZFS.Mirror, "/")+path,
				"zfs.mirror: the section in use is served from the mirror instead of "+downloadSite+" (its packages are still checked against the pinned OpenZFS keys); the original baseurl is kept in "+facts.RepoOriginsFile+" and restored when zfs.mirror is removed")
		case recorded:
			pl.option(sec, "baseurl", sec.BaseURL, orig, "zfsinstall pointed this section at a mirror that the spec no longer names: back to the baseurl zfs-release set, kept in "+facts.RepoOriginsFile)
		}
	}
	pl.file(facts.RepoOriginsFile, len(keep) > 0, originsContent(keep),
		"the baseurls zfs.mirror replaced, so that removing zfs.mirror restores them", 0)
}

// parseOrigins reads the origins file: "section=baseurl" lines.
func parseOrigins(content string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(content, "\n") {
		if id, url, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			out[strings.TrimSpace(id)] = strings.TrimSpace(url)
		}
	}
	return out
}

func originsContent(m map[string]string) string {
	var b strings.Builder
	b.WriteString(managedHeader)
	for _, id := range slices.Sorted(maps.Keys(m)) {
		b.WriteString(id + "=" + m[id] + "\n")
	}
	return b.String()
}
