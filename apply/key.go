package apply

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/repos"
)

// keyKind imports a trusted key into the rpm database.
type keyKind struct{}

func (keyKind) satisfied(a *applier, st planner.Step) (bool, error) {
	if st.Key == nil {
		return false, missingPayload(st)
	}
	k, err := a.trustedKey(st.Key.Name)
	if err != nil {
		return false, err
	}
	return a.c.KeyImported(a.ctx, k.ShortID())
}

func (keyKind) do(a *applier, st planner.Step) error {
	k, err := a.trustedKey(st.Key.Name)
	if err != nil {
		return err
	}
	return a.importKeys(k)
}

// trustedKey finds a trusted key by name; with one --release-key it is
// that key, whatever the plan calls it.
func (a *applier) trustedKey(name string) (repos.Key, error) {
	for _, k := range repos.Trusted(a.opts.TrustedKeys) {
		if k.Name == name {
			return k, nil
		}
	}
	if len(a.opts.TrustedKeys) == 1 {
		return a.opts.TrustedKeys[0], nil
	}
	return repos.Key{}, fmt.Errorf("no trusted key named %s", name)
}

// importKeys imports the embedded (pinned or --release-key) key bytes, not
// the copies a package drops under /etc/pki, so the trust anchor is what
// was verified; keys the database has are left alone. One rpm call.
func (a *applier) importKeys(keys ...repos.Key) error {
	var files []string
	for _, k := range keys {
		if ok, err := a.c.KeyImported(a.ctx, k.ShortID()); err == nil && ok {
			continue
		}
		file, done, err := pkgmgr.TempFile("zfsinstall-key-*", string(k.Armored))
		if err != nil {
			return err
		}
		defer done()
		files = append(files, file)
	}
	return a.c.ImportKeys(a.ctx, files...)
}

// importRepoKeys imports, for an install root, the keys named by the
// gpgkey=file:// lines of the repos a transaction uses. dnf --installroot
// reads those paths from the machine, not the root, so without this every
// signed package fails with "Curl error (37): Couldn't open file". The keys
// come from release packages already in the root (the zfs-release among
// them was verified before it was installed); on a live host dnf imports
// them itself. Importing a key the database already has is a no-op.
func (a *applier) importRepoKeys(enable []string) error {
	if a.h.Root() == "/" {
		return nil
	}
	list, err := repos.ReadAll(a.h)
	if err != nil {
		return err
	}
	vars := strings.NewReplacer("$releasever", a.f.Distro.Releasever, "$basearch", a.f.Arch)
	var files, seen []string
	for _, r := range list {
		if !r.Enabled && !slices.Contains(enable, r.ID) {
			continue
		}
		for _, url := range strings.FieldsFunc(r.GPGKey, func(c rune) bool { return c == ' ' || c == ',' || c == '\n' || c == '\t' }) {
			path, ok := strings.CutPrefix(vars.Replace(url), "file://")
			if !ok || slices.Contains(seen, path) {
				continue
			}
			seen = append(seen, path)
			// Read through the host, which resolves the path inside the
			// root: a link planted in the root cannot make rpm read a key
			// from outside it.
			data, err := a.h.ReadFile(path)
			if err != nil {
				continue
			}
			file, done, err := pkgmgr.TempFile("zfsinstall-repokey-*", string(data))
			if err != nil {
				return err
			}
			defer done()
			files = append(files, file)
		}
	}
	if err := a.c.ImportKeys(a.ctx, files...); err != nil {
		return fmt.Errorf("importing the gpgkey files of the repositories this transaction uses into the root's rpm database: %w", err)
	}
	return nil
}
