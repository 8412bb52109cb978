package planner

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/repos"
)

// release plans the zfs-release package and its key.
func (pl *planner) release() bool {
	key, err := repos.KeyFor(pl.f.Distro)
	if err != nil {
		pl.errorf("", "no OpenZFS signing key for this distribution", "%v", err)
		return true
	}
	if pl.opts.ReleaseKey != nil {
		key = *pl.opts.ReleaseKey
		pl.note("zfs-release is verified against the key given with --release-key (%s, %s), not the pinned OpenZFS keys.", key.Name, key.Fingerprint)
	}
	if _, ok := pl.f.Installed("zfs-release"); !ok {
		pl.installRelease(key)
		return true
	}
	if !pl.keyImported(key) {
		pl.add(Step{ID: "key." + key.Name, Action: Create, Kind: KindKey,
			Summary: "import " + key.Name + " into the rpm database",
			Reason:  fmt.Sprintf("zfs-release is installed but its key (%s) is not in the rpm database; EL8+ do not import it automatically, and zfsinstall never turns GPG checks off", key.Fingerprint),
			Key:     &KeyStep{Name: key.Name}})
	}
	if _, ok := pl.f.Files[facts.RepoRPMNewFile]; ok {
		pl.note("%s.rpmnew exists: an upgrade of zfs-release shipped a new repo file that rpm did not apply because zfs.repo had been edited. zfsinstall manages the sections of zfs.repo; compare the two files and merge new sections by hand.", repos.ZFSRepoPath)
	}
	return true
}

// installRelease plans installing zfs-release from its verified bytes.
func (pl *planner) installRelease(key repos.Key) {
	src := pl.s.ZFS.ReleaseRPM
	if src == "" {
		var err error
		if src, err = repos.ReleaseURL(pl.f.Distro); err != nil {
			pl.errorf("zfs.release_rpm", "no zfs-release package for this distribution", "%v", err)
			return
		}
	}
	st := Step{ID: "release.zfs-release", Action: Create, Kind: KindRelease, Txn: txnRelease,
		Summary: "install zfs-release from " + src,
		Reason: fmt.Sprintf("zfs-release provides %s and the OpenZFS signing keys; it is verified against the pinned %s (%s) before it is installed, and the key is imported into the rpm database so dnf checks every ZFS package it signs",
			repos.ZFSRepoPath, key.Name, key.Fingerprint),
		Release: &ReleaseStep{Source: src, Key: key.Name}}
	switch c := pl.opts.ReleaseCheck; {
	case c == nil:
		st.Reason += "; not verified yet (not reachable now): apply fetches and verifies it before anything is installed"
	case c.Err != nil:
		pl.errorf("zfs.release_rpm", "zfs-release refused", "%v", c.Err)
		return
	default:
		st.Summary = fmt.Sprintf("install %s-%s-%s.%s from %s", c.Info.Name, c.Info.Version, c.Info.Release, c.Info.Arch, src)
		st.Reason += fmt.Sprintf("; verified now: signed by %s, sha256 %s, and apply installs only a file with that digest", c.Info.SignedBy, c.Info.SHA256)
		st.Release.SHA256 = c.Info.SHA256
	}
	pl.add(st)
}

// zfsRepo returns the sections of zfs.repo as dnf will read them when the
// package transactions run: the host's zfs.repo, or, when there is none and
// zfs-release is still to be installed, the zfs.repo inside the verified
// package (ReleaseCheck.Info.Repo), so that what the package ships (a
// private mirror's gpgcheck=0, say) is planned for like an installed file;
// nil when neither is known (the catalog's layout then stands in). An
// existing zfs.repo wins over the package's: zfs-release marks it
// %config(noreplace), so rpm keeps the file on disk.
func (pl *planner) zfsRepo() []facts.Repo {
	var have []facts.Repo
	for _, r := range pl.f.Repos {
		if r.File == repos.ZFSRepoPath {
			have = append(have, r)
		}
	}
	c := pl.opts.ReleaseCheck
	if _, installed := pl.f.Installed("zfs-release"); len(have) > 0 || installed || c == nil || c.Err != nil || c.Info.Repo == nil {
		return have
	}
	f, err := repos.Parse(repos.ZFSRepoPath, c.Info.Repo)
	if err != nil {
		return nil // VerifyRelease parsed it already
	}
	return f.Repos(repos.ZFSRepoPath)
}

// keyImported looks for the gpg-pubkey package named by the key's short ID.
func (pl *planner) keyImported(k repos.Key) bool {
	for _, p := range pl.f.Packages {
		if p.Name == "gpg-pubkey" && p.Version == k.ShortID() {
			return true
		}
	}
	return false
}

// epel plans EPEL, which DKMS needs for dkms itself, the way each
// distribution gets it (catalog/data/epel.tsv): epel-release from the
// distribution's repositories (Rocky, Alma, CentOS Stream), from the EPEL
// URL (RHEL, which does not carry it), or Oracle's oracle-epel-release-elN.
// It is installed in the same transaction as zfs-release.
func (pl *planner) epel() bool {
	d := pl.f.Distro
	if !pl.backend.NeedsEPEL() || d.Family != facts.FamilyEL {
		return true
	}
	if _, ok := pl.f.Installed("dkms"); ok {
		return true
	}
	e, ok := catalog.EPELFor(d.ID, d.Major, pl.f.Arch)
	switch {
	case !ok || e.Package == "":
		why := "zfsinstall knows of no EPEL for " + d.Name
		if ok {
			why = "EPEL " + strconv.Itoa(d.Major) + " is end of life (" + e.Source + ")"
		}
		pl.errorf("zfs.packaging", "no EPEL to get dkms from", "DKMS needs dkms, which comes from EPEL, and %s. Install dkms from a repository you trust first, then plan again; or use packaging = \"kmod\" on a stock kernel.", why)
		return true
	case slices.ContainsFunc(e.Repos, pl.enabledRepo):
		return true
	}
	if _, ok := pl.f.Installed(e.Package); ok {
		return true
	}
	spec, why := e.Package, "dkms is packaged in EPEL, not in the distribution's repositories; "+e.Package+", which sets EPEL up, comes from the distribution's own repositories"
	if e.URL != "" {
		spec = strings.ReplaceAll(e.URL, "$major", strconv.Itoa(d.Major))
		why = fmt.Sprintf("dkms is packaged in EPEL, and %s carries no %s: it is installed from %s, as the EPEL documentation says (dnf does not check the signature of a package installed from a URL; the EPEL key it brings signs everything installed from EPEL afterwards)", d.Name, e.Package, spec)
	}
	if e.EnableWith == "subscription-manager" && !e.CRBForDKMS {
		pl.note("EPEL's documentation also enables %s; dkms needs nothing from it (its requirements are all in BaseOS and AppStream), so zfsinstall leaves it as it is.", e.EnableRepo)
	}
	pl.add(Step{ID: "package." + e.Package, Action: Create, Kind: KindPackage, Txn: txnRelease,
		Summary: "install " + e.Package, Reason: why, Package: &PackageStep{Name: e.Package, URL: urlSpec(spec, e.URL)}})
	return true
}

// urlSpec is the package spec of a release package installed from a URL
// ("" when it comes from a repository by name).
func urlSpec(spec, url string) string {
	if url == "" {
		return ""
	}
	return spec
}

func (pl *planner) hasRepo(id string) bool {
	for _, r := range pl.f.Repos {
		if r.ID == id {
			return true
		}
	}
	return false
}

func (pl *planner) enabledRepo(id string) bool {
	for _, r := range pl.f.Repos {
		if r.ID == id && r.Enabled {
			return true
		}
	}
	return false
}
