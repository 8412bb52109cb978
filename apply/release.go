package apply

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/repos"
)

// release is the zfs-release package apply fetched and verified before the
// first change: the file rpm installs, the key that signed it, and what
// verification found (its zfs.repo among it).
type release struct {
	file string
	key  repos.Key
	info repos.ReleaseInfo
}

// loadRelease gets the zfs-release package of st (download or local file)
// once, verifies it against the trusted keys, and writes the verified bytes
// to a private machine file that rpm installs, so what is installed is
// what was checked. The file is removed when apply ends.
func (a *applier) loadRelease(st planner.Step) (*release, error) {
	if a.rel != nil {
		return a.rel, nil
	}
	r := st.Release
	if r == nil {
		return nil, missingPayload(st)
	}
	data, err := repos.Load(a.ctx, a.h, r.Source, a.opts.InsecureReleaseURL, a.opts.FetchTimeout)
	if err != nil {
		return nil, err
	}
	info, err := repos.VerifyRelease(data, a.f.Distro, a.opts.TrustedKeys)
	if err != nil {
		return nil, err
	}
	if r.SHA256 != "" && info.SHA256 != r.SHA256 {
		return nil, fmt.Errorf("%s changed since it was verified at plan time (sha256 %s, planned %s): refusing; run zfsinstall plan again", r.Source, info.SHA256, r.SHA256)
	}
	key, err := a.trustedKey(info.SignedBy)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "zfsinstall-release-*")
	if err != nil {
		return nil, err
	}
	a.cleanups = append(a.cleanups, func() { os.RemoveAll(dir) })
	file := filepath.Join(dir, info.Name+"-"+info.Version+"-"+info.Release+"."+info.Arch+".rpm")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		return nil, err
	}
	a.log.WithFields(logrus.Fields{"package": filepath.Base(file), "signed_by": info.SignedBy, "sha256": info.SHA256}).Info("zfs-release verified")
	a.rel = &release{file: file, key: key, info: info}
	return a.rel, nil
}
