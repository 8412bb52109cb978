package pkgmgr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
)

// Query says which repositories a repoquery asks.
type Query struct {
	// Enable and Disable are repositories enabled or disabled for this
	// query only (--enablerepo, --disablerepo): how a query sees the
	// repositories as a plan will leave them, before it changes them.
	Enable, Disable []string
	// SetOpts are repository options for this query only, "ID.KEY=VALUE"
	// (--setopt): a planned baseurl or gpgkey seen before it is written.
	SetOpts []string
	// Refresh makes dnf re-read the repository metadata first.
	Refresh bool
}

// Offered returns what the repositories offer of the given package specs
// (names, or exact name-version-release.arch), each with the repository it
// comes from and its requirements on the kernel: one repoquery answers every
// question about what could be installed.
func (c *Client) Offered(ctx context.Context, q Query, specs ...string) ([]facts.Package, error) {
	d, err := c.dialect(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.run(ctx, c.dnfArgv(d.repoquery(q, specs)...))
	if err != nil {
		return nil, ExplainDNF(fmt.Errorf("asking the repositories what they offer: %w", err))
	}
	pkgs := ParsePackages(res.Stdout)
	facts.SortPackages(pkgs)
	return pkgs, nil
}

// Transaction is one dnf transaction.
type Transaction struct {
	Install []string // package specs or local file paths (machine paths)
	Remove  []string // package names
	Enable  []string // repositories enabled for this transaction only
}

// Run carries out t as one dnf transaction: a plain install, a plain
// remove, or, when both are needed, both in one transaction so the host
// never sits between the two (dnf 4: `dnf shell`; dnf5: `do`, or before
// dnf5 had it, install --allowerasing, which Resolve checked removes them).
func (c *Client) Run(ctx context.Context, t Transaction) error {
	d, err := c.transactionDialect(ctx, t)
	if err != nil {
		return err
	}
	args, script := d.transaction(t, true)
	if script != "" {
		file, done, err := TempFile("dnf-shell-*", script)
		if err != nil {
			return err
		}
		defer done()
		args = append(args, file)
	}
	if _, err := c.run(ctx, c.dnfArgv(args...)); err != nil {
		return ExplainDNF(fmt.Errorf("dnf transaction: %w", err))
	}
	return nil
}

// transactionDialect is the client's dialect, with the dnf5 version read
// when t both removes and installs (whether dnf5 has `do` depends on it).
func (c *Client) transactionDialect(ctx context.Context, t Transaction) (dialect, error) {
	d, err := c.dialect(ctx)
	if err != nil || len(t.Remove) == 0 || len(t.Install) == 0 {
		return d, err
	}
	return c.versioned(ctx, d)
}

// TempFile writes content to a private machine temp file (dnf reads local
// package files and shell scripts from the machine, not from an install
// root) and returns its path and a function that removes it.
func TempFile(pattern, content string) (string, func(), error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return "", nil, err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", nil, err
	}
	f.Close()
	return f.Name(), func() { os.Remove(f.Name()) }, nil
}

var (
	// dnf 4, then dnf5 ("Failed to download metadata (baseurl: \"URL\")
	// for repository \"ID\"", libdnf5/repo/repo_downloader.cpp at 5.2.6.2,
	// libdnf5/repo/repo.cpp at 5.4.4.0; testdata/dnf5/recorded/unreachable.json).
	reUnreachable = regexp.MustCompile(`Failed to download metadata for repo '([^']+)'|Failed to download metadata \([^)]*\) for repository "([^"]+)"`)
	// dnf 4, then dnf5 ("OpenPGP check for package \"NEVRA\" (...) from
	// repo \"ID\" has failed: The package is not signed.",
	// testdata/dnf5/recorded/unsigned.json).
	reUnsigned = regexp.MustCompile(`Package (\S+) is not signed|(\S+\.rpm)[^\n]*GPG check FAILED|The GPG keys listed for the "([^"]+)"|OpenPGP check for package "([^"]+)"[^\n]* has failed`)
	// "No match for argument: SPEC" in both (libdnf5/base/log_event.cpp).
	reNoMatch = regexp.MustCompile(`No match for argument: (\S+)`)
)

// ExplainDNF puts the cause and the way out in front of a failed dnf
// command's own words, for the failures seen in the field.
func ExplainDNF(err error) error {
	var ce *host.CmdError
	if !errors.As(err, &ce) {
		return err
	}
	out := string(ce.Stderr) + string(ce.Stdout)
	switch {
	case ce.ExitCode < 0 || ce.ExitCode == 137:
		return fmt.Errorf("dnf was killed in the middle of its transaction; rpm installs package by package, so the packages done so far are whole and the rest are not there. Run zfsinstall apply again: it re-reads the rpm database and finishes the job.\n%w", err)
	case reUnreachable.MatchString(out):
		m := reUnreachable.FindStringSubmatch(out)
		return fmt.Errorf("repository %s cannot be reached: check its baseurl or mirror and the network, or disable it; nothing was installed in this transaction.\n%w", m[1]+m[2], err)
	case reUnsigned.MatchString(out):
		return fmt.Errorf("a package failed its signature check and dnf refused the whole transaction (zfsinstall never turns GPG checks off): have the repository's owner sign it or remove it from the mirror, then run apply again.\n%w", err)
	case reNoMatch.MatchString(out):
		return fmt.Errorf("no enabled repository offers %s.\n%w", reNoMatch.FindStringSubmatch(out)[1], err)
	}
	return err
}

// Resolve asks dnf what transaction t would do, without doing it
// (--assumeno): every package it would install, upgrade, downgrade or
// remove, dependencies included. Removals together with installs resolve
// as Run carries them out (dnf5 `do`), else with --allowerasing; then every
// package t removes must be among the removals. An answer without a
// transaction table is an error, unless dnf said there is nothing to do.
func (c *Client) Resolve(ctx context.Context, q Query, t Transaction) ([]Change, error) {
	d, err := c.transactionDialect(ctx, t)
	if err != nil {
		return nil, err
	}
	args, _ := d.transaction(t, false)
	res, err := c.run(ctx, c.dnfArgv(append(d.queryArgs(q), args...)...))
	if err != nil && !HasTransactionTable(res.Stdout) {
		// --assumeno ends with exit 1 after the table; without one dnf
		// could not resolve at all.
		return nil, ExplainDNF(fmt.Errorf("resolving the transaction (dnf --assumeno): %w", err))
	}
	changes, perr := ParseTransaction(res.Stdout)
	if perr != nil {
		return nil, fmt.Errorf("resolving the transaction (dnf --assumeno): %w", perr)
	}
	if len(t.Remove) > 0 && len(t.Install) > 0 && d.name == facts.DNF5 && !d.hasDo() {
		for _, name := range t.Remove {
			if !slices.ContainsFunc(changes, func(ch Change) bool { return ch.Action == "remove" && ch.Name == name }) {
				return nil, fmt.Errorf("dnf5 %s cannot remove and install in one transaction (its `do` command came in %s) and installing %s does not remove %s by itself: update dnf5 (dnf upgrade dnf5), or remove %s by hand, then run apply again",
					d.version, doSince, strings.Join(t.Install, " "), name, name)
			}
		}
	}
	return changes, nil
}

// CheckDNFArgs refuses extra dnf arguments (--dnf-arg, $ZFSINSTALL_DNF_ARGS)
// that turn signature checks off: zfsinstall never lets a package in
// unverified.
func CheckDNFArgs(args []string) error {
	for _, a := range args {
		l := strings.ToLower(strings.TrimSpace(a))
		if l == "--nogpgcheck" || strings.HasPrefix(l, "--nogpgcheck") {
			return fmt.Errorf("refusing --dnf-arg %s: zfsinstall never turns GPG checks off", a)
		}
		if opt, ok := strings.CutPrefix(l, "--setopt="); ok {
			k, v, _ := strings.Cut(opt, "=")
			if strings.HasSuffix(k, "gpgcheck") {
				switch strings.TrimSpace(v) {
				case "0", "no", "false", "off":
					return fmt.Errorf("refusing --dnf-arg %s: zfsinstall never turns GPG checks off", a)
				}
			}
		}
	}
	return nil
}
