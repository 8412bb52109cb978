package planner

import (
	"fmt"
	"path"
	"slices"

	"github.com/zfsinstall/zfsinstall/repos"
)

// sources refuses OpenZFS package sources zfsinstall does not manage, and
// any OpenZFS source with GPG checks off. zfs.repo is the one place the
// OpenZFS sections live: a section of the same id in another file makes dnf
// merge or pick one of them, another enabled file with OpenZFS's baseurl
// offers a second build, and a dnf5 override (/etc/dnf/repos.override.d)
// wins over zfs.repo. gpgcheck=0 on an OpenZFS section in zfs.repo is set
// back to 1 (zfsinstall never lets a package in unchecked), in the zfs.repo
// zfs-release is about to install too (issue 20 item 1: a private
// mirror's package, trusted with --release-key, shipping gpgcheck=0);
// elsewhere it is refused.
func (pl *planner) sources() bool {
	all := pl.f.Repos
	ids := map[string]bool{}
	for _, r := range pl.zfsRepo() {
		ids[r.ID] = true
		if !slices.Contains(all, r) {
			all = append(all, r) // the zfs.repo zfs-release will install
		}
	}
	for _, r := range all {
		if !repos.IsOpenZFS(r.ID, r.BaseURL) {
			continue
		}
		switch {
		case r.File == repos.ZFSRepoPath:
			if repos.GPGCheckOff(r.GPGCheck) {
				pl.add(Step{ID: "option." + r.ID + ".gpgcheck", Action: Update, Kind: KindOption,
					Summary: fmt.Sprintf("repo %s: gpgcheck=%s -> 1", r.ID, r.GPGCheck), Before: "gpgcheck=" + r.GPGCheck, After: "gpgcheck=1",
					Reason: "GPG checks are off for an OpenZFS section: dnf would install its packages unverified. zfsinstall never turns them off and turns them back on",
					Option: &OptionStep{Path: r.File, Section: r.ID, Key: "gpgcheck", Value: "1"}})
			}
		case path.Dir(r.File) == repos.OverrideDir:
			pl.errorf("", fmt.Sprintf("a dnf5 override changes the OpenZFS repository [%s]", r.ID),
				"%s overrides [%s] (dnf5 applies /etc/dnf/repos.override.d over the .repo files), so dnf would not do what zfs.repo and this plan say. Remove the override (or its [%s] section) and plan again.", r.File, r.ID, r.ID)
		case ids[r.ID]:
			pl.errorf("", fmt.Sprintf("the OpenZFS repository [%s] is defined twice", r.ID),
				"[%s] is in %s and in %s: dnf merges or rejects a section defined twice, so zfsinstall cannot tell which one dnf uses. Remove it from %s and plan again.", r.ID, repos.ZFSRepoPath, r.File, r.File)
		case r.Enabled:
			pl.errorf("", fmt.Sprintf("another enabled OpenZFS repository: [%s] in %s", r.ID, r.File),
				"[%s] (baseurl %s) offers OpenZFS packages beside zfs.repo, so dnf could mix builds of different releases or packagings. Disable it (dnf config-manager --set-disabled %s) or remove %s, and plan again.", r.ID, r.BaseURL, r.ID, r.File)
		case repos.GPGCheckOff(r.GPGCheck):
			pl.errorf("", fmt.Sprintf("an OpenZFS repository with GPG checks off: [%s] in %s", r.ID, r.File),
				"[%s] sets gpgcheck=%s: enabled, even for one command, it lets OpenZFS packages in unverified. Set gpgcheck=1 or remove the section, and plan again.", r.ID, r.GPGCheck)
		}
	}
	return true
}
