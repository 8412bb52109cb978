package pkgmgr

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/rpmdb"
)

// QueryFormat is the rpm query format packages are read in: a header line
// "@ NAME EPOCH VERSION RELEASE ARCH" (tab-separated), then one line per
// requirement.
const QueryFormat = `@\t%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\n[%{REQUIRENAME} %{REQUIREFLAGS:depflags} %{REQUIREVERSION}\n]`

// dnfQueryFormat is QueryFormat for dnf repoquery, with the repository
// after the arch.
const dnfQueryFormat = `@\t%{name}\t%{epoch}\t%{version}\t%{release}\t%{arch}\t%{repoid}\n%{requires}\n`

// ParsePackages reads packages in the QueryFormat (or dnfQueryFormat)
// layout. Of each package's requirements it keeps those on the kernel
// (names starting with "kernel": kernel(SYMBOL) = HASH, kernel-devel,
// kernel-uname-r), one space between name, operator and version as dnf
// prints them. Lines that are neither (rpm's "package X is not installed")
// are skipped.
func ParsePackages(out []byte) []facts.Package {
	var pkgs []facts.Package
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	cur := -1
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "@\t"); ok {
			c := strings.Split(rest, "\t")
			if len(c) < 5 {
				cur = -1
				continue
			}
			p := facts.Package{Name: c[0], Epoch: c[1], Version: c[2], Release: c[3], Arch: c[4]}
			if p.Epoch == "(none)" || p.Epoch == "0" {
				p.Epoch = ""
			}
			if len(c) > 5 {
				p.Repo = c[5]
			}
			pkgs = append(pkgs, p)
			cur = len(pkgs) - 1
			continue
		}
		if cur >= 0 && strings.HasPrefix(line, "kernel") {
			pkgs[cur].Requires = append(pkgs[cur].Requires, strings.Join(strings.Fields(line), " "))
		}
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

// KernelSymbols reads the kernel(SYMBOL) = HASH provides of each kernel's
// packages (kernel-core, kernel-modules-core, kernel-modules and their
// variant twins), keeping the symbols in want (nil: all). The result maps
// each kernel release to symbol -> hash; a kernel whose packages provide
// none of them maps to an empty map. It reads the rpm database in process
// (a kernel-core provides about 10,500 symbols, and `rpm -q` printing them
// all was most of a converged plan on a host with a kmod-zfs and three
// kernels); where the database cannot be read that way it asks rpm, in one
// call, and logs why at debug level (ReadInstalled).
func (c *Client) KernelSymbols(ctx context.Context, kernels []facts.InstalledKernel, want map[string]bool) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	owner := map[string]string{} // NVRA -> kernel release
	var names, nvrs []string
	for _, k := range kernels {
		out[k.Release] = map[string]string{}
		vr, arch, ok := kernelVRA(k.Release)
		if !ok {
			continue
		}
		base := strings.TrimSuffix(k.Package, "-core")
		for _, suffix := range []string{"", "-core", "-modules-core", "-modules", "-modules-extra"} {
			if !slices.Contains(names, base+suffix) {
				names = append(names, base+suffix)
			}
			nvrs = append(nvrs, base+suffix+"-"+vr)
			owner[base+suffix+"-"+vr+"."+arch] = k.Release
		}
	}
	if len(names) == 0 {
		return out, nil
	}
	keep := func(provide, hash string, cur map[string]string) {
		sym, isSym := strings.CutPrefix(provide, "kernel(")
		if !isSym || cur == nil || !strings.HasSuffix(sym, ")") {
			return
		}
		if sym = strings.TrimSuffix(sym, ")"); want == nil || want[sym] {
			cur[sym] = hash
		}
	}
	pkgs, err := c.readDatabase(names, rpmdb.Provides)
	if err == nil {
		for _, p := range pkgs {
			cur := out[owner[p.Name+"-"+p.Version+"-"+p.Release+"."+p.Arch]]
			for _, d := range p.Provides {
				keep(d.Name, d.Version, cur)
			}
		}
		return out, nil
	}
	c.log().WithError(err).Debug("reading the kernels' symbols from the rpm database in process failed; asking rpm")
	res, err := c.run(ctx, c.rpmArgv(append([]string{"-q", "--qf", `@\t%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\n[%{PROVIDENAME}\t%{PROVIDEVERSION}\n]`}, nvrs...)...))
	var ce *host.CmdError
	if err != nil && !errors.As(err, &ce) {
		return nil, fmt.Errorf("reading the kernels' symbol versions: %w", err)
	}
	var cur map[string]string
	sc := bufio.NewScanner(bytes.NewReader(res.Stdout))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if nvra, ok := strings.CutPrefix(line, "@\t"); ok {
			cur = out[owner[nvra]]
			continue
		}
		if name, hash, ok := strings.Cut(line, "\t"); ok {
			keep(name, hash, cur)
		}
	}
	return out, nil
}

// kernelVRA splits a kernel release ("5.14.0-427.13.1.el9_4.x86_64+rt")
// into the version-release its packages carry and its arch.
func kernelVRA(release string) (vr, arch string, ok bool) {
	release, _, _ = strings.Cut(release, "+")
	i := strings.LastIndexByte(release, '.')
	if i < 0 || !strings.Contains(release[:i], "-") {
		return "", "", false
	}
	return release[:i], release[i+1:], true
}

// ImportedKeys returns the short IDs of the OpenPGP keys in the rpm
// database (rpm names an imported key gpg-pubkey-<short id>), in one call.
func (c *Client) ImportedKeys(ctx context.Context) (map[string]bool, error) {
	pkgs, err := c.Installed(ctx, "gpg-pubkey")
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, p := range pkgs {
		ids[strings.ToLower(p.Version)] = true
	}
	return ids, nil
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

// WhatRequires returns the installed packages that require any of the
// given capabilities (package names provide themselves), in one rpm call.
func (c *Client) WhatRequires(ctx context.Context, caps ...string) ([]facts.Package, error) {
	res, err := c.run(ctx, c.rpmArgv(append([]string{"-q", "--qf", QueryFormat, "--whatrequires"}, caps...)...))
	var ce *host.CmdError
	if err != nil && !errors.As(err, &ce) {
		return nil, fmt.Errorf("asking rpm what requires %s: %w", strings.Join(caps, ", "), err)
	}
	// "no package requires X" lines are skipped by ParsePackages.
	pkgs := ParsePackages(res.Stdout)
	facts.SortPackages(pkgs)
	return pkgs, nil
}

// InstallFile installs or upgrades one local package file with rpm -U
// (obsoleted packages go with it), in one rpm transaction.
func (c *Client) InstallFile(ctx context.Context, file string) error {
	if _, err := c.run(ctx, c.rpmArgv("-U", file)); err != nil {
		return fmt.Errorf("installing %s with rpm: %w", file, err)
	}
	return nil
}
