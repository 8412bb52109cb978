package pkgmgr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
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
	// ReposDir, when set, is the only directory dnf reads repository
	// files from (--setopt=reposdir): a temporary configuration that shows
	// the repositories as a plan will leave them, before any file on the
	// host changes. It is a machine path: dnf does not put a reposdir given
	// on its command line under the install root ("don't modify paths
	// specified on commandline", dnf/conf/config.py at 4.14.0).
	ReposDir string
}

func (q Query) args() []string {
	var args []string
	if q.ReposDir != "" {
		args = append(args, "--setopt=reposdir="+q.ReposDir)
	}
	if q.Refresh {
		args = append(args, "--refresh")
	}
	for _, r := range q.Enable {
		args = append(args, "--enablerepo="+r)
	}
	for _, r := range q.Disable {
		args = append(args, "--disablerepo="+r)
	}
	for _, o := range q.SetOpts {
		args = append(args, "--setopt="+o)
	}
	return args
}

// Offered returns what the repositories offer of the given package specs
// (names, or exact name-version-release.arch), each with the repository it
// comes from and its requirements on the kernel: one repoquery answers every
// question about what could be installed.
func (c *Client) Offered(ctx context.Context, q Query, specs ...string) ([]facts.Package, error) {
	args := append(q.args(), "repoquery", "-q", "--available", "--qf", dnfQueryFormat)
	res, err := c.run(ctx, c.dnfArgv(append(args, specs...)...))
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
// remove, or, when both are needed, `dnf shell` with both in one
// transaction so the host never sits between the two.
func (c *Client) Run(ctx context.Context, t Transaction) error {
	var opts []string
	for _, r := range t.Enable {
		opts = append(opts, "--enablerepo="+r)
	}
	opts = append(opts, "-y")
	var args []string
	switch {
	case len(t.Remove) == 0:
		args = append(append(opts, "install"), t.Install...)
	case len(t.Install) == 0:
		args = append(append(opts, "remove"), t.Remove...)
	default:
		script, done, err := TempFile("dnf-shell-*", "remove "+strings.Join(t.Remove, " ")+"\ninstall "+strings.Join(t.Install, " ")+"\nrun\n")
		if err != nil {
			return err
		}
		defer done()
		args = append(opts, "shell", script)
	}
	if _, err := c.run(ctx, c.dnfArgv(args...)); err != nil {
		return ExplainDNF(fmt.Errorf("dnf transaction: %w", err))
	}
	return nil
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
	reUnreachable = regexp.MustCompile(`Failed to download metadata for repo '([^']+)'`)
	reUnsigned    = regexp.MustCompile(`Package (\S+) is not signed|(\S+\.rpm)[^\n]*GPG check FAILED|The GPG keys listed for the "([^"]+)"`)
	reNoMatch     = regexp.MustCompile(`No match for argument: (\S+)`)
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
		return fmt.Errorf("repository %s cannot be reached: check its baseurl or mirror and the network, or disable it; nothing was installed in this transaction.\n%w", reUnreachable.FindStringSubmatch(out)[1], err)
	case reUnsigned.MatchString(out):
		return fmt.Errorf("a package failed its signature check and dnf refused the whole transaction (zfsinstall never turns GPG checks off): have the repository's owner sign it or remove it from the mirror, then run apply again.\n%w", err)
	case reNoMatch.MatchString(out):
		return fmt.Errorf("no enabled repository offers %s.\n%w", reNoMatch.FindStringSubmatch(out)[1], err)
	}
	return err
}

// Change is one package a dnf transaction would install, upgrade,
// downgrade, reinstall or remove.
type Change struct {
	Action  string // "install", "upgrade", "downgrade", "reinstall", "remove"
	Name    string
	Arch    string
	Version string // version-release as dnf shows it
	Repo    string
}

// Resolve asks dnf what transaction t would do, without doing it
// (--assumeno): every package it would install, upgrade, downgrade or
// remove, dependencies included. Removals together with installs resolve
// with --allowerasing, as `dnf shell` would carry them out.
func (c *Client) Resolve(ctx context.Context, q Query, t Transaction) ([]Change, error) {
	args := append(q.args(), "--assumeno")
	for _, r := range t.Enable {
		args = append(args, "--enablerepo="+r)
	}
	switch {
	case len(t.Install) == 0:
		args = append(append(args, "remove"), t.Remove...)
	case len(t.Remove) > 0:
		args = append(append(args, "install", "--allowerasing"), t.Install...)
	default:
		args = append(append(args, "install"), t.Install...)
	}
	res, err := c.run(ctx, c.dnfArgv(args...))
	changes := ParseTransaction(res.Stdout)
	if err != nil && len(changes) == 0 {
		// --assumeno ends with "Operation aborted." and exit 1; with no
		// transaction table dnf could not resolve at all.
		return nil, ExplainDNF(fmt.Errorf("resolving the transaction (dnf --assumeno): %w", err))
	}
	return changes, nil
}

// transactionSections maps dnf's transaction table headings to actions.
var transactionSections = map[string]string{
	"Installing":                   "install",
	"Installing dependencies":      "install",
	"Installing weak dependencies": "install",
	"Upgrading":                    "upgrade",
	"Downgrading":                  "downgrade",
	"Reinstalling":                 "reinstall",
	"Removing":                     "remove",
	"Removing dependent packages":  "remove",
	"Removing unused dependencies": "remove",
}

// ParseTransaction reads the transaction table dnf prints before it asks
// "Is this ok" (dnf 4 and dnf 5): one row per package under headings such
// as "Installing:" and "Installing dependencies:". A name too long for its
// column is printed alone, the rest of the row on the next line.
func ParseTransaction(out []byte) []Change {
	var changes []Change
	action := ""
	var pending []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "Transaction Summary") {
			break
		}
		if line != "" && line[0] != ' ' {
			action = transactionSections[strings.TrimSuffix(strings.TrimSpace(line), ":")]
			pending = nil
			continue
		}
		fields := strings.Fields(line)
		if action == "" || len(fields) == 0 || fields[0] == "replacing" {
			continue
		}
		fields = append(pending, fields...)
		if len(fields) < 4 {
			pending = fields
			continue
		}
		pending = nil
		changes = append(changes, Change{Action: action, Name: fields[0], Arch: fields[1], Version: fields[2], Repo: fields[3]})
	}
	return changes
}
