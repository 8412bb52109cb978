package main

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSummarize(t *testing.T) {
	nan := math.NaN()
	tests := map[string]struct {
		in   []float64
		want summary
	}{
		"odd count: the middle value": {[]float64{3, 1, 2}, summary{Median: 2, Min: 1, Max: 3}},
		"even count: mean of the two": {[]float64{4, 1, 3, 2}, summary{Median: 2.5, Min: 1, Max: 4}},
		"one value":                   {[]float64{7}, summary{Median: 7, Min: 7, Max: 7}},
		"empty: NaN, not a panic":     {nil, summary{nan, nan, nan}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := append([]float64(nil), tc.in...)
			if diff := cmp.Diff(tc.want, summarize(in), cmpopts.EquateNaNs()); diff != "" {
				t.Errorf("summarize(%v) (-want +got):\n%s", tc.in, diff)
			}
			if diff := cmp.Diff(tc.in, in); diff != "" {
				t.Errorf("summarize changed its input (-before +after):\n%s", diff)
			}
		})
	}
}

// TestABBA checks the run order (A B, B A, A B, ...), that each timing lands on its side
// whichever ran first, and the pairwise ratios.
func TestABBA(t *testing.T) {
	tests := map[string]struct {
		n, warm   int
		wantOrder string
		wantA     []time.Duration
		wantB     []time.Duration
		wantRatio []float64
	}{
		"four pairs complete two A B B A blocks": {n: 4, wantOrder: "ABBAABBA",
			wantA: []time.Duration{10, 30, 50, 70}, wantB: []time.Duration{2, 6, 10, 14}, wantRatio: []float64{5, 5, 5, 5}},
		"warm-up runs are discarded": {n: 2, warm: 1, wantOrder: "AB" + "ABBA",
			wantA: []time.Duration{30, 50}, wantB: []time.Duration{6, 10}, wantRatio: []float64{5, 5}},
		"odd n": {n: 3, wantOrder: "ABBAAB",
			wantA: []time.Duration{10, 30, 50}, wantB: []time.Duration{2, 6, 10}, wantRatio: []float64{5, 5, 5}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var order strings.Builder
			var ai, bi time.Duration
			a := func() (time.Duration, error) { order.WriteString("A"); ai++; return 20*ai - 10, nil }
			b := func() (time.Duration, error) { order.WriteString("B"); bi++; return 4*bi - 2, nil }
			p, err := abba(tc.n, tc.warm == 1, a, b)
			if err != nil {
				t.Fatal(err)
			}
			if got := order.String(); got != tc.wantOrder {
				t.Errorf("run order %s, want %s", got, tc.wantOrder)
			}
			if diff := cmp.Diff(tc.wantA, p.A); diff != "" {
				t.Errorf("A (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantB, p.B); diff != "" {
				t.Errorf("B (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantRatio, p.ratios()); diff != "" {
				t.Errorf("ratios (-want +got):\n%s", diff)
			}
		})
	}
}

func TestABBAStopsAtAnError(t *testing.T) {
	boom := errors.New("boom")
	runs := 0
	ok := func() (time.Duration, error) { runs++; return 1, nil }
	bad := func() (time.Duration, error) { runs++; return 0, boom }
	if _, err := abba(4, false, ok, bad); !errors.Is(err, boom) {
		t.Errorf("abba error = %v, want boom", err)
	}
	if runs != 2 {
		t.Errorf("%d runs after the failure, want 2 (A, then the failing B)", runs)
	}
}

func TestFmtTimes(t *testing.T) {
	tests := map[string]struct {
		in   []time.Duration
		want string
	}{
		"milliseconds, two decimals under 10 ms": {[]time.Duration{1750 * time.Microsecond, 1800 * time.Microsecond, 2 * time.Millisecond}, "1.80 ms [1.75-2.00]"},
		"milliseconds":                           {[]time.Duration{20 * time.Millisecond, 21 * time.Millisecond, 25 * time.Millisecond}, "21.0 ms [20.0-25.0]"},
		"seconds":                                {[]time.Duration{1500 * time.Millisecond, 3 * time.Second}, "2.25 s [1.50-3.00]"},
		"nothing":                                {nil, "-"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := fmtTimes(tc.in); got != tc.want {
				t.Errorf("fmtTimes = %q, want %q", got, tc.want)
			}
		})
	}
}

// planTrace is strace output of a converged plan on the DKMS host, cut down from a real run:
// Go threads (CLONE_THREAD), Go's pidfd probe (a fork that runs nothing), vfork+execve of
// rpm, uname and chroot (uname's execve printed before its parent's clone returned, as
// happens with vfork), chroot exec'ing the dkms script, the script's subshells, one of which
// runs sed; then, as a shell script's pipeline would, a fork of the root whose own fork runs grep
// (direct: started through the root's subshell, not by a program).
const planTrace = `16703 execve("/usr/local/sbin/zfsinstall", ["zfsinstall", "plan", "--root", "/r"], 0x7ffd /* 5 vars */) = 0
16703 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f0, parent_tid=0x7f0, exit_signal=0, stack=0x7f0, stack_size=0x7fff80, tls=0x7f0} => {parent_tid=[16708]}, 88) = 16708
16708 clone(child_stack=NULL, flags=CLONE_VM|CLONE_PIDFD|CLONE_VFORK, parent_tid=[14]) = 16710
16708 clone(child_stack=NULL, flags=CLONE_VM|CLONE_PIDFD|CLONE_VFORK|SIGCHLD, parent_tid=[15]) = 16711
16711 execve("/usr/bin/rpm", ["rpm", "--root", "/r", "--dbpath", "/var/lib/rpm", "-qa", "--qf", "%{NAME}\\t%{EPOCH}\\n", "zfs*"], 0x3b17 /* 5 vars */) = 0
16712 execve("/usr/bin/uname", ["uname", "-r"], 0x3b17b006ea50 /* 5 vars */) = 0
16708 clone(child_stack=NULL, flags=CLONE_VM|CLONE_PIDFD|CLONE_VFORK|SIGCHLD, parent_tid=[15]) = 16712
16708 clone(child_stack=NULL, flags=CLONE_VM|CLONE_PIDFD|CLONE_VFORK|SIGCHLD, parent_tid=[15]) = 16714
16714 execve("/usr/sbin/chroot", ["chroot", "/r", "dkms", "status", "-m", "zfs"], 0x3b17b006f140 /* 5 vars */) = 0
16714 execve("/usr/sbin/dkms", ["dkms", "status", "-m", "zfs"], 0x7ffeda72b240 /* 5 vars */) = 0
16714 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x2483a690) = 16715
16714 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x2483a690) = 16716
16716 execve("/bin/sed", ["sed", "-n", "s/\"x\"/y/p"], 0x7ffe /* 5 vars */) = 0
16703 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x2483a690) = 16730
16730 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x2483a690) = 16731
16731 execve("/bin/grep", ["grep", "kernel"], 0x7ffe /* 5 vars */) = 0
`

func TestParseStrace(t *testing.T) {
	got, err := parseStrace(strings.NewReader(planTrace))
	if err != nil {
		t.Fatal(err)
	}
	want := trace{
		Root: execRec{PID: 16703, Path: "/usr/local/sbin/zfsinstall", Argv: []string{"zfsinstall", "plan", "--root", "/r"}},
		Execs: []execRec{
			{PID: 16711, Path: "/usr/bin/rpm", Argv: []string{"rpm", "--root", "/r", "--dbpath", "/var/lib/rpm", "-qa", "--qf", `%{NAME}\t%{EPOCH}\n`, "zfs*"}, Direct: true},
			{PID: 16712, Path: "/usr/bin/uname", Argv: []string{"uname", "-r"}, Direct: true},
			{PID: 16714, Path: "/usr/sbin/chroot", Argv: []string{"chroot", "/r", "dkms", "status", "-m", "zfs"}, Then: []string{"/usr/sbin/dkms"}, Direct: true},
			{PID: 16716, Path: "/bin/sed", Argv: []string{"sed", "-n", `s/"x"/y/p`}},
			{PID: 16731, Path: "/bin/grep", Argv: []string{"grep", "kernel"}, Direct: true},
		},
		Forks: 3, // Go's pidfd probe 16710, the dkms script's subshell 16715, the root's 16730
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(trace{})); diff != "" {
		t.Errorf("parseStrace (-want +got):\n%s", diff)
	}
	if s, want := got.summaryLine(), "5 processes: chroot>dkms 1, grep 1, rpm 1, sed 1 (0 direct), uname 1; 3 more forked that ran no program"; s != want {
		t.Errorf("summaryLine = %q, want %q", s, want)
	}
	if planProcsMet(got) {
		t.Error("a plan running uname and dkms besides rpm meets the process goal")
	}
}

func TestParseStraceRefuses(t *testing.T) {
	tests := map[string]string{
		"empty trace": "",
		"a split call (trace without -z)": `1 execve("/bin/true", ["true"], 0x1 /* 1 var */) = 0
2 clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>
`,
		"a broken argv": `1 execve("/bin/true", ["true], 0x1 /* 1 var */) = 0` + "\n",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := parseStrace(strings.NewReader(in)); err == nil {
				t.Error("parseStrace accepted it")
			}
		})
	}
}

func TestPlanProcsMet(t *testing.T) {
	rpmQA := execRec{Path: "/usr/bin/rpm", Argv: []string{"rpm", "-qa"}, Direct: true}
	tests := map[string]struct {
		execs []execRec
		want  bool
	}{
		"nothing":                      {nil, true},
		"one rpm":                      {[]execRec{rpmQA}, true},
		"two rpm":                      {[]execRec{rpmQA, rpmQA}, false},
		"rpm and uname":                {[]execRec{rpmQA, {Path: "/usr/bin/uname"}}, false},
		"rpm exec'ing another program": {[]execRec{{Path: "/usr/bin/rpm", Then: []string{"/usr/bin/rpmkeys"}}}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := planProcsMet(trace{Execs: tc.execs, Forks: 1}); got != tc.want {
				t.Errorf("planProcsMet = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRPMMode(t *testing.T) {
	tests := map[string]struct {
		argv []string
		want string
	}{
		"-qa":           {[]string{"rpm", "--root", "/r", "--dbpath", "/var/lib/rpm", "-qa", "--qf", "%{NAME}"}, "query"},
		"-q":            {[]string{"rpm", "--root", "/r", "-q", "gpg-pubkey-976c1ea0"}, "query"},
		"--import":      {[]string{"rpm", "--root", "/r", "--import", "/r/etc/pki/rpm-gpg/KEY"}, "import"},
		"-i --justdb":   {[]string{"rpm", "--root", "/r", "-i", "--justdb", "x.rpm"}, "install"},
		"-Uvh":          {[]string{"rpm", "-Uvh", "x.rpm"}, "install"},
		"-e":            {[]string{"rpm", "-e", "zfs"}, "erase"},
		"--eval":        {[]string{"rpm", "--eval", "%{dist}"}, "eval"},
		"anything else": {[]string{"rpm", "--version"}, "other"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := rpmMode(tc.argv); got != tc.want {
				t.Errorf("rpmMode(%q) = %q, want %q", tc.argv, got, tc.want)
			}
		})
	}
}

func TestSmallProcs(t *testing.T) {
	tr := trace{Execs: []execRec{
		{Path: "/usr/bin/rpm", Argv: []string{"rpm", "-qa"}, Direct: true},
		{Path: "/usr/bin/rpm", Argv: []string{"rpm", "--import", "K"}, Then: []string{"/usr/bin/rpmkeys"}, Direct: true},
		{Path: "/usr/bin/systemctl", Argv: []string{"systemctl", "enable", "zfs.target"}, Direct: true},
		{Path: "/usr/bin/dnf", Argv: []string{"dnf", "install"}, Direct: true},
		{Path: "/usr/bin/rpmkeys", Argv: []string{"rpmkeys", "--checksig"}}, // dnf's, not zfsinstall's
		{Path: "/usr/sbin/chroot", Argv: []string{"chroot", "/r", "dkms"}, Then: []string{"/usr/sbin/dkms"}, Direct: true},
	}}
	if got, want := tr.smallProcs(), "rpm 2 (query 1, import 1), systemctl 1, dnf 1, other: chroot>dkms 1"; got != want {
		t.Errorf("smallProcs = %q, want %q", got, want)
	}
	if got, want := tr.smallProcsShort(), "rpm 2 (query 1, import 1), systemctl 1, other 1"; got != want {
		t.Errorf("smallProcsShort = %q, want %q", got, want)
	}
}

func TestCutQuoted(t *testing.T) {
	tests := map[string]struct {
		in, want, rest string
	}{
		"plain":               {`"abc", x`, "abc", ", x"},
		"escapes":             {`"a\"b\\c\t\n", x`, "a\"b\\c\t\n", ", x"},
		"hex and octal":       {`"\x41\101\0", x`, "AA\x00", ", x"},
		"cut at -s":           {`"abcdef"..., x`, "abcdef...", ", x"},
		"brackets in strings": {`"[a]"]`, "[a]", "]"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, rest, err := cutQuoted(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || rest != tc.rest {
				t.Errorf("cutQuoted(%q) = %q, %q; want %q, %q", tc.in, got, rest, tc.want, tc.rest)
			}
		})
	}
}

func TestCountHistory(t *testing.T) {
	out := `ID     | Command line             | Date and time    | Action(s)      | Altered
-------------------------------------------------------------------------------
     3 | --installroot /r --disab | 2026-11-26 13:11 | Install        |    6
     2 | --installroot /r --disab | 2026-11-26 13:11 | Install        |    2
     1 | --installroot /r --disab | 2026-11-26 13:11 | Install        |   10
`
	if got := countHistory(out); got != 3 {
		t.Errorf("countHistory = %d, want 3", got)
	}
	if got := countHistory("No transactions\n"); got != 0 {
		t.Errorf("countHistory of an empty history = %d, want 0", got)
	}
}

func TestReportedTransactions(t *testing.T) {
	tests := map[string]struct {
		out  string
		want int
	}{
		"plural":   {"Apply complete! Steps: 16 added, 0 changed, 0 removed (0 already in place; 2 dnf transactions).", 2},
		"singular": {"Apply complete! Steps: 1 added, 0 changed, 0 removed (0 already in place; 1 dnf transaction).", 1},
		"absent":   {"Error: step x failed", -1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := reportedTransactions(tc.out); got != tc.want {
				t.Errorf("reportedTransactions = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestRepoMetadata(t *testing.T) {
	tests := map[string]string{
		"/r/var/cache/dnf/baseos.solv":                                            "baseos",
		"/r/var/cache/dnf/zfs-kmod.solv":                                          "zfs-kmod",
		"/r/var/cache/dnf/baseos-filenames.solvx":                                 "",
		"/r/var/cache/dnf/@System.solv":                                           "",
		"/r/var/cache/libdnf5/fedora-0123456789abcdef/solv/fedora.solv":           "fedora",
		"/r/var/cache/dnf/epel-cdb25fbfdb544285/repodata/abc-primary.xml.gz":      "epel",
		"/r/var/cache/dnf/zfs-kmod-1e919efe32949b66/repodata/abc-primary.xml.zst": "zfs-kmod",
		"/r/var/cache/dnf/epel-cdb25fbfdb544285/repodata/repomd.xml":              "",
		"/usr/lib/python3/dist-packages/dnf/base.py":                              "",
	}
	for path, want := range tests {
		if got := repoMetadata(path); got != want {
			t.Errorf("repoMetadata(%q) = %q, want %q", path, got, want)
		}
	}
}

// dnfTrace is a trimmed real trace of a by-hand sequence: the script starts two dnf
// processes, one loads two repositories' metadata (one of them cold, from primary.xml), the
// other (config-manager) none; a scriptlet dnf runs opens a solv file it is not dnf's.
const dnfTrace = `100 execve("/usr/bin/bash", ["bash", "byhand.sh"], 0x1 /* 1 var */) = 0
100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x1) = 101
101 execve("/usr/bin/dnf", ["dnf", "--installroot", "/r", "-y", "install", "zfs"], 0x1 /* 1 var */) = 0
101 openat(AT_FDCWD, "/r/var/cache/dnf/baseos.solv", O_RDONLY|O_CLOEXEC) = 5
101 clone(child_stack=NULL, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=[102], tls=0x1, child_tidptr=0x1) = 102
102 openat(AT_FDCWD, "/r/var/cache/dnf/zfs-1e919efe32949b66/repodata/abc-primary.xml.gz", O_RDONLY) = 6
101 openat(AT_FDCWD, "/r/var/cache/dnf/baseos.solv", O_RDONLY|O_CLOEXEC) = 5
101 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x1) = 103
103 execve("/bin/sh", ["/bin/sh", "-c", "scriptlet"], 0x1 /* 1 var */) = 0
103 openat(AT_FDCWD, "/tmp/x.solv", O_RDONLY) = 3
100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x1) = 104
104 execve("/usr/bin/dnf", ["dnf", "--installroot", "/r", "-y", "config-manager", "--disable", "zfs"], 0x1 /* 1 var */) = 0
104 openat(AT_FDCWD, "/r/etc/yum.repos.d/zfs.repo", O_RDONLY) = 3
`

func TestDNFRuns(t *testing.T) {
	tr, err := parseStrace(strings.NewReader(dnfTrace))
	if err != nil {
		t.Fatal(err)
	}
	want := dnfRuns{Procs: 2, Loads: 1, Repos: [][]string{{"baseos", "zfs"}}, Hold: 0}
	if diff := cmp.Diff(want, tr.dnfRuns()); diff != "" {
		t.Errorf("dnfRuns (-want +got):\n%s", diff)
	}
	if got, want := tr.dnfRuns().String(), "dnf 2, 1 loading metadata (2 repositories)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	// The kernel hold's repoquery after apply's steps is told apart.
	hold := `300 execve("/usr/local/sbin/zfsinstall", ["zfsinstall", "apply"], 0x1 /* 1 var */) = 0
300 clone(child_stack=NULL, flags=CLONE_VM|CLONE_VFORK|SIGCHLD, child_tidptr=0x1) = 301
301 execve("/usr/bin/dnf", ["dnf", "--disableexcludes=main", "repoquery", "-q", "--upgrades", "zfs"], 0x1 /* 1 var */) = 0
301 openat(AT_FDCWD, "/r/var/cache/dnf/baseos.solv", O_RDONLY|O_CLOEXEC) = 5
`
	if tr, err = parseStrace(strings.NewReader(hold)); err != nil {
		t.Fatal(err)
	}
	if got, want := tr.dnfRuns().String(), "dnf 1, 1 loading metadata (1 repositories), 1 of them the kernel hold's"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	// The floor of the pre-flight is dnf itself.
	bare := `200 execve("/usr/bin/dnf", ["dnf", "check-update"], 0x1 /* 1 var */) = 0
200 openat(AT_FDCWD, "/r/var/cache/dnf/baseos.solv", O_RDONLY|O_CLOEXEC) = 5
`
	if tr, err = parseStrace(strings.NewReader(bare)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(dnfRuns{Procs: 1, Loads: 1, Repos: [][]string{{"baseos"}}}, tr.dnfRuns()); diff != "" {
		t.Errorf("dnfRuns of dnf itself (-want +got):\n%s", diff)
	}
}
