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

// bed is the test bed and the two fresh roots every other root is copied from.
type bed struct {
	p *testbed.Packages
	// stock plays a fresh Rocky 9.4 host on its stock kernel (the kmod host); lt the same host
	// booted into ELRepo kernel-lt 6.1.80 (the seed article's DKMS host). Made the way
	// testbed/cmd/mkbed makes them.
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
}

// makeBed builds the test bed under work and the two fresh template roots.
func makeBed(work string) (*bed, error) {
	p, err := testbed.BuildTo(filepath.Join(work, "bed"))
	if err != nil {
		return nil, fmt.Errorf("building the test bed: %w", err)
	}
	b := &bed{p: p, work: work}
	kernel94 := "kernel-" + strings.TrimSuffix(testbed.Kernel94, ".x86_64")
	if b.stock, err = testbed.NewRootAt(filepath.Join(work, "fresh-stock"), p, kernel94); err != nil {
		return nil, fmt.Errorf("making the fresh stock root: %w", err)
	}
	if b.lt, err = testbed.NewRootAt(filepath.Join(work, "fresh-lt"), p, kernel94,
		"kernel-lt-"+strings.TrimSuffix(testbed.KernelLT, ".x86_64")); err != nil {
		return nil, fmt.Errorf("making the fresh kernel-lt root: %w", err)
	}
	b.env = b.stock.Env()
	for _, a := range b.stock.DNFArgs() {
		if strings.HasPrefix(a, "--disableplugin") {
			b.dnfArgs = append(b.dnfArgs, a)
		}
	}
	b.specKmod = filepath.Join(work, "kmod.hcl")
	b.specDKMS = filepath.Join(work, "dkms.hcl")
	specs := map[string]string{
		b.specKmod: fmt.Sprintf("zfs {\n  release_rpm = %q\n  packaging   = \"kmod\"\n}\n", p.ZFSRelease),
		b.specDKMS: fmt.Sprintf("zfs {\n  release_rpm = %q\n}\n", p.ZFSRelease),
	}
	for f, s := range specs {
		if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// copyRoot copies a root with cp -a (ownership, modes, links, the rpm database and dnf cache
// as they are): every copy of a template is the same fresh host.
func (b *bed) copyRoot(src, name string) (string, error) {
	dst := filepath.Join(b.work, name)
	if err := os.RemoveAll(dst); err != nil {
		return "", err
	}
	_, _, err := command{argv: []string{"cp", "-a", src, dst}, env: b.env}.run()
	return dst, err
}

// zfsinstall is a zfsinstall command against root; plan and apply get the spec, the bed's
// release key and the dnf arguments.
func (b *bed) zfsinstall(bin, root, spec string, args ...string) command {
	argv := []string{bin}
	argv = append(argv, args...)
	argv = append(argv, "--root", root, "-f", spec, "--release-key", b.p.KeyFile)
	for _, a := range b.dnfArgs {
		argv = append(argv, "--dnf-arg", a)
	}
	return command{argv: argv, env: b.env}
}

// plan is a converged-plan command: -detailed-exitcode, exit 0 (no changes) required.
func (b *bed) plan(bin, root, spec string) command {
	return b.zfsinstall(bin, root, spec, "plan", "-detailed-exitcode")
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
func (b *bed) converge(bin string, tmpl *testbed.Root, name, spec string) (string, error) {
	root, err := b.copyRoot(tmpl.Dir, name)
	if err != nil {
		return "", err
	}
	if _, _, err := b.zfsinstall(bin, root, spec, "apply", "--auto-approve").run(); err != nil {
		return "", fmt.Errorf("converging %s: %w", name, err)
	}
	return root, nil
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

// justDB records RPM files in root's database without installing files or checking
// dependencies: rpm -i --justdb --nodeps, from dir with relative names to keep argv short.
// --oldpackage lets an older kernel be recorded beside the newer one, as dnf installs
// installonly packages side by side.
func (b *bed) justDB(root, dir string, files []string) error {
	argv := []string{"rpm", "--root", root, "--dbpath", "/var/lib/rpm", "-i", "--justdb", "--nodeps", "--oldpackage"}
	for _, f := range files {
		rel, err := filepath.Rel(dir, f)
		if err != nil {
			return err
		}
		argv = append(argv, rel)
	}
	// Debian's rpm warns on stderr for -i ("should not be used directly"); exit 0 is success.
	_, _, err := command{argv: argv, env: b.env, dir: dir}.run()
	return err
}

// rpmbuild builds a spec into out and returns the RPM files, sorted.
func (b *bed) rpmbuild(spec, out string, defines ...string) ([]string, error) {
	top := filepath.Join(b.work, "rpmbuild")
	home := filepath.Join(b.work, "rpmbuild-home") // no ~/.rpmmacros of the caller
	for _, d := range []string{top, home, out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	argv := []string{"rpmbuild", "-bb", "--quiet",
		"--define", "_topdir " + top,
		"--define", "_rpmdir " + out,
		"--define", "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm",
		"--define", "_buildshell /bin/bash", // Debian's rpmbuild runs scripts with dash (TESTBED.md fact 6)
		"--define", "__os_install_post %{nil}",
		"--define", "debug_package %{nil}",
		"--define", "_build_id_links none",
	}
	for _, d := range defines {
		argv = append(argv, "--define", d)
	}
	argv = append(argv, spec)
	env := []string{"HOME=" + home, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8"}
	if _, _, err := (command{argv: argv, env: env}).run(); err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(out, "*.rpm"))
	sort.Strings(files)
	return files, err
}

// fillerSpec is one spec whose subpackages filler-00001 ... are the filler: noarch, empty,
// named unlike anything zfsinstall asks rpm for. Build time is about 1 ms a package.
func fillerSpec(n int) string {
	var s strings.Builder
	s.WriteString(`# make bench: filler packages for the "plan at 5,000 vs 200 installed packages" figure.
Name:      bench-filler
Version:   1.0
Release:   1.el9
Summary:   Bench filler
License:   MIT
BuildArch: noarch
%description
Bench filler (the main package is not built: it has no %files).
`)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&s, "\n%%package -n filler-%05[1]d\nSummary: Bench filler package %[1]d\n%%description -n filler-%05[1]d\nEmpty filler package %[1]d.\n%%files -n filler-%05[1]d\n", i)
	}
	return s.String()
}

// buildFiller builds n filler RPMs.
func (b *bed) buildFiller(n int) ([]string, error) {
	dir := filepath.Join(b.work, "filler")
	spec := filepath.Join(dir, "filler.spec")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(spec, []byte(fillerSpec(n)), 0o644); err != nil {
		return nil, err
	}
	files, err := b.rpmbuild(spec, filepath.Join(dir, "rpms"))
	if err != nil {
		return nil, fmt.Errorf("building %d filler packages: %w", n, err)
	}
	if len(files) != n {
		return nil, fmt.Errorf("building filler packages: got %d RPMs, want %d", len(files), n)
	}
	return files, nil
}

// extraKernels are five EL9 kernel releases older than the bed's 9.4 kernel (so the root's
// newest kernel, zfsinstall's target in a root, stays 5.14.0-427.13.1.el9_4): the example
// z-stream releases of EL 9.0-9.3 in catalog/data/kernels.tsv, and 5.14.0-362.8.1.el9_3, the
// kernel-core the seed article's kmod section names.
var extraKernels = []string{
	"70.30.1.el9_0", "162.23.1.el9_1", "284.30.1.el9_2", "362.8.1.el9_3", "362.24.1.el9_3",
}

// buildKernels builds kernel and kernel-core of each extra kernel.
func (b *bed) buildKernels(benchDir string) ([]string, error) {
	var all []string
	for _, rel := range extraKernels {
		out := filepath.Join(b.work, "kernels", rel)
		files, err := b.rpmbuild(filepath.Join(benchDir, "specs", "kernel-extra.spec"), out,
			"kversion 5.14.0", "krelease "+rel)
		if err != nil {
			return nil, fmt.Errorf("building kernel %s: %w", rel, err)
		}
		all = append(all, files...)
	}
	return all, nil
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

// since prints a duration for progress lines.
func since(t time.Time) string { return time.Since(t).Round(10 * time.Millisecond).String() }
