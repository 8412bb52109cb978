package apply

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/repos"
)

// fetchRelease gets the zfs-release package (download or local file),
// verifies it against the trusted keys, and writes the verified bytes to a
// private file that dnf installs, so what is installed is what was checked.
func (a *applier) fetchRelease(st planner.Step) (string, repos.Key, func(), error) {
	r := st.Release
	if r == nil {
		return "", repos.Key{}, nil, missingPayload(st)
	}
	data, err := repos.Load(a.ctx, a.h, r.Source, a.opts.InsecureReleaseURL, a.opts.FetchTimeout)
	if err != nil {
		return "", repos.Key{}, nil, err
	}
	info, err := repos.VerifyRelease(data, a.f.Distro, a.opts.TrustedKeys)
	if err != nil {
		return "", repos.Key{}, nil, err
	}
	if r.SHA256 != "" && info.SHA256 != r.SHA256 {
		return "", repos.Key{}, nil, fmt.Errorf("%s changed since it was verified at plan time (sha256 %s, planned %s): refusing; run zfsinstall plan again", r.Source, info.SHA256, r.SHA256)
	}
	key, err := a.trustedKey(info.SignedBy)
	if err != nil {
		return "", key, nil, err
	}
	dir, err := os.MkdirTemp("", "zfsinstall-release-*")
	if err != nil {
		return "", key, nil, err
	}
	file := filepath.Join(dir, info.Name+"-"+info.Version+"-"+info.Release+"."+info.Arch+".rpm")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		os.RemoveAll(dir)
		return "", key, nil, err
	}
	a.log.WithFields(logrus.Fields{"package": filepath.Base(file), "signed_by": info.SignedBy, "sha256": info.SHA256}).Info("zfs-release verified")
	return file, key, func() { os.RemoveAll(dir) }, nil
}
