// Command modparamgen regenerates catalog/data/module-params.tsv (and
// spl-params.tsv) from an OpenZFS man page in section 4: zfs.4 for the zfs
// kernel module, spl.4 for the spl module.
//
// It reads the top-level list of the DESCRIPTION section, one entry per
// ".It Sy NAME Ns = Ns Sy DEFAULT Pq TYPE" heading, and writes one row per
// entry, sorted by name. Nested lists (the values of zfs_deadman_failmode,
// zfs_scan_issue_strategy, ...) are skipped. Anything it does not
// understand is an error rather than a guess, so a changed man page is
// noticed.
//
//	go run ./catalog/internal/modparamgen -man zfs.4 -module zfs \
//		-commit <sha> -keep catalog/data/module-params.tsv > new.tsv
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

// param is one entry of the man page's list.
type param struct {
	name, typ, def string
}

// knownTypes are the parameter types the man pages write in parentheses.
var knownTypes = map[string]bool{
	"int": true, "uint": true, "long": true, "ulong": true, "u64": true, "s64": true,
	"charp": true, "string": true, "bool": true,
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// parseMan returns the entries of the DESCRIPTION list of an mdoc man page,
// in page order, and the page's .Dd date.
func parseMan(r io.Reader) (params []param, date string, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	inDescription, done := false, false
	depth := 0
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, ".Dd "):
			date = strings.TrimSpace(strings.TrimPrefix(line, ".Dd "))
		case done:
		case strings.HasPrefix(line, ".Sh "):
			if depth != 0 {
				return nil, "", fmt.Errorf("line %d: section starts inside a list", n)
			}
			if inDescription && len(params) > 0 {
				done = true
			}
			inDescription = strings.TrimSpace(line) == ".Sh DESCRIPTION"
		case !inDescription:
		case strings.HasPrefix(line, ".Bl"):
			depth++
		case strings.HasPrefix(line, ".El"):
			depth--
			if depth < 0 {
				return nil, "", fmt.Errorf("line %d: .El without .Bl", n)
			}
			if depth == 0 {
				done = true
			}
		case depth == 1 && (line == ".It" || strings.HasPrefix(line, ".It ")):
			p, err := parseHeading(line)
			if err != nil {
				return nil, "", fmt.Errorf("line %d: %w", n, err)
			}
			params = append(params, p)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, "", err
	}
	if len(params) == 0 {
		return nil, "", errors.New("no parameter list found in the DESCRIPTION section")
	}
	return params, date, nil
}

// parseHeading reads one ".It Sy NAME [Ns = [Ns] DEFAULT...] Pq TYPE" line.
// The type may also be written "Po TYPE Pc" at the end of the line.
func parseHeading(line string) (param, error) {
	tok := strings.Fields(strings.TrimPrefix(line, ".It"))
	if len(tok) < 2 || tok[0] != "Sy" {
		return param{}, fmt.Errorf("list entry %q is not \".It Sy NAME ...\"", line)
	}
	p := param{name: tok[1]}
	if !nameRE.MatchString(p.name) {
		return param{}, fmt.Errorf("parameter name %q is not [a-z][a-z0-9_]*", p.name)
	}
	rest := tok[2:]
	switch n := len(rest); {
	case n >= 3 && rest[n-1] == "Pc" && rest[n-3] == "Po" && knownTypes[rest[n-2]]:
		p.typ, rest = rest[n-2], rest[:n-3]
	default:
		i := slices.Index(rest, "Pq")
		if i < 0 || i != n-2 {
			return param{}, fmt.Errorf("%s: no type: the heading does not end in \"Pq TYPE\"", p.name)
		}
		p.typ, rest = rest[n-1], rest[:i]
	}
	if !knownTypes[p.typ] {
		return param{}, fmt.Errorf("%s: type %q is not one of the known parameter types", p.name, p.typ)
	}
	if len(rest) > 0 && rest[0] == "Ns" {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return p, nil // no "= DEFAULT": the page gives the default in prose, or none
	}
	if rest[0] != "=" {
		return param{}, fmt.Errorf("%s: expected \"= DEFAULT\" after the name, got %q", p.name, strings.Join(rest, " "))
	}
	def, err := render(rest[1:])
	if err != nil {
		return param{}, fmt.Errorf("%s: default: %w", p.name, err)
	}
	p.def = def
	return p, nil
}

// styleMacros only change how their words look; rendering drops them.
var styleMacros = map[string]bool{"Sy": true, "Pa": true, "Ar": true, "Em": true, "No": true, "Li": true, "Cm": true, "Fl": true}

var escapes = strings.NewReplacer(`\-`, "-", `\&`, "", `\(mu`, "×", `\(em`, "—", `\(en`, "–")

// render turns mdoc tokens into the text a reader sees: "Sy 0 Ns B Po
// 128 MiB Pc" is "0B (128 MiB)".
func render(tok []string) (string, error) {
	var b strings.Builder
	noSpace := true // no space before the first word
	word := func(s string) {
		if !noSpace {
			b.WriteByte(' ')
		}
		b.WriteString(s)
		noSpace = false
	}
	for _, t := range tok {
		switch {
		case styleMacros[t]:
		case t == "Ns":
			noSpace = true
		case t == "Po":
			word("(")
			noSpace = true
		case t == "Pc":
			b.WriteByte(')')
			noSpace = false
		case len(t) == 2 && t[0] >= 'A' && t[0] <= 'Z' && t[1] >= 'a' && t[1] <= 'z':
			return "", fmt.Errorf("unexpected macro %q", t)
		default:
			s := escapes.Replace(t)
			if strings.Contains(s, `\`) {
				return "", fmt.Errorf("unknown escape in %q", t)
			}
			word(s)
		}
	}
	return b.String(), nil
}

// readKeep reads the first_release column of an earlier output, so that a
// regeneration keeps what was filled in by hand.
func readKeep(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	keep := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, "\t")
		if strings.HasPrefix(line, "#") || len(f) != 4 || f[0] == "name" {
			continue
		}
		keep[f[0]] = f[3]
	}
	return keep, nil
}

type notes []string

func (n *notes) String() string     { return strings.Join(*n, "; ") }
func (n *notes) Set(s string) error { *n = append(*n, s); return nil }

func main() {
	man := flag.String("man", "", "the man page to read (zfs.4 or spl.4)")
	module := flag.String("module", "zfs", "the kernel module the page documents")
	repo := flag.String("repo", "openzfs/zfs", "repository the page was read from")
	path := flag.String("path", "", "the page's path in the repository (default man/man4/<module>.4)")
	commit := flag.String("commit", "", "the commit the page was read at (required)")
	keep := flag.String("keep", "", "an earlier output whose first_release values are kept")
	var extra notes
	flag.Var(&extra, "note", "a further header comment line (repeatable)")
	flag.Parse()
	if *man == "" || *commit == "" {
		fmt.Fprintln(os.Stderr, "modparamgen: -man and -commit are required")
		os.Exit(2)
	}
	if *path == "" {
		*path = "man/man4/" + *module + ".4"
	}
	if err := run(os.Stdout, *man, *module, *repo, *path, *commit, *keep, extra); err != nil {
		fmt.Fprintln(os.Stderr, "modparamgen:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, man, module, repo, path, commit, keepPath string, extra []string) error {
	f, err := os.Open(man)
	if err != nil {
		return err
	}
	defer f.Close()
	params, date, err := parseMan(f)
	if err != nil {
		return fmt.Errorf("%s: %w", man, err)
	}
	slices.SortFunc(params, func(a, b param) int { return strings.Compare(a.name, b.name) })
	for i := 1; i < len(params); i++ {
		if params[i].name == params[i-1].name {
			return fmt.Errorf("%s: %s is listed twice", man, params[i].name)
		}
	}
	keep, err := readKeep(keepPath)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# Parameters of the %s kernel module (modprobe.d: options %s NAME=VALUE), one row per entry\n", module, module)
	fmt.Fprintf(bw, "# of the DESCRIPTION list of the %s(4) man page; %d rows, sorted by name.\n", module, len(params))
	fmt.Fprintf(bw, "# Source: %s %s at commit %s (.Dd %s).\n", repo, path, commit, date)
	fmt.Fprintf(bw, "# Regenerated from that man page by catalog/internal/modparamgen; do not edit rows by hand.\n")
	fmt.Fprintf(bw, "# type: the type the page gives in parentheses. default: the heading's default as the page renders it\n")
	fmt.Fprintf(bw, "# (\"0B\", \"1|0\", \"134217728B (128 MiB)\"); empty when the heading gives none (the prose may).\n")
	fmt.Fprintf(bw, "# first_release: first OpenZFS release documenting the name; empty when unknown.\n")
	for _, n := range extra {
		fmt.Fprintf(bw, "# %s\n", n)
	}
	fmt.Fprintln(bw, "name\ttype\tdefault\tfirst_release")
	for _, p := range params {
		if strings.ContainsAny(p.def, "\t\n") {
			return fmt.Errorf("%s: default %q has a tab or newline", p.name, p.def)
		}
		fmt.Fprintf(bw, "%s\t%s\t%s\t%s\n", p.name, p.typ, p.def, keep[p.name])
	}
	return bw.Flush()
}
