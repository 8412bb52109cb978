package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// straceArgs trace every program a command starts, the forks and threads needed to tell who
// started it, and the files opened (to see which dnf process loads which repository's
// metadata): -f follows children, -qq drops attach/exit notices, -z keeps successful calls
// only (a failed execve while searching PATH is not a program run), signal=none drops signal
// lines, -s 256 keeps arguments readable, --seccomp-bpf stops the traced processes only at
// the calls traced (without it dnf runs several times slower under strace).
var straceArgs = []string{"-f", "-qq", "-z", "--seccomp-bpf", "-e", "signal=none", "-e", "trace=execve,clone,clone3,fork,vfork,openat", "-s", "256"}

// execRec is one process that ran a program: its first successful execve, and the programs
// it went on to exec in the same process (rpm --import execs rpmkeys, chroot execs the
// program it is given).
type execRec struct {
	PID  int
	Path string
	Argv []string
	// Then are the paths of the later execs of the same process.
	Then []string
	// Direct says the process was started by the traced command itself (zfsinstall or the
	// by-hand script, also through its subshells), not by a program it ran (dnf's
	// scriptlets and signature checks, the dkms script's tools).
	Direct bool
	// Repos are the repositories whose metadata the process loaded (repoMetadata), in the
	// order it first opened them.
	Repos []string `json:",omitempty"`
}

// Name is the base name of the program the process started with.
func (e execRec) Name() string { return filepath.Base(e.Path) }

// Chain names the process by all the programs it ran: "chroot>dkms", "rpm>rpmkeys".
func (e execRec) Chain() string {
	names := []string{e.Name()}
	for _, p := range e.Then {
		names = append(names, filepath.Base(p))
	}
	return strings.Join(names, ">")
}

// trace is what strace saw of one command: the command itself and every process it started,
// directly or through its children, in the order they started.
type trace struct {
	Root  execRec
	Execs []execRec
	// Forks counts the processes that ran no program of their own: shell subshells (the
	// test bed's dkms script forks a dozen), Go's one-off pidfd probe in os/exec.
	Forks int
}

var (
	straceLine   = regexp.MustCompile(`^(\d+)\s+(execve|clone3?|vfork|fork)\((.*)\)\s+=\s+(\d+)\s*$`)
	straceOpen   = regexp.MustCompile(`^(\d+)\s+openat\([^,]*, "((?:[^"\\]|\\.)*)"`)
	straceResume = regexp.MustCompile(`^\d+\s+<\.\.\. `)
)

// repoMetadata names the repository whose metadata a file opened by dnf holds, "" for any
// other file: a repository's solv cache (dnf 4: CACHEDIR/ID.solv; dnf5:
// CACHEDIR/ID-HASH/solv/ID.solv), which libdnf loads instead of the XML when it is current, or
// the primary metadata it reads when it is not (CACHEDIR/ID-HASH/repodata/...-primary.xml.*).
// The installed packages' @System.solv is not a repository's.
func repoMetadata(path string) string {
	base := filepath.Base(path)
	if id, ok := strings.CutSuffix(base, ".solv"); ok && id != "@System" {
		return id
	}
	dir := filepath.Dir(path)
	if strings.Contains(base, "primary.xml") && filepath.Base(dir) == "repodata" {
		id := filepath.Base(filepath.Dir(dir))
		if i := strings.LastIndexByte(id, '-'); i > 0 {
			return id[:i]
		}
	}
	return ""
}

// parseStrace reads `strace -f -z -o FILE` output of the calls in straceArgs.
func parseStrace(r io.Reader) (trace, error) {
	var t trace
	tgid := map[int]int{}   // thread id -> process id
	parent := map[int]int{} // process id -> parent process id
	byProc := map[int]int{} // process id -> index in t.Execs
	var children []int      // every process forked, in order
	proc := func(pid int) int {
		if g, ok := tgid[pid]; ok {
			return g
		}
		return pid
	}
	root := -1
	repos := map[int][]string{} // process id -> repositories whose metadata it opened
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if straceResume.MatchString(line) || strings.HasSuffix(line, "<unfinished ...>") {
			return t, fmt.Errorf("strace split a call across lines (%q); trace with -z", line)
		}
		if o := straceOpen.FindStringSubmatch(line); o != nil {
			pid, _ := strconv.Atoi(o[1])
			if id := repoMetadata(o[2]); id != "" && !slices.Contains(repos[proc(pid)], id) {
				repos[proc(pid)] = append(repos[proc(pid)], id)
			}
			continue
		}
		m := straceLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		result, _ := strconv.Atoi(m[4])
		switch m[2] {
		case "execve":
			path, argv, err := parseExecve(m[3])
			if err != nil {
				return t, fmt.Errorf("reading %q: %w", line, err)
			}
			e := execRec{PID: pid, Path: path, Argv: argv}
			switch i, seen := byProc[proc(pid)]; {
			case root < 0:
				root = proc(pid)
				t.Root = e
			case proc(pid) == root:
				t.Root.Then = append(t.Root.Then, path)
			case seen:
				t.Execs[i].Then = append(t.Execs[i].Then, path)
			default:
				byProc[proc(pid)] = len(t.Execs)
				t.Execs = append(t.Execs, e)
			}
		default:
			if strings.Contains(m[3], "CLONE_THREAD") {
				tgid[result] = proc(pid)
			} else {
				tgid[result] = result
				parent[result] = proc(pid)
				children = append(children, result)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return t, err
	}
	if root < 0 {
		return t, fmt.Errorf("no execve in the trace")
	}
	// Parents are known only at the end: a vfork parent's clone returns after the child's
	// execve, so strace may print the child's execve first. A process is direct when the root
	// started it, itself or through forks that ran no program (a script's pipelines and
	// command substitutions).
	t.Root.Repos = repos[root]
	for i := range t.Execs {
		t.Execs[i].Repos = repos[proc(t.Execs[i].PID)]
		p, ok := parent[proc(t.Execs[i].PID)]
		for ok && p != root {
			if _, ran := byProc[p]; ran {
				break
			}
			p, ok = parent[p]
		}
		t.Execs[i].Direct = ok && p == root
	}
	for _, c := range children {
		if _, ran := byProc[c]; !ran {
			t.Forks++
		}
	}
	return t, nil
}

// parseExecve reads the arguments of an execve line: "path", ["arg0", "arg1", ...], envp.
func parseExecve(args string) (string, []string, error) {
	path, rest, err := cutQuoted(args)
	if err != nil {
		return "", nil, err
	}
	rest, ok := strings.CutPrefix(rest, ", [")
	if !ok {
		return path, nil, fmt.Errorf("no argv after the path")
	}
	var argv []string
	for {
		rest = strings.TrimPrefix(rest, ", ")
		switch {
		case strings.HasPrefix(rest, "]"):
			return path, argv, nil
		case strings.HasPrefix(rest, "..."): // strace left off the remaining arguments
			return path, append(argv, "..."), nil
		}
		var s string
		if s, rest, err = cutQuoted(rest); err != nil {
			return path, argv, err
		}
		argv = append(argv, s)
	}
}

// cutQuoted reads one C-quoted string as strace prints it (with "..." after the closing quote
// when it was cut at -s) from the start of s and returns it and the rest.
func cutQuoted(s string) (string, string, error) {
	if !strings.HasPrefix(s, `"`) {
		return "", s, fmt.Errorf("expected a quoted string at %.20q", s)
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			rest := s[i+1:]
			if r, ok := strings.CutPrefix(rest, "..."); ok {
				b.WriteString("...")
				rest = r
			}
			return b.String(), rest, nil
		case c == '\\' && i+1 < len(s):
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'x':
				if i+2 < len(s) {
					if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
						b.WriteByte(byte(v))
						i += 2
						continue
					}
				}
				b.WriteByte(e)
			default:
				if e >= '0' && e <= '7' {
					j := i
					for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
						j++
					}
					v, _ := strconv.ParseUint(s[i:j], 8, 8)
					b.WriteByte(byte(v))
					i = j - 1
					continue
				}
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", fmt.Errorf("unterminated string")
}

// runTraced runs c under strace, writing the trace to file, and reads it.
func runTraced(c command, file string) (trace, error) {
	argv := append(append([]string{"strace"}, straceArgs...), "-o", file)
	tc := command{argv: append(argv, c.argv...), env: c.env, codes: c.codes}
	if _, _, err := tc.run(); err != nil {
		return trace{}, err
	}
	f, err := os.Open(file)
	if err != nil {
		return trace{}, err
	}
	defer f.Close()
	return parseStrace(f)
}

// progCount is how many processes ran a program (chain), all and directly.
type progCount struct {
	Name          string
	Total, Direct int
}

// byProgram counts the processes of each program chain, most frequent first.
func (t trace) byProgram() []progCount {
	idx := map[string]int{}
	var out []progCount
	for _, e := range t.Execs {
		i, ok := idx[e.Chain()]
		if !ok {
			i = len(out)
			idx[e.Chain()] = i
			out = append(out, progCount{Name: e.Chain()})
		}
		out[i].Total++
		if e.Direct {
			out[i].Direct++
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// rpmMode classifies an rpm command line by what it does.
func rpmMode(argv []string) string {
	for _, a := range argv[1:] {
		switch {
		case a == "--import":
			return "import"
		case a == "--eval" || a == "-E":
			return "eval"
		case a == "--initdb" || a == "--rebuilddb":
			return "db"
		case a == "-e" || a == "--erase":
			return "erase"
		case a == "--query" || a == "--whatprovides" || a == "-qa" || (strings.HasPrefix(a, "-q") && !strings.HasPrefix(a, "--")):
			return "query"
		case a == "--install" || a == "--upgrade" || strings.HasPrefix(a, "-i") || strings.HasPrefix(a, "-U"):
			return "install"
		}
	}
	return "other"
}

// summaryLine says "N processes: rpm 1, uname 1, ..." (how many of them zfsinstall or the
// script started itself, in parentheses, when children started some).
func (t trace) summaryLine() string {
	var parts []string
	for _, c := range t.byProgram() {
		if c.Direct == c.Total {
			parts = append(parts, fmt.Sprintf("%s %d", c.Name, c.Total))
		} else {
			parts = append(parts, fmt.Sprintf("%s %d (%d direct)", c.Name, c.Total, c.Direct))
		}
	}
	s := "0 processes"
	if len(parts) > 0 {
		s = fmt.Sprintf("%d processes: %s", len(t.Execs), strings.Join(parts, ", "))
	}
	if t.Forks > 0 {
		s += fmt.Sprintf("; %d more forked that ran no program", t.Forks)
	}
	return s
}

// direct counts what the traced command itself starts: rpm by mode, systemctl, dnf, and the
// rest by program chain.
type direct struct {
	rpm, systemctl, dnf int
	rpmModes            map[string]int
	other               map[string]int
}

func (t trace) direct() direct {
	d := direct{rpmModes: map[string]int{}, other: map[string]int{}}
	for _, e := range t.Execs {
		if !e.Direct {
			continue
		}
		switch e.Name() {
		case "rpm":
			d.rpm++
			d.rpmModes[rpmMode(e.Argv)]++
		case "systemctl":
			d.systemctl++
		case "dnf":
			d.dnf++
		default:
			d.other[e.Chain()]++
		}
	}
	return d
}

// smallProcs says what the traced command itself starts: "rpm 18 (query 12, import 6),
// systemctl 5, dnf 4, other: modinfo 2, uname 1".
func (t trace) smallProcs() string {
	d := t.direct()
	var ms []string
	for _, m := range []string{"query", "import", "install", "erase", "eval", "db", "other"} {
		if d.rpmModes[m] > 0 {
			ms = append(ms, fmt.Sprintf("%s %d", m, d.rpmModes[m]))
		}
	}
	s := fmt.Sprintf("rpm %d", d.rpm)
	if len(ms) > 0 {
		s += " (" + strings.Join(ms, ", ") + ")"
	}
	s += fmt.Sprintf(", systemctl %d, dnf %d", d.systemctl, d.dnf)
	var names []string
	for n := range d.other {
		names = append(names, n)
	}
	sort.Strings(names)
	var others []string
	for _, n := range names {
		others = append(others, fmt.Sprintf("%s %d", n, d.other[n]))
	}
	if len(others) > 0 {
		s += ", other: " + strings.Join(others, ", ")
	}
	return s
}

// smallProcsShort is smallProcs for the table: rpm by mode, systemctl, and how many others.
func (t trace) smallProcsShort() string {
	d := t.direct()
	n := 0
	for _, c := range d.other {
		n += c
	}
	return fmt.Sprintf("rpm %d (query %d, import %d), systemctl %d, other %d", d.rpm, d.rpmModes["query"], d.rpmModes["import"], d.systemctl, n)
}

// dnfRuns are the dnf processes the traced command started itself (or the command, when it
// is dnf), and how many of them loaded repository metadata.
type dnfRuns struct {
	Procs, Loads int
	// Hold counts the loading runs that re-evaluate the kernel hold (a repoquery of
	// --upgrades, which zfsinstall runs after apply's steps; by hand there is none).
	Hold int
	// Repos are the repositories each loading process loaded, one entry per process.
	Repos [][]string
}

func (t trace) dnfRuns() dnfRuns {
	var d dnfRuns
	execs := t.Execs
	if t.Root.Name() == "dnf" {
		root := t.Root
		root.Direct = true
		execs = append([]execRec{root}, execs...)
	}
	for _, e := range execs {
		if !e.Direct || e.Name() != "dnf" {
			continue
		}
		d.Procs++
		if len(e.Repos) > 0 {
			d.Loads++
			d.Repos = append(d.Repos, e.Repos)
			if slices.Contains(e.Argv, "--upgrades") {
				d.Hold++
			}
		}
	}
	return d
}

// String says "dnf 3, 2 loading metadata (5 and 6 repositories)".
func (d dnfRuns) String() string {
	if d.Loads == 0 {
		return fmt.Sprintf("dnf %d, none loading metadata", d.Procs)
	}
	var n []string
	for _, r := range d.Repos {
		n = append(n, strconv.Itoa(len(r)))
	}
	s := fmt.Sprintf("dnf %d, %d loading metadata (%s repositories)", d.Procs, d.Loads, strings.Join(n, "+"))
	if d.Hold > 0 {
		s += fmt.Sprintf(", %d of them the kernel hold's", d.Hold)
	}
	return s
}
