// Package pkgmgr is zfsinstall's one client for rpm, dnf and dkms: every
// command line for them is built here, run through the host seam, and its
// output parsed here. Nothing else in zfsinstall builds an rpm, dnf or dkms
// argv. (goss's system/package_rpm.go is the model: one type per package
// manager, queries in, typed values out.)
//
// Paths: on an install root (--root DIR) rpm runs as `rpm --root DIR
// --dbpath /var/lib/rpm` (a machine whose rpm defaults elsewhere, such as
// Debian's ~/.rpmdb, still reads the root's EL database), dnf as `dnf
// --installroot DIR`, and dkms inside the root through chroot.
package pkgmgr

import (
	"context"
	"sync"

	"github.com/zfsinstall/zfsinstall/host"
)

// Client runs rpm, dnf and dkms on one host.
type Client struct {
	h host.Host
	// dnfArgs are extra arguments for every dnf call (--dnf-arg), placed
	// before the subcommand.
	dnfArgs []string

	mu  sync.Mutex
	dnf *dialect // the dnf this client runs, once known
}

// New returns a client for h; dnfArgs go into every dnf call.
func New(h host.Host, dnfArgs []string) *Client {
	return &Client{h: h, dnfArgs: dnfArgs}
}

// Host is the host the client runs on.
func (c *Client) Host() host.Host { return c.h }

// rpmArgv prefixes rpm arguments with --root and the EL database path when
// the host is an install root.
func (c *Client) rpmArgv(args ...string) []string {
	argv := []string{"rpm"}
	if c.h.Root() != "/" {
		argv = append(argv, "--root", c.h.Root(), "--dbpath", "/var/lib/rpm")
	}
	return append(argv, args...)
}

// dnfArgv builds a dnf argv: --installroot for a root, the extra
// arguments, then args.
func (c *Client) dnfArgv(args ...string) []string {
	argv := []string{"dnf"}
	if c.h.Root() != "/" {
		argv = append(argv, "--installroot", c.h.Root())
	}
	argv = append(argv, c.dnfArgs...)
	return append(argv, args...)
}

func (c *Client) run(ctx context.Context, argv []string) (host.Result, error) {
	return c.h.Run(ctx, host.Cmd{Argv: argv})
}
