package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zfsinstall/zfsinstall/testbed"
)

// bed is one test bed (small or real-size) and the two fresh roots every other root of it is
// copied from.
type bed struct {
	name string // "small" or "real-size"
	real bool
	p    *testbed.Packages
	// stock plays a fresh Rocky 9.4 host on its stock kernel (the kmod host); lt the same host
	// booted into ELRepo kernel-lt 6.1.80 (the seed article's DKMS host). Made the way
	// testbed/cmd/mkbed makes them; on the real-size bed each has filler packages in its rpm
	// database and extra kernels with real-size kABI provides, three kernels in all.
	stock, lt *testbed.Root
	// env is the environment of every rpm, dnf, zfsinstall and by-hand run: HOME whose
	// .rpmmacros puts the rpm database at /var/lib/rpm, a system PATH, the C locale.
	env []string
	// dnfArgs are what zfsinstall gets with --dnf-arg and the by-hand scripts with DNF_ARGS:
	// the Debian dnf plugins that write to the machine, disabled.
	dnfArgs []string
	// specKmod and specDKMS are the host specs: zfs-release from the bed, packaging kmod on the
	// stock host, auto (which chooses DKMS for kernel-lt) on the lt host.
	specKmod, specDKMS string
	work               string
	roots              []*testbed.Root // every root made, closed at the end
	built              string          // how long the bed and its fresh roots took
}

// realInstalled is the rpm database size of the real-size bed's roots (a Rocky 9 server has
// 500-1,500 packages); realKernels how many kernels they have installed.
const (
	realInstalled = 1000
	realKernels   = 3
)

// makeBed builds a test bed under work/name and its two fresh template roots.
func makeBed(work, name string, real bool) (*bed, error) {
	start := time.Now()
	dir := filepath.Join(work, name)
	p, err := testbed.BuildTo(filepath.Join(dir, "bed"))
	if err != nil {
		return nil, fmt.Errorf("building the %s test bed: %w", name, err)
	}
	b := &bed{name: name, real: real, p: p, work: dir}
	if real {
		if err := p.TryRealSize(); err != nil {
			return b, fmt.Errorf("making the real-size repositories: %w", err)
		}
	}
	kernel94 := "kernel-" + strings.TrimSuffix(testbed.Kernel94, ".x86_64")
	if b.stock, err = b.newRoot("fresh-stock", kernel94); err != nil {
		return b, fmt.Errorf("making the fresh stock root: %w", err)
	}
	if b.lt, err = b.newRoot("fresh-lt", kernel94, "kernel-lt-"+strings.TrimSuffix(testbed.KernelLT, ".x86_64")); err != nil {
		return b, fmt.Errorf("making the fresh kernel-lt root: %w", err)
	}
	b.env = b.stock.Env()
	for _, a := range b.stock.DNFArgs() {
		if strings.HasPrefix(a, "--disableplugin") {
			b.dnfArgs = append(b.dnfArgs, a)
		}
	}
	b.specKmod = filepath.Join(dir, "kmod.hcl")
	b.specDKMS = filepath.Join(dir, "dkms.hcl")
	specs := map[string]string{
		b.specKmod: fmt.Sprintf("zfs {\n  release_rpm = %q\n  packaging   = \"kmod\"\n}\n", p.ZFSRelease),
		b.specDKMS: fmt.Sprintf("zfs {\n  release_rpm = %q\n}\n", p.ZFSRelease),
	}
	for f, s := range specs {
		if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
			return b, err
		}
	}
	b.built = fmt.Sprintf("%s; two fresh roots; %s in all", p.Timings, since(start))
	return b, nil
}

// newRoot makes a fresh root with the given kernels installed; on the real-size bed it gets
// extra kernels up to realKernels and filler packages up to realInstalled entries in its rpm
// database.
func (b *bed) newRoot(name string, kernels ...string) (*testbed.Root, error) {
	r, err := testbed.NewRootAt(filepath.Join(b.work, name), b.p, kernels...)
	if r != nil {
		b.roots = append(b.roots, r)
	}
	if err != nil || !b.real {
		return r, err
	}
	if err := r.TryAddKernels(realKernels - len(kernels)); err != nil {
		return r, err
	}
	have, err := b.installed(r.Dir)
	if err != nil {
		return r, err
	}
	return r, r.TryAddFiller(max(realInstalled-have, 0))
}

// close unmounts every root made.
func (b *bed) close() {
	for _, r := range b.roots {
		r.Close()
	}
	b.p.Close()
}

// copyRoot makes a copy of a root (testbed.CopyRootAt: the root, its /usr overlay's upper
// layer and its HOME; mounts made anew): every copy of a template is the same host.
func (b *bed) copyRoot(src *testbed.Root, name string) (*testbed.Root, error) {
	dst := filepath.Join(b.work, name)
	if err := removeRoot(dst); err != nil {
		return nil, err
	}
	r, err := testbed.CopyRootAt(src, dst)
	if r != nil {
		b.roots = append(b.roots, r)
	}
	return r, err
}

// removeRoot removes a copy made by copyRoot that is no longer needed.
func removeRoot(dir string) error {
	if _, err := os.Lstat(dir); err != nil {
		return nil
	}
	return (&testbed.Root{Dir: dir, Home: dir + ".home"}).Remove()
}

// zfsinstall is a zfsinstall command against root; plan and apply get the spec, the bed's
// release key and the dnf arguments.
func (b *bed) zfsinstall(bin, root, spec string, args ...string) command {
	argv := []string{bin}
	argv = append(argv, args...)
	argv = append(argv, "--root", root)
	if spec != "" {
		argv = append(argv, "-f", spec, "--release-key", b.p.KeyFile)
	}
	for _, a := range b.dnfArgs {
		argv = append(argv, "--dnf-arg", a)
	}
	return command{argv: argv, env: b.env}
}

// plan is a converged-plan command: -detailed-exitcode, exit 0 (no changes) required.
func (b *bed) plan(bin, root, spec string) command {
	return b.zfsinstall(bin, root, spec, "plan", "-detailed-exitcode")
}

// checkUpdate is the update pre-flight: exit 0 (safe), 1 (not safe) or 2 (safe, kernel or
// OpenZFS packages pending) are answers; 3 (could not check) is a failure.
func (b *bed) checkUpdate(bin, root string) command {
	c := b.zfsinstall(bin, root, "", "check-update", "-detailed-exitcode")
	c.codes = []int{0, 1, 2}
	return c
}

// dnfCheckUpdate is the pre-flight's floor: a bare dnf check-update of the same root (exit
// 100 when updates are pending).
func (b *bed) dnfCheckUpdate(root string) command {
	argv := append([]string{"dnf", "--installroot", root}, b.dnfArgs...)
	return command{argv: append(argv, "check-update"), env: b.env, codes: []int{0, 100}}
}

// rpmQA is the floor: a bare rpm -qa of the same root.
func (b *bed) rpmQA(root string) command {
	return command{argv: []string{"rpm", "--root", root, "--dbpath", "/var/lib/rpm", "-qa"}, env: b.env}
}

// byHand runs one of the by-hand scripts against root.
func (b *bed) byHand(script, root string) command {
	env := append(append([]string{}, b.env...),
		"ROOT="+root, "RELEASE_RPM="+b.p.ZFSRelease, "KVER="+testbed.KernelLT,
		"DNF_ARGS="+strings.Join(b.dnfArgs, " "))
	return command{argv: []string{"bash", script}, env: env}
}

// converge copies a template root and applies spec to it.
func (b *bed) converge(bin string, tmpl *testbed.Root, name, spec string) (*testbed.Root, error) {
	r, err := b.copyRoot(tmpl, name)
	if err != nil {
		return nil, err
	}
	if _, _, err := b.zfsinstall(bin, r.Dir, spec, "apply", "--auto-approve").run(); err != nil {
		return nil, fmt.Errorf("converging %s: %w", name, err)
	}
	return r, nil
}

// installed counts the root's rpm database entries (rpm -qa lines, gpg-pubkey included: rpm
// reads those headers too).
func (b *bed) installed(root string) (int, error) {
	_, out, err := b.rpmQA(root).run()
	if err != nil {
		return 0, err
	}
	return len(strings.Fields(out)), nil
}

// kernels lists the root's installed kernels (their core packages' version-release).
func (b *bed) kernels(root string) ([]string, error) {
	_, out, err := command{argv: []string{"rpm", "--root", root, "--dbpath", "/var/lib/rpm", "-qa", "--qf", "%{NAME} %{VERSION}-%{RELEASE}\n"}, env: b.env}.run()
	var l []string
	for _, line := range strings.Split(out, "\n") {
		if name, vr, ok := strings.Cut(line, " "); ok && (name == "kernel-core" || name == "kernel-lt-core") {
			l = append(l, vr)
		}
	}
	sort.Strings(l)
	return l, err
}

var historyRow = regexp.MustCompile(`(?m)^\s+\d+ \|`)

// transactions counts the dnf transactions recorded in the root's history (dnf history list).
func (b *bed) transactions(root string) (int, error) {
	argv := append([]string{"dnf", "--installroot", root}, b.dnfArgs...)
	_, out, err := command{argv: append(argv, "history", "list"), env: b.env}.run()
	if err != nil {
		return 0, err
	}
	return countHistory(out), nil
}

func countHistory(out string) int { return len(historyRow.FindAllString(out, -1)) }

var appliedTxns = regexp.MustCompile(`; (\d+) dnf transactions?\)`)

// reportedTransactions reads "(...; 2 dnf transactions)" from apply's summary; -1 if absent.
func reportedTransactions(out string) int {
	m := appliedTxns.FindStringSubmatch(out)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// endState says what an install left in root: the ZFS, DKMS and kernel packages and the
// zfs module version modinfo finds for kver.
func (b *bed) endState(root, kver string) string {
	argv := []string{"rpm", "--root", root, "--dbpath", "/var/lib/rpm", "-qa", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}\n",
		"zfs*", "kmod-zfs*", "dkms", "epel-release", "kernel*core", "kernel*devel*"}
	_, out, err := command{argv: argv, env: b.env}.run()
	if err != nil {
		return "rpm -qa failed: " + err.Error()
	}
	pkgs := strings.Fields(out)
	sort.Strings(pkgs)
	_, mod, err := command{argv: []string{"modinfo", "-b", root, "-k", kver, "-F", "version", "zfs"}, env: b.env, codes: []int{0, 1}}.run()
	module := strings.TrimSpace(mod)
	if err != nil || strings.Contains(module, "ERROR") {
		module = "none"
	}
	return fmt.Sprintf("zfs module for %s: %s; packages: %s", kver, module, strings.Join(pkgs, " "))
}

// repoSizes says how many packages each repository of the bed holds, and the size of its
// primary metadata.
func (b *bed) repoSizes() string {
	var parts []string
	for _, id := range []string{"baseos", "appstream", "epel"} {
		d, err := b.p.RepoDir(id)
		if err != nil {
			continue
		}
		rpms, _ := filepath.Glob(filepath.Join(d, "*.rpm"))
		prim, _ := filepath.Glob(filepath.Join(d, "repodata", "*primary.xml*"))
		size := int64(0)
		for _, f := range prim {
			if fi, err := os.Stat(f); err == nil {
				size += fi.Size()
			}
		}
		parts = append(parts, fmt.Sprintf("%s %d packages (primary.xml.gz %d KiB)", id, len(rpms), size/1024))
	}
	return strings.Join(parts, ", ")
}

// since prints a duration for progress lines.
func since(t time.Time) string { return time.Since(t).Round(10 * time.Millisecond).String() }
