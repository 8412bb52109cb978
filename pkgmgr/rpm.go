package pkgmgr

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
)

// QueryFormat is the rpm query format package lines are read from: name, epoch,
// version, release, arch, and for repoquery the repository.
const QueryFormat = `%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\n`

// ParsePackages reads lines in the QueryFormat format; a sixth column is the repo.
// Lines that are not package lines (rpm's "package X is not installed")
// are skipped.
func ParsePackages(out []byte) []facts.Package {
	var pkgs []facts.Package
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 5 {
			continue
		}
		p := facts.Package{Name: c[0], Epoch: c[1], Version: c[2], Release: c[3], Arch: c[4]}
		if p.Epoch == "(none)" {
			p.Epoch = ""
		}
		if len(c) > 5 {
			p.Repo = c[5]
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// Installed returns every installed version of the named packages, in one
// `rpm -q` (which reads rpm's name index, not every header). A name that is
// not installed is simply absent.
func (c *Client) Installed(ctx context.Context, names ...string) ([]facts.Package, error) {
	res, err := c.run(ctx, c.rpmArgv(append([]string{"-q", "--qf", QueryFormat}, names...)...))
	var ce *host.CmdError
	if err != nil && !errors.As(err, &ce) {
		return nil, fmt.Errorf("querying installed packages: %w", err)
	}
	// rpm -q exits with the number of names that are not installed.
	pkgs := ParsePackages(res.Stdout)
	facts.SortPackages(pkgs)
	return pkgs, nil
}

// InstalledMatching returns the installed packages matching rpm glob
// patterns (`rpm -qa PATTERNS`, which reads every header).
func (c *Client) InstalledMatching(ctx context.Context, patterns ...string) ([]facts.Package, error) {
	res, err := c.run(ctx, c.rpmArgv(append([]string{"-qa", "--qf", QueryFormat}, patterns...)...))
	if err != nil {
		return nil, fmt.Errorf("querying installed packages: %w", err)
	}
	pkgs := ParsePackages(res.Stdout)
	facts.SortPackages(pkgs)
	return pkgs, nil
}

// Newest maps each package name to its newest installed version.
func Newest(pkgs []facts.Package) map[string]facts.Package {
	out := map[string]facts.Package{}
	for _, p := range pkgs {
		if old, ok := out[p.Name]; !ok || facts.ComparePackages(p, old) > 0 {
			out[p.Name] = p
		}
	}
	return out
}

// KeyImported reports whether the rpm database holds the OpenPGP key with
// this short ID (rpm names an imported key gpg-pubkey-<short id>).
func (c *Client) KeyImported(ctx context.Context, shortID string) (bool, error) {
	pkgs, err := c.Installed(ctx, "gpg-pubkey-"+shortID)
	if err != nil {
		return false, err
	}
	return len(pkgs) > 0, nil
}

// ImportKeys imports armored key files (machine paths) into the rpm
// database in one call. Importing a key the database already has is a
// no-op for rpm.
func (c *Client) ImportKeys(ctx context.Context, files ...string) error {
	if len(files) == 0 {
		return nil
	}
	if _, err := c.run(ctx, c.rpmArgv(append([]string{"--import"}, files...)...)); err != nil {
		return fmt.Errorf("importing %s into the rpm database: %w", strings.Join(files, ", "), err)
	}
	return nil
}
