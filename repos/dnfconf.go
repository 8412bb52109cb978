package repos

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/zfsinstall/zfsinstall/host"
)

// DefaultRepoDirs are the directories dnf reads repository files from when
// dnf.conf names none: dnf 4's (libdnf's ConfigMain reposdir default,
// libdnf/conf/ConfigMain.cpp: /etc/yum.repos.d, /etc/yum/repos.d,
// /etc/distro.repos.d) and dnf 5's (REPOSITORY_CONF_DIRS in
// include/libdnf5/conf/const.hpp adds /usr/share/dnf5/repos.d, where
// Fedora 45 moves the system's repository files). A directory the host
// does not have adds nothing.
var DefaultRepoDirs = []string{ReposDir, "/etc/yum/repos.d", "/etc/distro.repos.d", "/usr/share/dnf5/repos.d"}

// RepoFile is one repository file dnf reads: its host path and contents.
type RepoFile struct {
	Path string
	File *File
}

// DNFConfig is the repository configuration dnf reads on a host: dnf.conf
// (its [main] gpgcheck and reposdir, and any repository sections in it)
// and every *.repo file of the repository directories, in the order dnf
// reads them (dnf/conf/read.py RepoReader: the main configuration file,
// then each reposdir's *.repo sorted by path).
type DNFConfig struct {
	// Main is dnf.conf, nil when the host has none.
	Main *File
	// Dirs are the repository directories: dnf.conf's reposdir, else
	// DefaultRepoDirs.
	Dirs []string
	// Files are the *.repo files of Dirs.
	Files []RepoFile
}

// ReadDNFConfig reads the repository configuration dnf reads on h. A file
// that does not parse is an error naming it.
func ReadDNFConfig(h host.Host) (*DNFConfig, error) {
	c := &DNFConfig{Dirs: DefaultRepoDirs}
	if data, err := h.ReadFile(DNFConf); err == nil {
		if c.Main, err = Parse(DNFConf, data); err != nil {
			return nil, err
		}
		if v, ok, _ := c.Main.Option("main", "reposdir"); ok {
			c.Dirs = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
		}
	}
	for _, dir := range c.Dirs {
		found, err := h.Glob(path.Join(dir, "*.repo"))
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", dir, err)
		}
		sort.Strings(found)
		for _, p := range found {
			f, err := Read(h, p)
			if err != nil {
				return nil, err
			}
			c.Files = append(c.Files, RepoFile{Path: p, File: f})
		}
	}
	return c, nil
}

// File returns the repository file at host path p, nil when dnf reads
// none there.
func (c *DNFConfig) File(p string) *File {
	for _, f := range c.Files {
		if f.Path == p {
			return f.File
		}
	}
	return nil
}

// Put makes f the repository file at host path p, replacing one there or
// adding it (in the first repository directory).
func (c *DNFConfig) Put(p string, f *File) {
	for i := range c.Files {
		if c.Files[i].Path == p {
			c.Files[i].File = f
			return
		}
	}
	c.Files = append(c.Files, RepoFile{Path: p, File: f})
}

// GPGChecked reports whether dnf checks the signatures of the packages it
// installs from repository id: the section's gpgcheck=, else dnf.conf's
// [main] gpgcheck=, else libdnf's default, which is off (ConfigMain
// gpgcheck{false}; EL's dnf.conf sets gpgcheck=1). found is false when no
// file dnf reads defines id.
func (c *DNFConfig) GPGChecked(id string) (checked, found bool) {
	main := false
	if c.Main != nil {
		if v, ok, _ := c.Main.Option("main", "gpgcheck"); ok {
			main, _ = parseBool(v)
		}
	}
	files := c.Files
	if c.Main != nil {
		files = append([]RepoFile{{Path: DNFConf, File: c.Main}}, files...)
	}
	for _, rf := range files {
		if rf.File == nil || (rf.Path == DNFConf && id == "main") {
			continue
		}
		if v, ok, err := rf.File.Option(id, "gpgcheck"); err == nil {
			if !ok {
				return main, true
			}
			on, valid := parseBool(v)
			return on && valid, true
		}
	}
	return false, false
}

// WriteTemp writes c's repository files into a new private directory of
// the machine running zfsinstall, for dnf to read instead of the host's
// (pkgmgr.Query.ReposDir), and returns it with a function that removes it.
// Files of several repository directories may share a name, so each is
// prefixed with its place in c.Files.
func (c *DNFConfig) WriteTemp() (string, func(), error) {
	dir, err := os.MkdirTemp("", "zfsinstall-repos-*")
	if err != nil {
		return "", nil, err
	}
	remove := func() { os.RemoveAll(dir) }
	for i, rf := range c.Files {
		name := filepath.Join(dir, fmt.Sprintf("%02d-%s", i, path.Base(rf.Path)))
		if err := os.WriteFile(name, rf.File.Bytes(), 0o600); err != nil {
			remove()
			return "", nil, err
		}
	}
	return dir, remove, nil
}
