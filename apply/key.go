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
	have, err := a.c.ImportedKeys(a.ctx)
	return have[k.ShortID()], err
}

func (keyKind) do(a *applier, st planner.Step) error {
	k, err := a.trustedKey(st.Key.Name)
	if err != nil {
		return err
	}
	// satisfied has just found it missing: no need to ask rpm again.
	return a.importKeys(map[string]bool{}, k)
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

// importKeys imports keys into the rpm database in one rpm call, leaving
// alone those whose short IDs are in have or that this apply imported
// already (transactions are prepared, and read the imported keys, before
// the first one runs). Keys the database has are
// skipped only to save the call: importing one again is a no-op for rpm, so
// a stale have costs time, never trust.
func (a *applier) importKeys(have map[string]bool, keys ...repos.Key) error {
	var files, names, ids []string
	for _, k := range keys {
		id := k.ShortID()
		if id != "" && (have[id] || a.imported[id]) {
			continue
		}
		ids = append(ids, id)
		file, done, err := pkgmgr.TempFile("zfsinstall-key-*", string(k.Armored))
		if err != nil {
			return err
		}
		defer done()
		files, names = append(files, file), append(names, k.Name)
	}
	if err := a.c.ImportKeys(a.ctx, files...); err != nil {
		return fmt.Errorf("importing %s: %w", strings.Join(names, ", "), err)
	}
	for _, id := range ids {
		a.imported[id] = true
	}
	return nil
}

// repoKeys are, for an install root, the keys named by the gpgkey=file://
// lines of the repos a transaction uses. dnf --installroot reads those
// paths from the machine, not the root, so unless they are imported first
// every signed package fails with "Curl error (37): Couldn't open file".
// The keys come from release packages already in the root (the zfs-release
// among them was verified before it was installed); on a live host dnf
// imports them itself. The trusted keys apply imports are the embedded
// (pinned or --release-key) bytes, never these copies.
func (a *applier) repoKeys(enable []string) ([]repos.Key, error) {
	if a.h.Root() == "/" {
		return nil, nil
	}
	list, err := repos.ReadAll(a.h)
	if err != nil {
		return nil, err
	}
	vars := strings.NewReplacer("$releasever", a.f.Distro.Releasever, "$basearch", a.f.Arch)
	var keys []repos.Key
	var seen []string
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
			// A file holding one key is skipped when rpm has it; any other
			// (several keys, or one this parser refuses) is handed to rpm.
			k, err := repos.ParseKey(path, data)
			if err != nil {
				k = repos.Key{Name: path, Armored: data}
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}
