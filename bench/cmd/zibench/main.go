// Command zibench is `make bench`: it builds the real dnf/rpm test bed (package testbed), small
// and real-size (repositories the size of a real EL9 host's, testbed/realsize.go), makes fresh
// and converged install roots on each, and prints side by side, in one run, each figure of
// zfsinstall's issues 13 and 23 with the floor it is compared with: medians with min/max over
// several runs, ratios taken pair by pair in A B B A order, the programs a plan, an apply and
// the update pre-flight start and how many of them load dnf's repository metadata (strace),
// the dnf transactions an apply makes (dnf history in the root) and zfsinstall's peak memory.
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
	"slices"
	"strings"
	"time"

	"github.com/zfsinstall/zfsinstall/testbed"
)

// config is what the flags say.
type config struct {
	zfsinstall string // the binary measured
	goTool     string // builds the hello-world floor
	benchDir   string // bench/: by-hand scripts, hello
	n, nApply  int    // pairs per fast figure, per apply figure
	nMem       int    // runs per peak-memory figure
	small      int    // installed packages of the small filler root
	large      int    // installed packages of the large filler root
	beds       []string
	work       string
	keep       bool
}

// bedNames are the beds -beds accepts.
var bedNames = []string{"small", "real-size"}

func main() {
	var c config
	var beds string
	flag.StringVar(&c.zfsinstall, "zfsinstall", "bin/zfsinstall", "the zfsinstall binary to measure")
	flag.StringVar(&c.goTool, "go", "go", "the go command that builds the hello-world floor (use the one that built zfsinstall)")
	flag.StringVar(&c.benchDir, "bench-dir", "bench", "the bench directory (by-hand scripts, hello)")
	flag.IntVar(&c.n, "n", 20, "A/B pairs per fast figure (plans, rpm -qa, start-up, check-update); even completes A B B A blocks")
	flag.IntVar(&c.nApply, "n-apply", 4, "A/B pairs per fresh-apply figure")
	flag.IntVar(&c.nMem, "n-mem", 3, "runs per peak-memory figure")
	flag.IntVar(&c.small, "small", 200, "installed packages in the small bed's small filler root")
	flag.IntVar(&c.large, "large", 5000, "installed packages in the small bed's large filler root")
	flag.StringVar(&beds, "beds", strings.Join(bedNames, ","), "the beds to measure, comma-separated: small (repositories of a few dozen packages), real-size (BaseOS, AppStream and EPEL as large as a real EL9 host's, 1,000 installed packages, three kernels)")
	flag.StringVar(&c.work, "work", "", "work directory, new or empty (default: a new one under /var/tmp, removed at the end unless -keep)")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory (roots, traces, beds)")
	flag.Parse()
	for _, b := range strings.Split(beds, ",") {
		if !slices.Contains(bedNames, b) {
			fmt.Fprintf(os.Stderr, "zibench: -beds: %q is not one of %s\n", b, strings.Join(bedNames, ", "))
			os.Exit(2)
		}
		c.beds = append(c.beds, b)
	}
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
	start         time.Time
	loadStart     string
	goZI, goHello string
	startup       pairs
	startupLoad   string
	beds          []*bedResults
}

// figure is one timed figure: A against its floor B, and the load average when it was taken.
type figure struct {
	pairs
	load string
}

// bedResults are the figures of one bed.
type bedResults struct {
	name, built, sizes   string
	real                 bool
	countKmod, countDKMS int
	kernKmod, kernDKMS   []string
	planKmod, planDKMS   figure
	checkKmod, checkDKMS figure
	traceKmod, traceDKMS trace
	// check-update and its floor, traced on each converged root
	traceCheck, traceCheckFloor [2]trace
	applyDKMS, applyKmod        applyResult
	mem                         []memFigure
	// the real-size bed's fleet: 1,000 copies of the converged kmod host's facts
	fleet      []time.Duration
	fleetLoad  string
	fleetBytes int
	// the small bed's scaling figures
	fillPlan, fillRPM, kernels6 figure
	traceKern6, traceFill       trace
	countSmall, countLarge      int
	fillerBuilt                 string
	notes                       []string
}

// memFigure is zfsinstall's peak memory in one command, over several runs.
type memFigure struct {
	name string
	kib  []int64
}

// applyResult is one fresh-apply figure: zfsinstall (A) against the by-hand script (B).
type applyResult struct {
	host, byHand         string
	times                figure
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
	if c.n < 1 || c.nApply < 1 || c.nMem < 1 {
		return errors.New("-n, -n-apply and -n-mem must be at least 1")
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
	if c.work, err = filepath.Abs(c.work); err != nil {
		return err
	}
	progress("work directory %s", c.work)

	hello := filepath.Join(c.work, "hello")
	build := command{argv: []string{c.goTool, "build", "-o", hello, "."}, env: os.Environ(), dir: filepath.Join(c.benchDir, "hello")}
	if _, _, err := build.run(); err != nil {
		return fmt.Errorf("building the hello-world floor: %w", err)
	}
	res.goZI, res.goHello = goVersion(c.zfsinstall), goVersion(hello)

	var made []*bed
	defer func() {
		for _, b := range made {
			b.close()
		}
		if !c.keep {
			removeWork(c.work)
		}
	}()
	for i, name := range c.beds {
		b, err := makeBed(c.work, name, name == "real-size")
		if b != nil {
			made = append(made, b)
		}
		if err != nil {
			return err
		}
		progress("%s bed and its fresh roots ready (%s)", name, b.built)
		if i == 0 {
			t0 := time.Now()
			load := loadavg()
			p, err := abba(c.n, true, command{argv: []string{c.zfsinstall, "recipes"}, env: b.env}.timed(), command{argv: []string{hello}, env: b.env}.timed())
			if err != nil {
				return fmt.Errorf("timing start-up: %w", err)
			}
			res.startup, res.startupLoad = p, load
			progress("start-up timed (%s)", since(t0))
		}
		br, err := measureBed(c, b)
		if err != nil {
			return err
		}
		res.beds = append(res.beds, br)
	}
	report(w, c, &res)
	return nil
}

// removeWork removes the work directory once nothing is mounted below it (the roots' /usr
// overlays and /proc, unmounted by bed.close); with a mount left it keeps it and says so.
func removeWork(dir string) {
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil || strings.Contains(string(mounts), " "+dir+"/") {
		progress("not removing %s: something is still mounted below it", dir)
		return
	}
	os.RemoveAll(dir)
}

// timed takes n pairs of a against b and records the load average before.
func timed(n int, a, b command) (figure, error) {
	load := loadavg()
	p, err := abba(n, true, a.timed(), b.timed())
	return figure{pairs: p, load: load}, err
}

// measureBed takes every figure of one bed.
func measureBed(c config, b *bed) (*bedResults, error) {
	r := &bedResults{name: b.name, real: b.real, built: b.built, sizes: b.repoSizes()}
	t0 := time.Now()
	convKmod, err := b.converge(c.zfsinstall, b.stock, "converged-kmod", b.specKmod)
	if err != nil {
		return nil, err
	}
	convDKMS, err := b.converge(c.zfsinstall, b.lt, "converged-dkms", b.specDKMS)
	if err != nil {
		return nil, err
	}
	for _, cr := range []struct {
		root *testbed.Root
		spec string
	}{{convKmod, b.specKmod}, {convDKMS, b.specDKMS}} {
		if _, _, err := b.plan(c.zfsinstall, cr.root.Dir, cr.spec).run(); err != nil {
			return nil, fmt.Errorf("the plan after apply is not converged (want exit 0, no changes): %w", err)
		}
	}
	for _, x := range []struct {
		root  string
		count *int
		kern  *[]string
	}{{convKmod.Dir, &r.countKmod, &r.kernKmod}, {convDKMS.Dir, &r.countDKMS, &r.kernDKMS}} {
		if *x.count, err = b.installed(x.root); err != nil {
			return nil, err
		}
		if *x.kern, err = b.kernels(x.root); err != nil {
			return nil, err
		}
	}
	progress("%s bed: converged kmod and DKMS roots (%s)", b.name, since(t0))

	t0 = time.Now()
	steps := []struct {
		name string
		dst  *figure
		a, b command
	}{
		{"converged plan, kmod host", &r.planKmod, b.plan(c.zfsinstall, convKmod.Dir, b.specKmod), b.rpmQA(convKmod.Dir)},
		{"converged plan, DKMS host", &r.planDKMS, b.plan(c.zfsinstall, convDKMS.Dir, b.specDKMS), b.rpmQA(convDKMS.Dir)},
		{"check-update, kmod host", &r.checkKmod, b.checkUpdate(c.zfsinstall, convKmod.Dir), b.dnfCheckUpdate(convKmod.Dir)},
		{"check-update, DKMS host", &r.checkDKMS, b.checkUpdate(c.zfsinstall, convDKMS.Dir), b.dnfCheckUpdate(convDKMS.Dir)},
	}
	for _, s := range steps {
		if *s.dst, err = timed(c.n, s.a, s.b); err != nil {
			return nil, fmt.Errorf("timing %s: %w", s.name, err)
		}
	}
	progress("%s bed: plans and pre-flights timed (%s)", b.name, since(t0))

	if !b.real {
		if err := scaling(c, b, convKmod, r); err != nil {
			return nil, err
		}
	} else if err := fleet(c, b, convKmod, r); err != nil {
		return nil, err
	}

	t0 = time.Now()
	traces := []struct {
		dst  *trace
		cmd  command
		file string
	}{
		{&r.traceKmod, b.plan(c.zfsinstall, convKmod.Dir, b.specKmod), "plan-kmod.strace"},
		{&r.traceDKMS, b.plan(c.zfsinstall, convDKMS.Dir, b.specDKMS), "plan-dkms.strace"},
		{&r.traceCheck[0], b.checkUpdate(c.zfsinstall, convKmod.Dir), "check-update-kmod.strace"},
		{&r.traceCheckFloor[0], b.dnfCheckUpdate(convKmod.Dir), "dnf-check-update-kmod.strace"},
		{&r.traceCheck[1], b.checkUpdate(c.zfsinstall, convDKMS.Dir), "check-update-dkms.strace"},
		{&r.traceCheckFloor[1], b.dnfCheckUpdate(convDKMS.Dir), "dnf-check-update-dkms.strace"},
	}
	for _, t := range traces {
		if *t.dst, err = runTraced(t.cmd, filepath.Join(b.work, t.file)); err != nil {
			return nil, fmt.Errorf("tracing: %w", err)
		}
	}
	progress("%s bed: plans and pre-flights traced (%s)", b.name, since(t0))

	t0 = time.Now()
	for _, m := range []struct {
		name string
		cmd  command
	}{
		{"plan, kmod host", b.plan(c.zfsinstall, convKmod.Dir, b.specKmod)},
		{"plan, DKMS host", b.plan(c.zfsinstall, convDKMS.Dir, b.specDKMS)},
		{"check-update, kmod host", b.checkUpdate(c.zfsinstall, convKmod.Dir)},
		{"check-update, DKMS host", b.checkUpdate(c.zfsinstall, convDKMS.Dir)},
	} {
		f := memFigure{name: m.name}
		for range c.nMem {
			kib, err := peakRSS(m.cmd)
			if err != nil {
				return nil, fmt.Errorf("peak memory of %s: %w", m.name, err)
			}
			f.kib = append(f.kib, kib)
		}
		r.mem = append(r.mem, f)
	}
	progress("%s bed: peak memory of plans and pre-flights (%s)", b.name, since(t0))

	t0 = time.Now()
	r.applyDKMS = applyResult{host: "DKMS", byHand: "byhand-dkms.sh"}
	if err := measureApply(c, b, b.lt, b.specDKMS, testbed.KernelLT, &r.applyDKMS, r); err != nil {
		return nil, err
	}
	progress("%s bed: DKMS applies timed and traced (%s)", b.name, since(t0))
	t0 = time.Now()
	r.applyKmod = applyResult{host: "kmod", byHand: "byhand-kmod.sh"}
	if err := measureApply(c, b, b.stock, b.specKmod, testbed.Kernel94, &r.applyKmod, r); err != nil {
		return nil, err
	}
	progress("%s bed: kmod applies timed and traced (%s)", b.name, since(t0))
	return r, nil
}

// scaling takes the small bed's scaling figures on copies of the converged kmod root: with
// filler packages up to c.small and c.large installed packages, and with five extra kernels.
func scaling(c config, b *bed, conv *testbed.Root, r *bedResults) error {
	t0 := time.Now()
	base := r.countKmod
	if c.small < base || c.large < c.small {
		return fmt.Errorf("-small (%d) must be at least the converged root's %d packages and -large (%d) at least -small", c.small, base, c.large)
	}
	small, err := b.copyRoot(conv, "kmod-small")
	if err != nil {
		return err
	}
	if err := small.TryAddFiller(c.small - base); err != nil {
		return err
	}
	large, err := b.copyRoot(conv, "kmod-large")
	if err != nil {
		return err
	}
	if err := large.TryAddFiller(c.large - base); err != nil {
		return err
	}
	kern6, err := b.copyRoot(conv, "kmod-6kernels")
	if err != nil {
		return err
	}
	if err := kern6.TryAddKernels(5); err != nil {
		return err
	}
	if r.countSmall, err = b.installed(small.Dir); err != nil {
		return err
	}
	if r.countLarge, err = b.installed(large.Dir); err != nil {
		return err
	}
	r.fillerBuilt = since(t0)
	progress("small bed: filler and 6-kernel roots ready (%s)", since(t0))
	for _, x := range []struct {
		name string
		root *testbed.Root
	}{{"the small filler root", small}, {"the large filler root", large}, {"the 6-kernel root", kern6}} {
		if _, out, err := b.plan(c.zfsinstall, x.root.Dir, b.specKmod).run(); err != nil {
			if !strings.Contains(out, "to add") {
				return err
			}
			r.notes = append(r.notes, fmt.Sprintf("plan on %s is not converged (it has changes); timed as it is", x.name))
		}
	}
	planOK := func(root string) command {
		cmd := b.plan(c.zfsinstall, root, b.specKmod)
		cmd.codes = []int{0, 2}
		return cmd
	}
	steps := []struct {
		name string
		dst  *figure
		a, b command
	}{
		{"plan at large vs small filler", &r.fillPlan, planOK(large.Dir), planOK(small.Dir)},
		{"rpm -qa at large vs small filler", &r.fillRPM, b.rpmQA(large.Dir), b.rpmQA(small.Dir)},
		{"plan at 6 kernels vs 1", &r.kernels6, planOK(kern6.Dir), b.plan(c.zfsinstall, conv.Dir, b.specKmod)},
	}
	for _, s := range steps {
		if *s.dst, err = timed(c.n, s.a, s.b); err != nil {
			return fmt.Errorf("timing %s: %w", s.name, err)
		}
	}
	if r.traceKern6, err = runTraced(planOK(kern6.Dir), filepath.Join(b.work, "plan-6kernels.strace")); err != nil {
		return err
	}
	if r.traceFill, err = runTraced(planOK(large.Dir), filepath.Join(b.work, "plan-filler.strace")); err != nil {
		return err
	}
	progress("small bed: scaling figures timed (%s)", since(t0))
	return nil
}

// fleetHosts is how many hosts the fleet figure plans from saved facts.
const fleetHosts = 1000

// fleet times planning fleetHosts hosts from saved facts in one process, each a copy of the
// facts `zfsinstall facts --json --refresh` gathers on the converged kmod root (three kernels
// with real-size kABI provides, kmod-zfs installed, the repositories asked), and zfsinstall's
// peak memory doing it.
func fleet(c config, b *bed, conv *testbed.Root, r *bedResults) error {
	t0 := time.Now()
	_, facts, err := b.zfsinstall(c.zfsinstall, conv.Dir, "", "facts", "--json", "--refresh").runStdout()
	if err != nil {
		return fmt.Errorf("gathering the facts of the converged kmod root: %w", err)
	}
	r.fleetBytes = len(facts)
	dir := filepath.Join(b.work, "fleet")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := range fleetHosts {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("host%04d.json", i)), facts, 0o644); err != nil {
			return err
		}
	}
	plan := command{argv: []string{c.zfsinstall, "plan", "--facts", dir, "-f", b.specKmod, "--release-key", b.p.KeyFile, "--json"}, env: b.env}
	r.fleetLoad = loadavg()
	for i := range max(c.n/4, 3) + 1 {
		d, _, err := plan.run()
		if err != nil {
			return fmt.Errorf("planning the fleet: %w", err)
		}
		if i > 0 { // the first run warms the page cache
			r.fleet = append(r.fleet, d)
		}
	}
	f := memFigure{name: fmt.Sprintf("plan of %d real-size hosts from saved facts", fleetHosts)}
	for range c.nMem {
		kib, err := peakRSS(plan)
		if err != nil {
			return fmt.Errorf("peak memory of the fleet plan: %w", err)
		}
		f.kib = append(f.kib, kib)
	}
	r.mem = append(r.mem, f)
	progress("real-size bed: fleet of %d timed (%s)", fleetHosts, since(t0))
	return nil
}

// measureApply times zfsinstall apply (A) against the by-hand script (B), each on its own
// fresh copy of tmpl per run; the first run of each also counts the dnf transactions and
// records the end state. Then one more run of each under strace, and c.nMem runs of
// zfsinstall for its peak memory.
func measureApply(c config, b *bed, tmpl *testbed.Root, spec, kver string, r *applyResult, br *bedResults) error {
	base, err := b.transactions(tmpl.Dir)
	if err != nil {
		return err
	}
	script := filepath.Join(c.benchDir, r.byHand)
	var nZI, nBH int
	zi := func() (time.Duration, error) {
		root, err := b.copyRoot(tmpl, fmt.Sprintf("apply-%s-zfsinstall", r.host))
		if err != nil {
			return 0, err
		}
		d, out, err := b.zfsinstall(c.zfsinstall, root.Dir, spec, "apply", "--auto-approve").run()
		if err != nil {
			return d, fmt.Errorf("zfsinstall apply on a fresh %s root: %w", r.host, err)
		}
		if nZI == 0 {
			r.txnZIReported = reportedTransactions(out)
			n, err := b.transactions(root.Dir)
			if err != nil {
				return d, err
			}
			r.txnZI = n - base
			r.stateZI = b.endState(root.Dir, kver)
		}
		nZI++
		return d, root.Remove()
	}
	bh := func() (time.Duration, error) {
		root, err := b.copyRoot(tmpl, fmt.Sprintf("apply-%s-byhand", r.host))
		if err != nil {
			return 0, err
		}
		d, _, err := b.byHand(script, root.Dir).run()
		if err != nil {
			return d, fmt.Errorf("%s on a fresh %s root: %w", r.byHand, r.host, err)
		}
		if nBH == 0 {
			n, err := b.transactions(root.Dir)
			if err != nil {
				return d, err
			}
			r.txnBH = n - base
			r.stateBH = b.endState(root.Dir, kver)
		}
		nBH++
		return d, root.Remove()
	}
	r.times.load = loadavg()
	if r.times.pairs, err = abba(c.nApply, false, zi, bh); err != nil {
		return err
	}
	traced := []struct {
		dst  *trace
		cmd  func(root string) command
		file string
	}{
		{&r.traceZI, func(root string) command { return b.zfsinstall(c.zfsinstall, root, spec, "apply", "--auto-approve") }, "apply-" + r.host + "-zfsinstall.strace"},
		{&r.traceBH, func(root string) command { return b.byHand(script, root) }, "apply-" + r.host + "-byhand.strace"},
	}
	for _, t := range traced {
		root, err := b.copyRoot(tmpl, "apply-"+r.host+"-traced")
		if err != nil {
			return err
		}
		if *t.dst, err = runTraced(t.cmd(root.Dir), filepath.Join(b.work, t.file)); err != nil {
			return fmt.Errorf("tracing an apply: %w", err)
		}
		if err := root.Remove(); err != nil {
			return err
		}
	}
	f := memFigure{name: "apply, " + r.host + " host"}
	for range c.nMem {
		root, err := b.copyRoot(tmpl, "apply-"+r.host+"-memory")
		if err != nil {
			return err
		}
		kib, err := peakRSS(b.zfsinstall(c.zfsinstall, root.Dir, spec, "apply", "--auto-approve"))
		if err != nil {
			return fmt.Errorf("peak memory of apply: %w", err)
		}
		f.kib = append(f.kib, kib)
		if err := root.Remove(); err != nil {
			return err
		}
	}
	br.mem = append(br.mem, f)
	return nil
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
