package repos

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
)

// ReposDir is where dnf reads .repo files from.
const ReposDir = "/etc/yum.repos.d"

// ZFSRepoPath is the repo file the zfs-release package installs.
const ZFSRepoPath = ReposDir + "/zfs.repo"

// OverrideDir is where dnf5 reads repository overrides from (dnf5's
// config-manager setopt writes them there; they win over the .repo files).
const OverrideDir = "/etc/dnf/repos.override.d"

// ReadAll returns every section of every /etc/yum.repos.d/*.repo on h,
// sorted by file name, then in file order, and after them the sections of
// dnf5's overrides (/etc/dnf/repos.override.d/*.repo). A file that does not
// parse is an error naming the file and line. A missing directory means no
// repos.
func ReadAll(h host.Host) ([]facts.Repo, error) {
	var paths []string
	for _, dir := range []string{ReposDir, OverrideDir} {
		found, err := h.Glob(dir + "/*.repo")
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", dir, err)
		}
		sort.Strings(found)
		paths = append(paths, found...)
	}
	out := []facts.Repo{}
	for _, p := range paths {
		f, err := Read(h, p)
		if err != nil {
			return nil, err
		}
		out = append(out, f.Repos(p)...)
	}
	return out, nil
}

// Repos are f's sections as the facts hold repositories, from the file at
// path.
func (f *File) Repos(path string) []facts.Repo {
	var out []facts.Repo
	for _, s := range f.Sections() {
		out = append(out, facts.Repo{ID: s.ID, File: path, Enabled: s.Enabled, BaseURL: s.BaseURL, GPGKey: s.GPGKey, Exclude: s.Exclude, Include: s.Include, GPGCheck: s.GPGCheck})
	}
	return out
}

// Read reads and parses the repo file at path on h.
func Read(h host.Host, path string) (*File, error) {
	data, err := h.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return Parse(path, data)
}

// Write replaces the repo file at path on h with f atomically (host.Host's
// WriteFile keeps the mode and owner of an existing file; a new one gets
// 0644), then reads it back and parses it again to prove the write took.
func Write(h host.Host, path string, f *File) error {
	data := f.Bytes()
	if err := h.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	got, err := h.ReadFile(path)
	if err != nil {
		return fmt.Errorf("verifying %s after writing it: %w", path, err)
	}
	if !bytes.Equal(got, data) {
		return fmt.Errorf("verifying %s after writing it: it holds %d bytes that differ from the %d written (is another program editing it?)", path, len(got), len(data))
	}
	if _, err := Parse(path, got); err != nil {
		return fmt.Errorf("verifying %s after writing it: %w", path, err)
	}
	return nil
}
