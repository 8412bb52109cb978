// Command zibench is `make bench`: it builds the real dnf/rpm test bed (package testbed), makes
// fresh and converged install roots, and prints side by side, in one run, each figure of
// zfsinstall's issue 13 item 1 with the floor it is compared with: medians with min/max over
// several runs, ratios taken pair by pair in A B B A order, the programs a converged plan and
// an apply start (strace), and the dnf transactions an apply makes (dnf history in the root).
// It never asserts a timing: it exits non-zero only when something it measures does not work
// (a plan that is not converged, an apply or by-hand script that fails). See bench/README.md.
package main

import (
	"debug/buildinfo"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/zfsinstall/zfsinstall/testbed"
)

// config is what the flags say.
type config struct {
	zfsinstall string // the binary measured
	goTool     string // builds the hello-world floor
	benchDir   string // bench/: by-hand scripts, specs, hello
	n, nApply  int    // pairs per fast figure, per apply figure
	small      int    // installed packages of the small filler root
	large      int    // installed packages of the large filler root
	work       string
	keep       bool
}

func main() {
	var c config
	flag.StringVar(&c.zfsinstall, "zfsinstall", "bin/zfsinstall", "the zfsinstall binary to measure")
	flag.StringVar(&c.goTool, "go", "go", "the go command that builds the hello-world floor (use the one that built zfsinstall)")
	flag.StringVar(&c.benchDir, "bench-dir", "bench", "the bench directory (by-hand scripts, specs, hello)")
	flag.IntVar(&c.n, "n", 20, "A/B pairs per fast figure (plans, rpm -qa, start-up); even completes A B B A blocks")
	flag.IntVar(&c.nApply, "n-apply", 4, "A/B pairs per fresh-apply figure")
	flag.IntVar(&c.small, "small", 200, "installed packages in the small filler root")
	flag.IntVar(&c.large, "large", 5000, "installed packages in the large filler root")
	flag.StringVar(&c.work, "work", "", "work directory, new or empty (default: a new one under /var/tmp, removed at the end unless -keep)")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory (roots, traces, bed)")
	flag.Parse()
	if err := run(c, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "zibench: %v\n", err)
		os.Exit(1)
	}
}

// progress reports what the bench is doing, on stderr.
func progress(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "zibench: "+format+"\n", a...)
}

// results is everything the report prints.
type results struct {
	start                            time.Time
	loadStart                        string
	goZI, goHello                    string
	bedBuilt                         string
	planKmod, planDKMS, startup      pairs
	fillPlan, fillRPM, kernels       pairs
	applyDKMS, applyKmod             applyResult
	traceKmod, traceDKMS             trace
	traceKern6, traceFill            trace
	countKmod, countSmall, countLarg int
	countDKMS                        int
	fillerBuilt                      string
	notes                            []string
}

// applyResult is one fresh-apply figure: zfsinstall (A) against the by-hand script (B).
type applyResult struct {
	host, byHand         string
	times                pairs
	txnZI, txnZIReported int
	txnBH                int
	stateZI, stateBH     string
	traceZI, traceBH     trace
}

func run(c config, w io.Writer) error {
	res := results{start: time.Now(), loadStart: loadavg()}
	if os.Geteuid() != 0 {
		return errors.New("make bench must run as root: rpm and dnf install into test roots and dkms runs in them through chroot")
	}
	for _, p := range []string{"strace", "rpmbuild", "dnf", "rpm", "cp", "bash", "chroot", "modinfo"} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%s is missing (make bench installs strace; the rest come with make deps)", p)
		}
	}
	var err error
	if c.zfsinstall, err = filepath.Abs(c.zfsinstall); err != nil {
		return err
	}
	if c.benchDir, err = filepath.Abs(c.benchDir); err != nil {
		return err
	}
	if _, err := os.Stat(c.zfsinstall); err != nil {
		return fmt.Errorf("reading the zfsinstall binary: %w (make build makes it)", err)
	}
	if c.n < 1 || c.nApply < 1 {
		return errors.New("-n and -n-apply must be at least 1")
	}
	if c.work == "" {
		if c.work, err = os.MkdirTemp("/var/tmp", "zibench-"); err != nil {
			return err
		}
	} else {
		// Roots made into an old work directory would keep the old bed's keys and packages.
		if entries, err := os.ReadDir(c.work); err == nil && len(entries) > 0 {
			return fmt.Errorf("work directory %s is not empty: give a new or empty one", c.work)
		}
		if err := os.MkdirAll(c.work, 0o755); err != nil {
			return err
		}
	}
	if !c.keep {
		defer os.RemoveAll(c.work)
	}
	progress("work directory %s", c.work)

	hello := filepath.Join(c.work, "hello")
	build := command{argv: []string{c.goTool, "build", "-o", hello, "."}, env: os.Environ(), dir: filepath.Join(c.benchDir, "hello")}
	if _, _, err := build.run(); err != nil {
		return fmt.Errorf("building the hello-world floor: %w", err)
	}
	res.goZI, res.goHello = goVersion(c.zfsinstall), goVersion(hello)

	t0 := time.Now()
	b, err := makeBed(c.work)
	if err != nil {
		return err
	}
	defer b.p.Close()
	res.bedBuilt = fmt.Sprintf("%s; two fresh roots; %s in all", b.p.Timings, since(t0))
	progress("test bed and fresh roots ready (%s)", since(t0))

	t0 = time.Now()
	convKmod, err := b.converge(c.zfsinstall, b.stock, "converged-kmod", b.specKmod)
	if err != nil {
		return err
	}
	convDKMS, err := b.converge(c.zfsinstall, b.lt, "converged-dkms", b.specDKMS)
	if err != nil {
		return err
	}
	for _, r := range []struct{ root, spec string }{{convKmod, b.specKmod}, {convDKMS, b.specDKMS}} {
		if _, _, err := b.plan(c.zfsinstall, r.root, r.spec).run(); err != nil {
			return fmt.Errorf("the plan after apply is not converged (want exit 0, no changes): %w", err)
		}
	}
	progress("converged kmod and DKMS roots (%s)", since(t0))

	t0 = time.Now()
	fillSmall, fillLarge, kern6, err := fillerRoots(c, b, convKmod, &res)
	if err != nil {
		return err
	}
	res.fillerBuilt = since(t0)
	progress("filler and 6-kernel roots ready (%s)", since(t0))
	for _, r := range []struct{ name, root string }{{"the small filler root", fillSmall}, {"the large filler root", fillLarge}, {"the 6-kernel root", kern6}} {
		if _, out, err := b.plan(c.zfsinstall, r.root, b.specKmod).run(); err != nil {
			if !strings.Contains(out, "to add") {
				return err
			}
			res.notes = append(res.notes, fmt.Sprintf("plan on %s is not converged (it has changes); timed as it is", r.name))
		}
	}
	planOK := func(root string) command {
		cmd := b.plan(c.zfsinstall, root, b.specKmod)
		cmd.codes = []int{0, 2}
		return cmd
	}

	t0 = time.Now()
	steps := []struct {
		name string
		dst  *pairs
		a, b command
	}{
		{"converged plan, kmod host", &res.planKmod, b.plan(c.zfsinstall, convKmod, b.specKmod), b.rpmQA(convKmod)},
		{"converged plan, DKMS host", &res.planDKMS, b.plan(c.zfsinstall, convDKMS, b.specDKMS), b.rpmQA(convDKMS)},
		{"start-up", &res.startup, command{argv: []string{c.zfsinstall, "recipes"}, env: b.env}, command{argv: []string{hello}, env: b.env}},
		{"plan at large vs small filler", &res.fillPlan, planOK(fillLarge), planOK(fillSmall)},
		{"rpm -qa at large vs small filler", &res.fillRPM, b.rpmQA(fillLarge), b.rpmQA(fillSmall)},
		{"plan at 6 kernels vs 1", &res.kernels, planOK(kern6), b.plan(c.zfsinstall, convKmod, b.specKmod)},
	}
	for _, s := range steps {
		p, err := abba(c.n, true, s.a.timed(), s.b.timed())
		if err != nil {
			return fmt.Errorf("timing %s: %w", s.name, err)
		}
		*s.dst = p
	}
	progress("fast figures timed (%s)", since(t0))

	t0 = time.Now()
	traces := []struct {
		dst  *trace
		cmd  command
		file string
	}{
		{&res.traceKmod, b.plan(c.zfsinstall, convKmod, b.specKmod), "plan-kmod.strace"},
		{&res.traceDKMS, b.plan(c.zfsinstall, convDKMS, b.specDKMS), "plan-dkms.strace"},
		{&res.traceKern6, planOK(kern6), "plan-6kernels.strace"},
		{&res.traceFill, planOK(fillLarge), "plan-filler.strace"},
	}
	for _, t := range traces {
		if *t.dst, err = runTraced(t.cmd, filepath.Join(c.work, t.file)); err != nil {
			return fmt.Errorf("tracing a plan: %w", err)
		}
	}
	progress("plans traced (%s)", since(t0))

	t0 = time.Now()
	res.applyDKMS = applyResult{host: "dkms", byHand: "byhand-dkms.sh"}
	if err := measureApply(c, b, b.lt, b.specDKMS, testbed.KernelLT, &res.applyDKMS); err != nil {
		return err
	}
	progress("DKMS applies timed and traced (%s)", since(t0))
	t0 = time.Now()
	res.applyKmod = applyResult{host: "kmod", byHand: "byhand-kmod.sh"}
	if err := measureApply(c, b, b.stock, b.specKmod, testbed.Kernel94, &res.applyKmod); err != nil {
		return err
	}
	progress("kmod applies timed and traced (%s)", since(t0))

	report(w, c, &res)
	return nil
}

// fillerRoots makes three copies of the converged kmod root: with filler packages up to
// c.small and c.large installed packages, and with five extra kernels.
func fillerRoots(c config, b *bed, conv string, res *results) (small, large, kern6 string, err error) {
	base, err := b.installed(conv)
	if err != nil {
		return "", "", "", err
	}
	res.countKmod = base
	if c.small < base || c.large < c.small {
		return "", "", "", fmt.Errorf("-small (%d) must be at least the converged root's %d packages and -large (%d) at least -small", c.small, base, c.large)
	}
	files, err := b.buildFiller(c.large - base)
	if err != nil {
		return "", "", "", err
	}
	if small, err = b.copyRoot(conv, "kmod-small"); err != nil {
		return "", "", "", err
	}
	if err = b.justDB(small, filepath.Dir(files[0]), files[:c.small-base]); err != nil {
		return "", "", "", fmt.Errorf("recording filler packages: %w", err)
	}
	if large, err = b.copyRoot(conv, "kmod-large"); err != nil {
		return "", "", "", err
	}
	if err = b.justDB(large, filepath.Dir(files[0]), files); err != nil {
		return "", "", "", fmt.Errorf("recording filler packages: %w", err)
	}
	kfiles, err := b.buildKernels(c.benchDir)
	if err != nil {
		return "", "", "", err
	}
	if kern6, err = b.copyRoot(conv, "kmod-6kernels"); err != nil {
		return "", "", "", err
	}
	if err = b.justDB(kern6, b.work, kfiles); err != nil {
		return "", "", "", fmt.Errorf("recording extra kernels: %w", err)
	}
	if res.countSmall, err = b.installed(small); err != nil {
		return "", "", "", err
	}
	if res.countLarg, err = b.installed(large); err != nil {
		return "", "", "", err
	}
	if res.countDKMS, err = b.installed(filepath.Join(b.work, "converged-dkms")); err != nil {
		return "", "", "", err
	}
	return small, large, kern6, nil
}

// measureApply times zfsinstall apply (A) against the by-hand script (B), each on its own
// fresh copy of tmpl per run; the first run of each also counts the dnf transactions and
// records the end state. Then one more run of each under strace.
func measureApply(c config, b *bed, tmpl *testbed.Root, spec, kver string, r *applyResult) error {
	base, err := b.transactions(tmpl.Dir)
	if err != nil {
		return err
	}
	script := filepath.Join(c.benchDir, r.byHand)
	var nZI, nBH int
	zi := func() (time.Duration, error) {
		root, err := b.copyRoot(tmpl.Dir, fmt.Sprintf("apply-%s-zfsinstall-%d", r.host, nZI))
		if err != nil {
			return 0, err
		}
		d, out, err := b.zfsinstall(c.zfsinstall, root, spec, "apply", "--auto-approve").run()
		if err != nil {
			return d, fmt.Errorf("zfsinstall apply on a fresh %s root: %w", r.host, err)
		}
		if nZI == 0 {
			r.txnZIReported = reportedTransactions(out)
			n, err := b.transactions(root)
			if err != nil {
				return d, err
			}
			r.txnZI = n - base
			r.stateZI = b.endState(root, kver)
		}
		nZI++
		return d, os.RemoveAll(root)
	}
	bh := func() (time.Duration, error) {
		root, err := b.copyRoot(tmpl.Dir, fmt.Sprintf("apply-%s-byhand-%d", r.host, nBH))
		if err != nil {
			return 0, err
		}
		d, _, err := b.byHand(script, root).run()
		if err != nil {
			return d, fmt.Errorf("%s on a fresh %s root: %w", r.byHand, r.host, err)
		}
		if nBH == 0 {
			n, err := b.transactions(root)
			if err != nil {
				return d, err
			}
			r.txnBH = n - base
			r.stateBH = b.endState(root, kver)
		}
		nBH++
		return d, os.RemoveAll(root)
	}
	if r.times, err = abba(c.nApply, false, zi, bh); err != nil {
		return err
	}
	root, err := b.copyRoot(tmpl.Dir, "apply-"+r.host+"-zfsinstall-traced")
	if err != nil {
		return err
	}
	if r.traceZI, err = runTraced(b.zfsinstall(c.zfsinstall, root, spec, "apply", "--auto-approve"),
		filepath.Join(c.work, "apply-"+r.host+"-zfsinstall.strace")); err != nil {
		return fmt.Errorf("tracing zfsinstall apply: %w", err)
	}
	if err := os.RemoveAll(root); err != nil {
		return err
	}
	if root, err = b.copyRoot(tmpl.Dir, "apply-"+r.host+"-byhand-traced"); err != nil {
		return err
	}
	if r.traceBH, err = runTraced(b.byHand(script, root), filepath.Join(c.work, "apply-"+r.host+"-byhand.strace")); err != nil {
		return fmt.Errorf("tracing %s: %w", r.byHand, err)
	}
	return os.RemoveAll(root)
}

func goVersion(bin string) string {
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return bi.GoVersion
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// report prints the table and the sections after it.
func report(w io.Writer, c config, r *results) {
	fmt.Fprintf(w, "\nzfsinstall bench (issue 13 item 1), %s\n", r.start.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "machine: %d CPUs, load average at start %s; zfsinstall %s built with %s, hello-world floor built with %s\n",
		runtime.NumCPU(), r.loadStart, c.zfsinstall, r.goZI, r.goHello)
	fmt.Fprintf(w, "test bed: %s\n", r.bedBuilt)
	fmt.Fprintf(w, "runs: %d A/B pairs per fast figure (after one warm-up run of each), %d per apply (each on its own fresh copy of the root); "+
		"pairs in A B B A order; value and floor: median [min-max]; ratio: median [min-max] of the pairwise ratios value/floor. "+
		"Timings are reported, never asserted.\n\n", c.n, c.nApply)

	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "figure\t value\t floor\t ratio\t goal\t met?")
	ratioRow := func(fig string, p pairs, floorName string, goal string, limit float64) {
		met := "-"
		if limit > 0 {
			met = yesNo(summarize(p.ratios()).Median <= limit)
		}
		fmt.Fprintf(tw, "%s\t %s\t %s%s\t %s\t %s\t %s\n", fig, fmtTimes(p.A), floorName, fmtTimes(p.B), fmtRatio(p.ratios()), goal, met)
	}
	ratioRow("converged plan, kmod host", r.planKmod, "rpm -qa: ", "<= 2x", 2)
	ratioRow("converged plan, DKMS host", r.planDKMS, "rpm -qa: ", "<= 2x", 2)
	for _, t := range []struct {
		name string
		t    trace
	}{{"processes a converged plan starts, kmod host", r.traceKmod}, {"processes a converged plan starts, DKMS host", r.traceDKMS}} {
		fmt.Fprintf(tw, "%s\t %s\t -\t -\t no dnf, <= 1 rpm, nothing else\t %s\n", t.name, t.t.summaryLine(), yesNo(planProcsMet(t.t)))
	}
	startDiff := summarize(seconds(r.startup.A)).Median - summarize(seconds(r.startup.B)).Median
	fmt.Fprintf(tw, "start-up: zfsinstall recipes\t %s\t Go hello-world: %s\t %s\t near the Go floor\t - (%+.2f ms)\n",
		fmtTimes(r.startup.A), fmtTimes(r.startup.B), fmtRatio(r.startup.ratios()), startDiff*1000)
	ratioRow(fmt.Sprintf("plan at %d vs %d installed packages", r.countLarg, r.countSmall), r.fillPlan, fmt.Sprintf("plan at %d: ", r.countSmall), "flat (<= 1.1x)", 1.1)
	ratioRow(fmt.Sprintf("  context: rpm -qa at %d vs %d", r.countLarg, r.countSmall), r.fillRPM, fmt.Sprintf("rpm -qa at %d: ", r.countSmall), "-", 0)
	ratioRow("plan at 6 kernels vs 1", r.kernels, "plan at 1 kernel: ", "report", 0)
	ratioRow("fresh apply, DKMS host (ELRepo kernel-lt)", r.applyDKMS.times, "by-hand (seed article): ", "<= 0.5x", 0.5)
	ratioRow("fresh apply, kmod host (stock 9.4)", r.applyKmod.times, "by-hand (OpenZFS docs): ", "<= 0.6x", 0.6)
	for _, a := range []applyResult{r.applyDKMS, r.applyKmod} {
		fmt.Fprintf(tw, "small processes in apply, %s host\t %s\t by-hand: %s\t -\t as few as the work needs\t -\n", a.host, a.traceZI.smallProcsShort(), a.traceBH.smallProcsShort())
	}
	tw.Flush()

	fmt.Fprintf(w, "\nProcesses a converged plan starts (strace %s; a process is named by the programs it ran, \"chroot>dkms\"; \"direct\" = started by zfsinstall itself):\n", strings.Join(straceArgs, " "))
	for _, t := range []struct {
		name string
		t    trace
		list bool
	}{
		{"kmod host", r.traceKmod, true},
		{"DKMS host", r.traceDKMS, true},
		{"kmod host with 6 kernels", r.traceKern6, false},
		{fmt.Sprintf("kmod host with %d packages", r.countLarg), r.traceFill, false},
	} {
		fmt.Fprintf(w, "  %s: %s\n", t.name, t.t.summaryLine())
		if t.list {
			for _, e := range t.t.Execs {
				how := "child "
				if e.Direct {
					how = "direct"
				}
				fmt.Fprintf(w, "    %s %s\n", how, shorten(strings.Join(e.Argv, " "), 150))
				for _, p := range e.Then {
					fmt.Fprintf(w, "           then exec %s\n", p)
				}
			}
		}
	}

	fmt.Fprintf(w, "\nFresh apply: processes, dnf transactions, end state (one run of each on a fresh root):\n")
	for _, a := range []applyResult{r.applyDKMS, r.applyKmod} {
		fmt.Fprintf(w, "  %s host\n", a.host)
		fmt.Fprintf(w, "    zfsinstall apply: %d dnf transactions in the root's dnf history (apply reports %d); %d dnf runs\n", a.txnZI, a.txnZIReported, a.traceZI.count("dnf"))
		fmt.Fprintf(w, "      all processes: %s\n", a.traceZI.summaryLine())
		fmt.Fprintf(w, "      started by zfsinstall: %s\n", a.traceZI.smallProcs())
		fmt.Fprintf(w, "      end state: %s\n", a.stateZI)
		fmt.Fprintf(w, "    %s: %d dnf transactions in the root's dnf history; %d dnf runs\n", a.byHand, a.txnBH, a.traceBH.count("dnf"))
		fmt.Fprintf(w, "      all processes: %s\n", a.traceBH.summaryLine())
		fmt.Fprintf(w, "      started by the script: %s\n", a.traceBH.smallProcs())
		fmt.Fprintf(w, "      end state: %s\n", a.stateBH)
	}

	fmt.Fprintf(w, "\nRoots: converged kmod %d packages, converged DKMS %d; filler roots %d and %d (empty noarch filler packages recorded with rpm -i --justdb --nodeps); "+
		"6-kernel root = converged kmod + kernel and kernel-core of %s (--justdb); filler and kernel roots made in %s.\n",
		r.countKmod, r.countDKMS, r.countSmall, r.countLarg, strings.Join(extraKernels, ", "), r.fillerBuilt)
	for _, n := range r.notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintf(w, "\nmake bench total runtime: %s; load average at end %s\n", since(r.start), loadavg())
}

// planProcsMet is the goal for a converged plan: no dnf, at most one rpm, nothing else.
func planProcsMet(t trace) bool {
	for _, e := range t.Execs {
		if e.Name() != "rpm" || len(e.Then) > 0 {
			return false
		}
	}
	return len(t.Execs) <= 1
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func shorten(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", `\n`)
	s = strings.ReplaceAll(s, "\t", `\t`)
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
