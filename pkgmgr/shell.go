package pkgmgr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/repos"
)

// Several questions in one dnf run. Every dnf start loads the metadata of every enabled
// repository (and the rpm database) before it answers anything; on a host with BaseOS,
// AppStream and EPEL that is most of what a query costs (on the real-size test bed's kmod
// host: a bare `dnf check-update` 0.17 s, `dnf --assumeno upgrade` and `dnf repoquery
// --upgrades` one after the other 0.36 s, both in one `dnf shell` script 0.24 s). dnf 4's shell runs any dnf
// command against the metadata it loaded once (dnf/cli/commands/shell.py at 4.14.0:
// ShellCommand.onecmd looks commands up in cli.cli_commands), `ts list` resolves what was
// asked and prints the transaction table without running it, `config KEY VALUE` sets an
// option and `ts reset` loads the repositories again (fill_sack), which applies a changed
// disable_excludes. dnf5 has no shell: there the questions take one run each.
//
// A query script runs with --assumeno: after the shell, dnf goes on to run whatever
// transaction the script left resolved (dnf/cli/main.py resolving()), and without it a host
// whose dnf.conf says assumeyes=True installed what `ts list` only resolved (tried with dnf
// 4.14 on the test bed). With it dnf prints the table again and stops, "Operation aborted."
// on standard error and exit 1 (dnf/cli/cli.py do_transaction), which is how such a run ends.
// (`ts reset` at the end would leave nothing to run, but it loads the repositories again:
// 0.1 s with EPEL.)
//
// The answers come on standard output in the order asked: the table through dnf's logger,
// repoquery's packages through print, both on sys.stdout. Between two questions the script
// asks `config installonly_limit`, which prints "installonly_limit: N" (print_or_set), and
// the output is cut there. The shell goes on after a command fails, logging "Error: ..." on
// standard error and exiting 0: any such line makes the run a failure, and the callers then
// ask the questions one run each, as before, so that a failure is reported as it always was.

// shellMarker separates the answers of a shell script.
const shellMarker = "config installonly_limit"

// markerPrefix starts the line the marker prints.
const markerPrefix = "installonly_limit: "

// shellArg quotes one argument of a shell script line: dnf's shell splits lines with Python's
// shlex (POSIX rules), where nothing inside single quotes is special.
func shellArg(s string) (string, error) {
	if strings.ContainsAny(s, "'\n\r\x00") {
		return "", fmt.Errorf("%q cannot be written into a dnf shell script", s)
	}
	return "'" + s + "'", nil
}

// shellLine writes one shell script line of words.
func shellLine(words ...string) (string, error) {
	var b strings.Builder
	for i, w := range words {
		q, err := shellArg(w)
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(q)
	}
	return b.String(), nil
}

// askShell runs a dnf 4 shell script made of parts (each one or more lines), with the dnf
// options args (before `shell`) and --assumeno, and returns what each part printed on
// standard output. A run that failed (other than by refusing to run what the script left
// resolved), or whose output does not hold the answer of every part, is an error.
func (c *Client) askShell(ctx context.Context, args []string, parts [][]string) ([][]byte, error) {
	var script strings.Builder
	for _, p := range parts {
		for _, l := range p {
			script.WriteString(l + "\n")
		}
		script.WriteString(shellMarker + "\n")
	}
	file, done, err := TempFile("dnf-shell-*", script.String())
	if err != nil {
		return nil, err
	}
	defer done()
	argv := c.dnfArgv(append(slices.Clone(args), "--assumeno", "shell", file)...)
	res, err := c.run(ctx, argv)
	var ce *host.CmdError
	if err != nil && !(errors.As(err, &ce) && ce.ExitCode == 1 && slices.Contains(strings.Split(string(ce.Stderr), "\n"), "Operation aborted.")) {
		return nil, err
	}
	for _, l := range strings.Split(string(res.Stderr), "\n") {
		if strings.HasPrefix(l, "Error:") {
			return nil, &host.CmdError{Cmd: host.Cmd{Argv: argv}, ExitCode: 1, Stdout: res.Stdout, Stderr: res.Stderr}
		}
	}
	out := splitMarkers(res.Stdout)
	if len(out) != len(parts) {
		return nil, fmt.Errorf("dnf shell answered %d of %d questions: %s", len(out), len(parts), host.Tail(res.Stdout, 12))
	}
	return out, nil
}

// splitMarkers cuts a shell run's output at the marker lines ("installonly_limit: N") and
// returns what came before each (what came after the last is dropped). A repoquery of
// kernels prints megabytes: this is a plain search, not a regular expression.
func splitMarkers(out []byte) [][]byte {
	var parts [][]byte
	start := 0
	for at := 0; at < len(out); {
		i := bytes.Index(out[at:], []byte(markerPrefix))
		if i < 0 {
			break
		}
		i += at
		end := bytes.IndexByte(out[i:], '\n')
		if end < 0 {
			end = len(out) - i
		}
		value := strings.TrimSpace(string(out[i+len(markerPrefix) : i+end]))
		if (i == 0 || out[i-1] == '\n') && value != "" && strings.Trim(value, "0123456789") == "" {
			parts = append(parts, out[start:i])
			start = min(i+end+1, len(out))
		}
		at = i + end
	}
	return parts
}

// shellResolved reads the answer of `ts list`: the transaction table, or nothing at all when
// there is nothing to do (the shell prints no "Nothing to do." for it). Anything else (dnf
// could not resolve: the shell prints the problem instead of a table) is an error.
func shellResolved(out []byte) ([]Change, error) {
	if HasTransactionTable(out) {
		return ParseTransaction(out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "Last metadata expiration check:") {
			return nil, fmt.Errorf("dnf could not resolve the transaction: %s", host.Tail(out, 12))
		}
	}
	return nil, nil
}

// transactionLines are the shell lines that set up t (remove, then install, as Run's shell
// script does) and resolve it without running it.
func transactionLines(t Transaction) ([]string, error) {
	var lines []string
	for _, cmd := range []struct {
		name  string
		specs []string
	}{{"remove", t.Remove}, {"install", t.Install}} {
		if len(cmd.specs) == 0 {
			continue
		}
		l, err := shellLine(append([]string{cmd.name}, cmd.specs...)...)
		if err != nil {
			return nil, err
		}
		lines = append(lines, l)
	}
	return append(lines, "ts list"), nil
}

// OfferedAndResolved answers Offered for specs and, where dnf can in the same run (dnf 4's
// shell), also what dnf resolves for t without running it, as Resolve answers (resolved
// true). t.Enable applies to the query too. resolved is false when dnf could not resolve t,
// or the dialect cannot ask both in one run, or the combined run failed (then Offered is
// asked alone, so its failure reads as always): the caller asks Resolve.
func (c *Client) OfferedAndResolved(ctx context.Context, q Query, specs []string, t Transaction) (offered []facts.Package, changes []Change, resolved bool, err error) {
	d, err := c.dialect(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	if d.name != facts.DNF4 {
		offered, err = c.Offered(ctx, q, specs...)
		return offered, nil, false, err
	}
	q.Enable = slices.Clone(q.Enable)
	for _, r := range t.Enable {
		if !slices.Contains(q.Enable, r) {
			q.Enable = append(q.Enable, r)
		}
	}
	query, err := shellLine(append([]string{"repoquery", "-q", "--available", "--qf", dnfQueryFormat}, specs...)...)
	lines, terr := transactionLines(t)
	if err == nil && terr == nil {
		var out [][]byte
		if out, err = c.askShell(ctx, d.queryArgs(q), [][]string{{query}, lines}); err == nil {
			offered = ParsePackages(out[0])
			facts.SortPackages(offered)
			if changes, err = shellResolved(out[1]); err == nil {
				return offered, changes, true, nil
			}
			c.log().WithError(err).Debug("the combined query and resolve did not resolve; resolving on its own")
			return offered, nil, false, nil
		}
		if ctx.Err() != nil {
			return nil, nil, false, ctx.Err()
		}
		c.log().WithError(err).Debug("the combined query and resolve failed; asking on its own")
	}
	offered, err = c.Offered(ctx, q, specs...)
	return offered, nil, false, err
}

// CheckUpgrade answers ResolveUpgrade and Upgrades together: what a plain `dnf upgrade`
// would do now (the exclusions of dnf.conf applying), and every version of names newer
// than the installed one with [main]'s exclusions off, each kernel package with the
// kernel(SYMBOL) provides a kmod-zfs of the answer or of kmodRequires requires. dnf 4 answers
// both in one run: `upgrade`, `ts list`, then (when [main] or the dnf arguments filter
// packages at all, mainFilters) `config disable_excludes main` and `ts reset` before the
// repoquery; dnf5, or a dnf 4 run that failed, in two.
func (c *Client) CheckUpgrade(ctx context.Context, q Query, kmodRequires []string, names ...string) ([]Change, []Offer, error) {
	d, err := c.dialect(ctx)
	if err != nil {
		return nil, nil, err
	}
	if d.name == facts.DNF4 {
		query, err := shellLine(append([]string{"repoquery", "-q", "--upgrades", "--qf", upgradeQueryFormat}, names...)...)
		if err != nil {
			return nil, nil, err
		}
		offers := []string{query}
		if c.mainFilters() {
			// Loading the repositories again costs what a dnf start does
			// without Python's (make bench: 0.04 s with BaseOS and
			// AppStream, 0.15 s with EPEL too): only when it changes what
			// the query sees.
			offers = append([]string{"config disable_excludes main", "ts reset"}, offers...)
		}
		out, err := c.askShell(ctx, d.queryArgs(q), [][]string{{"upgrade", "ts list"}, offers})
		if err == nil {
			var changes []Change
			if changes, err = shellResolved(out[0]); err == nil {
				return changes, ParseOffers(out[1], kmodRequires), nil
			}
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		c.log().WithError(err).Debug("the combined upgrade resolve and query failed; asking one at a time")
	}
	changes, err := c.ResolveUpgrade(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	offers, err := c.Upgrades(ctx, q, kmodRequires, names...)
	return changes, offers, err
}

// mainFilters says whether what dnf sees could change with [main]'s exclusions off
// (--disableexcludes=main): dnf.conf's [main] sets exclude, excludepkgs or includepkgs (the
// kernel hold's exclusions are there), an extra dnf argument excludes (-x, --exclude,
// --setopt of them, --disableexcludes), or dnf.conf cannot be read.
func (c *Client) mainFilters() bool {
	for _, a := range c.dnfArgs {
		short := strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--")
		if strings.Contains(a, "exclude") || strings.Contains(a, "include") || short && strings.Contains(a, "x") {
			return true
		}
	}
	data, err := c.h.ReadFile(repos.DNFConf)
	if err != nil {
		return true
	}
	f, err := repos.Parse(repos.DNFConf, data)
	if err != nil {
		return true
	}
	for _, key := range []string{"exclude", "excludepkgs", "includepkgs"} {
		if v, ok, err := f.Option("main", key); err != nil || ok && strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}
