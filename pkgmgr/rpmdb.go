package pkgmgr

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/rpmdb"
)

// ReadInstalled returns what Installed returns, read from the rpm
// database in process (package rpmdb) instead of by `rpm -q`: a converged
// plan then starts no process at all. Where the database cannot be read
// that way (no database or one of a format rpmdb does not read, a
// transaction holding rpm's lock, a database written while it is read, a
// damaged header), it runs `rpm -q` as Installed does, and logs why at
// debug level.
//
// Only fact gathering uses it. apply keeps asking rpm: its queries check
// the state right before and after the transactions rpm and dnf run,
// where rpm itself is the authority, and a few milliseconds matter little
// beside a dnf transaction. (KernelSymbols reads the database in process
// for every caller: what a kernel provides does not change while it is
// installed.)
func (c *Client) ReadInstalled(ctx context.Context, names ...string) ([]facts.Package, error) {
	pkgs, err := c.readInstalled(names)
	if err != nil {
		c.log().WithError(err).Debug("reading the rpm database in process failed; asking rpm")
		return c.Installed(ctx, names...)
	}
	c.log().WithField("packages", len(pkgs)).Debug("installed packages read from the rpm database in process")
	return pkgs, nil
}

// readDatabase reads the named packages, with the dependency lists of
// fields, from the first rpm database directory that has one.
func (c *Client) readDatabase(names []string, fields rpmdb.Fields) ([]rpmdb.Package, error) {
	var pkgs []rpmdb.Package
	var err error
	for _, dir := range c.dbDirs() {
		if pkgs, err = rpmdb.Read(hostFS{c.h}, dir, names, fields); !errors.Is(err, rpmdb.ErrNoDatabase) {
			break
		}
	}
	return pkgs, err
}

// readInstalled is ReadInstalled's read of the database.
func (c *Client) readInstalled(names []string) ([]facts.Package, error) {
	pkgs, err := c.readDatabase(names, rpmdb.Requires)
	if err != nil {
		return nil, err
	}
	out := make([]facts.Package, 0, len(pkgs))
	for _, p := range pkgs {
		fp := facts.Package{Name: p.Name, Epoch: p.Epoch, Version: p.Version, Release: p.Release, Arch: p.Arch}
		if fp.Epoch == "0" {
			fp.Epoch = ""
		}
		for _, d := range p.Requires {
			if strings.HasPrefix(d.Name, "kernel") {
				fp.Requires = append(fp.Requires, strings.Join(strings.Fields(d.Name+" "+depFlags(d.Flags)+" "+d.Version), " "))
			}
		}
		out = append(out, fp)
	}
	facts.SortPackages(out)
	return out, nil
}

// dbDirs are where rpm keeps its database: on an install root the one
// rpmArgv names (--dbpath /var/lib/rpm); on a live host rpm's default,
// /var/lib/rpm (EL7 to EL9; on Fedora 36+ and EL10 a link to the next)
// or /usr/lib/sysimage/rpm.
func (c *Client) dbDirs() []string {
	if c.h.Root() != "/" {
		return []string{"/var/lib/rpm"}
	}
	return []string{"/var/lib/rpm", "/usr/lib/sysimage/rpm"}
}

// depFlags prints rpm's sense flags as its depflags query format does
// (lib/formats.c depflagsFormat at rpm-4.16.1.3): <, >, = in that order.
func depFlags(f uint32) string {
	s := ""
	if f&2 != 0 {
		s += "<"
	}
	if f&4 != 0 {
		s += ">"
	}
	if f&8 != 0 {
		s += "="
	}
	return s
}

// log is the host's logger (host.Real's), or one that discards.
func (c *Client) log() logrus.FieldLogger {
	if r, ok := c.h.(*host.Real); ok && r.Log != nil {
		return r.Log
	}
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

// hostFS opens database files through the host: host.Real's Open where
// the host has it (read a page at a time), else the whole file.
type hostFS struct{ h host.Host }

func (f hostFS) Open(p string) (rpmdb.File, error) {
	if o, ok := f.h.(interface {
		Open(string) (*os.File, error)
	}); ok {
		return o.Open(p)
	}
	b, err := f.h.ReadFile(p)
	if err != nil {
		return nil, err
	}
	fi, err := f.h.Stat(p)
	if err != nil {
		return nil, err
	}
	return &memFile{Reader: strings.NewReader(string(b)), info: fi}, nil
}

// memFile is a file read whole through Host.ReadFile.
type memFile struct {
	*strings.Reader
	info fs.FileInfo
}

func (m *memFile) Stat() (fs.FileInfo, error) { return m.info, nil }
func (m *memFile) Close() error               { return nil }
