package pkgmgr

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path"
	"strings"

	"github.com/cavaliergopher/rpm"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
)

// This file is the one place that knows how dnf 4 and dnf 5 differ on the
// command line. Every dnf call zfsinstall makes is built by a dialect
// method; a new call gets its dnf 5 form here. Sources (dnf5 at tags
// 5.2.6.2, Fedora 41's first dnf5, and 5.4.4.0):
//
//   - /usr/bin/dnf is a relative link to dnf5 in the dnf5 package on
//     Fedora > 40 (dnf5.spec %install: `ln -sr %{buildroot}%{_bindir}/dnf5
//     %{buildroot}%{_bindir}/dnf`; it Provides and Obsoletes dnf < 5), and to
//     dnf-3 in dnf 4 (rpm-software-management/dnf dnf.spec).
//   - repoquery: dnf5 spells --queryformat (the name dnf5/commands/
//     repoquery/repoquery.cpp registers at both tags),
//     prints no newline after each package (doc/changes.rst "no longer prints
//     an additional newline"), turns `\n` into a newline but leaves `\t`
//     as two characters (libdnf5-cli/output/repoqueryformat.cpp
//     parse_queryformat), ends each requirement with a newline, and prints
//     the set of formatted packages sorted and without duplicates.
//   - --enablerepo/--disablerepo/--nogpgcheck/-c are only compatibility
//     aliases in dnf5 (dnf5/config/usr/share/dnf5/aliases.d/
//     compatibility.conf); the options are --enable-repo, --disable-repo,
//     --no-gpgchecks and --config (dnf5/main.cpp).
//   - dnf5 has no `shell`; `do --action=remove ... --action=install ...`
//     does both in one transaction from 5.2.17.0 (doc/commands/do.8.rst,
//     added in 98d260235); before it, `install --allowerasing` of the new
//     packages removes the conflicting old one (kmod-zfs declares Conflicts:
//     zfs-dkms), which Resolve checks before anything changes.
//   - --assumeno ends both with exit 1 (dnf 4 "Operation aborted.", dnf5
//     "Operation aborted by the user.", libdnf5-cli/exception.cpp).

// dialect is the dnf a client runs: its generation and, for dnf5, the
// package version ("" unknown) where a command's presence depends on it.
type dialect struct {
	name    facts.DNFDialect
	version string
}

// doSince is the first dnf5 with the `do` command (doc/commands/do.8.rst).
const doSince = "5.2.17.0"

// hasDo says whether dnf5 can remove and install in one command.
func (d dialect) hasDo() bool {
	return d.name == facts.DNF5 && d.version != "" && rpm.CompareVersions(d.version, doSince) >= 0
}

// dnf5QueryFormat is dnfQueryFormat for dnf5: real tabs (dnf5 leaves `\t`
// as it is), and the newline after the requirements is dnf5's own (each
// requirement ends with one; no newline is added after a package).
const dnf5QueryFormat = "@\t%{name}\t%{epoch}\t%{version}\t%{release}\t%{arch}\t%{repoid}\\n%{requires}"

// repoquery is the argv tail of a repoquery of specs in the package
// layout ParsePackages reads.
func (d dialect) repoquery(q Query, specs []string) []string {
	if d.name == facts.DNF5 {
		return append(append(d.queryArgs(q), "-q", "repoquery", "--available", "--queryformat", dnf5QueryFormat), specs...)
	}
	return append(append(d.queryArgs(q), "repoquery", "-q", "--available", "--qf", dnfQueryFormat), specs...)
}

// upgradeQueryFormat prints each package as a header line, its
// requirements after "@R" and its provides after "@P" (ParseOffers); the
// dnf5 form has real tabs and relies on dnf5 ending each requirement and
// provide with a newline.
const (
	upgradeQueryFormat     = `@\t%{name}\t%{epoch}\t%{version}\t%{release}\t%{arch}\t%{repoid}\n@R\n%{requires}\n@P\n%{provides}\n`
	dnf5UpgradeQueryFormat = "@\t%{name}\t%{epoch}\t%{version}\t%{release}\t%{arch}\t%{repoid}\\n@R\\n%{requires}@P\\n%{provides}"
)

// upgrade is the argv tail that resolves a plain `dnf upgrade` without
// running it; the same in both generations.
func (d dialect) upgrade(q Query) []string {
	return append(d.queryArgs(q), "--assumeno", "upgrade")
}

// upgrades is the argv tail of a repoquery of every version of specs newer
// than the installed one, with [main]'s exclusions off (dnf 4's
// --disableexcludes=main; dnf5 dropped the option for the disable_excludes
// configuration option, doc/changes_from_dnf4.7.rst and dnf5.conf(5)).
func (d dialect) upgrades(q Query, specs []string) []string {
	if d.name == facts.DNF5 {
		return append(append(d.queryArgs(q), "--setopt=disable_excludes=main", "-q", "repoquery", "--upgrades", "--queryformat", dnf5UpgradeQueryFormat), specs...)
	}
	return append(append(d.queryArgs(q), "--disableexcludes=main", "repoquery", "-q", "--upgrades", "--qf", upgradeQueryFormat), specs...)
}

// queryArgs are a Query's options: which repositories, which options.
func (d dialect) queryArgs(q Query) []string {
	var args []string
	if q.Refresh {
		args = append(args, "--refresh")
	}
	args = append(args, d.repoArgs(q.Enable, q.Disable)...)
	for _, o := range q.SetOpts {
		args = append(args, "--setopt="+o)
	}
	return args
}

// repoArgs enable and disable repositories for one call.
func (d dialect) repoArgs(enable, disable []string) []string {
	en, dis := "--enablerepo=", "--disablerepo="
	if d.name == facts.DNF5 {
		en, dis = "--enable-repo=", "--disable-repo="
	}
	var args []string
	for _, r := range enable {
		args = append(args, en+r)
	}
	for _, r := range disable {
		args = append(args, dis+r)
	}
	return args
}

// transaction is the argv tail that carries out t (yes) or resolves it
// without doing it (--assumeno). script is the `dnf shell` script dnf 4
// needs to remove and install in one transaction ("" otherwise).
func (d dialect) transaction(t Transaction, yes bool) (args []string, script string) {
	if yes {
		args = append(d.repoArgs(t.Enable, nil), "-y")
	} else {
		args = append([]string{"--assumeno"}, d.repoArgs(t.Enable, nil)...)
	}
	switch {
	case len(t.Remove) == 0:
		return append(append(args, "install"), t.Install...), ""
	case len(t.Install) == 0:
		return append(append(args, "remove"), t.Remove...), ""
	case d.hasDo():
		args = append(append(args, "do", "--action=remove"), t.Remove...)
		return append(append(args, "--action=install"), t.Install...), ""
	case d.name == facts.DNF5 || !yes:
		// dnf5 before `do` (Resolve checks that the conflict removes the
		// old package), and every dnf 4 resolve.
		return append(append(args, "install", "--allowerasing"), t.Install...), ""
	}
	return append(args, "shell"), "remove " + strings.Join(t.Remove, " ") + "\ninstall " + strings.Join(t.Install, " ") + "\nrun\n"
}

// dialect says which dnf this client runs, once, from files alone. On a
// live host (or in a chroot) that is the host's own dnf; with --root it is
// the machine's (dnf runs from the machine with --installroot), found on
// PATH as exec finds it. Running `dnf --version` instead would cost a dnf
// start and writes the machine's /var/log/hawkey.log even with
// --installroot (dnf 4.14). Without any dnf the dnf 4 forms are used and
// the run fails as dnf is not there. A dnf5 whose version matters is read
// from the rpm database when needed (versioned).
func (c *Client) dialect(ctx context.Context) (dialect, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dnf == nil {
		d := dialect{name: facts.DNF4}
		name := machineDialect()
		if c.h.Root() == "/" {
			name = hostDialect(c.h)
		}
		if name != "" {
			d.name = name
		}
		c.dnf = &d
	}
	return *c.dnf, ctx.Err()
}

// machineDialect is the dialect of the dnf on the machine's PATH (a
// variable so tests can stand a recorded dnf5 in for it).
var machineDialect = func() facts.DNFDialect {
	p, err := exec.LookPath("dnf")
	if err != nil {
		return ""
	}
	return fileDialect(p, os.Readlink, func(p string) ([]byte, error) {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		b := make([]byte, 4)
		n, err := f.Read(b)
		return b[:n], err
	})
}

// versioned fills in the dnf5 package version from the rpm database of a
// live host (its dnf is the root's). The machine's dnf5 under --root keeps
// an unknown version: Resolve then checks what install --allowerasing does.
func (c *Client) versioned(ctx context.Context, d dialect) (dialect, error) {
	if d.name != facts.DNF5 || d.version != "" || c.h.Root() != "/" {
		return d, nil
	}
	pkgs, err := c.Installed(ctx, "dnf5")
	if err != nil {
		return d, err
	}
	if p, ok := Newest(pkgs)["dnf5"]; ok {
		d.version = p.Version
	}
	c.mu.Lock()
	c.dnf = &d
	c.mu.Unlock()
	return d, nil
}

// HostDNF says which dnf the host runs, from its files alone: /usr/bin/dnf
// links to dnf5 or to dnf-3 (a regular file is dnf 4's Python script),
// and the version is the installed dnf5 or dnf package's among pkgs.
// Without /usr/bin/dnf the dialect is "" (no dnf).
func HostDNF(h host.Host, pkgs []facts.Package) facts.DNF {
	d := facts.DNF{Dialect: hostDialect(h)}
	name := "dnf"
	if d.Dialect == facts.DNF5 {
		name = "dnf5"
	}
	if p, ok := Newest(pkgs)[name]; ok && d.Dialect != "" {
		d.Version = p.Version
	}
	return d
}

func hostDialect(h host.Host) facts.DNFDialect {
	return fileDialect("/usr/bin/dnf", h.Readlink, h.ReadFile)
}

// fileDialect tells dnf 4 from dnf5 by the program file at p: a link to
// dnf5 or to dnf-3, dnf 4's Python script (EL7's dnf too), or the dnf5
// binary itself.
func fileDialect(p string, readlink func(string) (string, error), readFile func(string) ([]byte, error)) facts.DNFDialect {
	target, err := readlink(p)
	switch {
	case err == nil && path.Base(target) == "dnf5":
		return facts.DNF5
	case err == nil && strings.HasPrefix(path.Base(target), "dnf-"):
		return facts.DNF4
	}
	b, err := readFile(p)
	switch {
	case err != nil:
		return ""
	case bytes.HasPrefix(b, []byte("#!")):
		return facts.DNF4
	case bytes.HasPrefix(b, []byte("\x7fELF")):
		return facts.DNF5
	}
	return ""
}
