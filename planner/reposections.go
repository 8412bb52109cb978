package planner

import (
	"fmt"
	"strings"

	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/repos"
)

// repoSections plans zfs.repo so that exactly the wanted section is
// enabled, and holds an exact zfs.version on it.
func (pl *planner) repoSections() bool {
	var secs []repos.Section
	for _, r := range pl.f.Repos {
		if r.File == repos.ZFSRepoPath {
			secs = append(secs, repos.Section{ID: r.ID, Enabled: r.Enabled, HasEnabledLine: true, BaseURL: r.BaseURL, GPGKey: r.GPGKey, Exclude: r.Exclude, Include: r.Include})
		}
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
