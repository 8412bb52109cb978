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
	// Enable are repositories enabled for this query only (--enablerepo).
	Enable []string
	// Refresh makes dnf re-read the repository metadata first.
	Refresh bool
}

func (q Query) args() []string {
	var args []string
	if q.Refresh {
		args = append(args, "--refresh")
	}
	for _, r := range q.Enable {
		args = append(args, "--enablerepo="+r)
	}
	return args
}

// Offered returns what the enabled repositories offer of the given package
// specs (names, or exact name-version-release.arch), each with the
// repository it comes from.
func (c *Client) Offered(ctx context.Context, q Query, specs ...string) ([]facts.Package, error) {
	args := append(q.args(), "repoquery", "-q", "--available", "--qf", strings.TrimSuffix(QueryFormat, `\n`)+`\t%{repoid}\n`)
	res, err := c.run(ctx, c.dnfArgv(append(args, specs...)...))
	if err != nil {
		return nil, ExplainDNF(fmt.Errorf("asking the repositories what they offer: %w", err))
	}
	pkgs := ParsePackages(res.Stdout)
	facts.SortPackages(pkgs)
	return pkgs, nil
}

// Requires returns the requirements of one offered package (`dnf repoquery
// --requires`), one capability a line as dnf prints them.
func (c *Client) Requires(ctx context.Context, q Query, spec string) ([]string, error) {
	args := append(q.args(), "repoquery", "-q", "--available", "--requires", spec)
	res, err := c.run(ctx, c.dnfArgv(args...))
	if err != nil {
		return nil, ExplainDNF(fmt.Errorf("reading the requirements of %s: %w", spec, err))
	}
	return nonEmptyLines(res.Stdout), nil
}

// Files returns the files of each offered version of a package, keyed by
// version-release (one repoquery).
func (c *Client) Files(ctx context.Context, q Query, spec string) (map[string][]string, error) {
	args := append(q.args(), "repoquery", "-q", "--available", "--qf", "@pkg %{version}-%{release}\n%{files}\n", spec)
	res, err := c.run(ctx, c.dnfArgv(args...))
	if err != nil {
		return nil, ExplainDNF(fmt.Errorf("listing the files of %s: %w", spec, err))
	}
	return ParseFiles(res.Stdout), nil
}

// ParseFiles reads "@pkg VERSION-RELEASE" headers, each followed by that
// package's files.
func ParseFiles(out []byte) map[string][]string {
	m := map[string][]string{}
	cur := ""
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "@pkg "); ok {
			cur = strings.TrimSpace(v)
			if _, seen := m[cur]; !seen {
				m[cur] = nil
			}
			continue
		}
		if line = strings.TrimSpace(line); line != "" && cur != "" {
			m[cur] = append(m[cur], line)
		}
	}
	return m
}

func nonEmptyLines(out []byte) []string {
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
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
