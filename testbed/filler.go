package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// Filler for benchmarks: an rpm database of a realistic size (a Rocky 9 server has 500-1,500
// packages; a fresh bed root about 15) and hosts that keep many kernels.
//
//   - Filler packages testbed-filler-00001 ... are noarch, empty, unsigned RPMs built by one
//     rpmbuild run of specs/filler.spec (one subpackage each; 1,000 in about 1.5 s) and
//     registered with rpm -i --justdb --nodeps --noscripts: they are in the rpm database only,
//     as `rpm -qa` sees them, with no files on disk.
//   - Extra kernels are kernel-core 5.14.0-427.0.N.el9_4.x86_64 for N = 1..K (synthetic
//     z-streams that sort below Kernel94, so the bed's kernels stay the newest), built from
//     specs/kernel-filler.spec, one rpmbuild run each, and installed with rpm -i --nodeps
//     --noscripts: in the rpm database with kernel-uname-r and installonlypkg(kernel) like a
//     real kernel-core, and /lib/modules/KVER/vmlinuz and modules.dep on disk (what depmod
//     writes for a kernel without modules: kernel-core lists it as %ghost and its %posttrans
//     runs depmod, which --noscripts skips); no kernel-install run. No kABI provides, except
//     on a real-size bed (realsize.go): there they carry Kernel94's.
//
// Both are built once per Packages and reused by every root; asking for more builds the rest.

// fillerSet caches the filler RPMs built so far.
type fillerSet struct {
	packages []string            // testbed-filler-00001 ... in order
	kernels  map[string][]string // per architecture: kernel-core-5.14.0-427.0.1.el9_4 ... in order
}

// FillerKernel returns the `uname -r` of extra kernel n (1-based) that AddKernels installs
// into an x86_64 root (an aarch64 root gets the same with .aarch64).
func FillerKernel(n int) string { return fillerKernel(n, "x86_64") }

func fillerKernel(n int, arch string) string { return fmt.Sprintf("5.14.0-427.0.%d.el9_4.%s", n, arch) }

// FillerRPMs returns the files of filler packages 1..n, building what is missing.
func (p *Packages) FillerRPMs(n int) ([]string, error) {
	p.groupMu.Lock()
	defer p.groupMu.Unlock()
	if n > len(p.fillers.packages) {
		p.mu.Lock()
		p.nextJob++
		id := fmt.Sprintf("filler-%d", p.nextJob)
		p.mu.Unlock()
		files, err := p.rpmbuild(job{id: id, spec: "filler.spec", defines: [][2]string{{"filler_count", fmt.Sprint(n)}}})
		if err != nil {
			return nil, fmt.Errorf("building %d filler packages: %w", n, err)
		}
		sort.Strings(files) // testbed-filler-%05d sorts by number
		p.fillers.packages = files
	}
	return append([]string(nil), p.fillers.packages[:n]...), nil
}

// FillerKernelRPMs returns the kernel-core files of x86_64 extra kernels 1..k, building what
// is missing.
func (p *Packages) FillerKernelRPMs(k int) ([]string, error) { return p.fillerKernelRPMs(k, "x86_64") }

func (p *Packages) fillerKernelRPMs(k int, arch string) ([]string, error) {
	p.groupMu.Lock()
	defer p.groupMu.Unlock()
	if p.fillers.kernels == nil {
		p.fillers.kernels = map[string][]string{}
	}
	// Real-size kernels carry provides the others lack: they are another set.
	set := arch
	if p.realSize {
		set += "/real-size"
	}
	var jobs []func() error
	have := len(p.fillers.kernels[set])
	built := make([]string, max(k, have))
	copy(built, p.fillers.kernels[set])
	target := ""
	if arch != "x86_64" {
		target = arch
	}
	for i := have + 1; i <= k; i++ {
		p.mu.Lock()
		p.nextJob++
		id := fmt.Sprintf("kernel-filler-%d", p.nextJob)
		p.mu.Unlock()
		prepare := func(src string) error { return os.WriteFile(filepath.Join(src, "provides.inc"), nil, 0o644) }
		if p.realSize && arch == "x86_64" {
			prepare = p.realSizeProvides
		}
		jobs = append(jobs, func() error {
			files, err := p.rpmbuild(job{id: id, spec: "kernel-filler.spec", target: target, prepare: prepare, defines: [][2]string{
				{"kversion", "5.14.0"}, {"krelease", fmt.Sprintf("427.0.%d.el9_4", i)}}})
			if err != nil {
				return err
			}
			built[i-1] = files[0]
			return nil
		})
	}
	if err := runParallel(2, jobs); err != nil {
		return nil, fmt.Errorf("building extra kernels: %w", err)
	}
	p.fillers.kernels[set] = built
	return append([]string(nil), built[:k]...), nil
}

// countInstalled counts the installed packages whose names start with prefix.
func (r *Root) countInstalled(prefix string) (int, error) {
	out, err := r.TryRPM("-qa", "--qf", "%{NAME}\n")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n, nil
}

// TryAddFiller makes the root's rpm database hold filler packages 1..n (see fillerSet),
// registering those it lacks in one `rpm -i --justdb` call. It is AddFiller for programs.
func (r *Root) TryAddFiller(n int) error {
	have, err := r.countInstalled("testbed-filler-")
	if err != nil {
		return err
	}
	if n <= have {
		return nil
	}
	files, err := r.Packages.FillerRPMs(n)
	if err != nil {
		return err
	}
	args := []string{"-i", "--justdb", "--nodeps", "--noscripts", "--nosignature", "--nodigest"}
	if _, err := r.TryRPM(append(args, files[have:]...)...); err != nil {
		return fmt.Errorf("registering filler packages: %w", err)
	}
	return nil
}

// AddFiller makes the root's rpm database hold n filler packages (testbed-filler-00001 ...),
// in the database only. It fails the test on error and logs how long it took.
func (r *Root) AddFiller(t testing.TB, n int) {
	t.Helper()
	start := time.Now()
	if err := r.TryAddFiller(n); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	t.Logf("testbed: %d filler packages in the rpm database (%s)", n, time.Since(start).Round(time.Millisecond))
}

// TryAddKernels installs extra kernels 1..k (FillerKernel(1) ...) that the root lacks, in one
// `rpm -i --nodeps --noscripts` call. It is AddKernels for programs.
func (r *Root) TryAddKernels(k int) error {
	arch := r.Arch
	if arch == "" {
		arch = "x86_64"
	}
	files, err := r.Packages.fillerKernelRPMs(k, arch)
	if err != nil {
		return err
	}
	var missing []string
	for i, f := range files {
		if !r.Exists(filepath.Join("/lib/modules", fillerKernel(i+1, arch), "vmlinuz")) {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	args := []string{"-i", "--oldpackage", "--nodeps", "--noscripts", "--nosignature", "--nodigest"}
	if arch != "x86_64" {
		args = append(args, "--ignorearch") // as the root's dnf.conf says ignorearch=True
	}
	if _, err := r.TryRPM(append(args, missing...)...); err != nil {
		return fmt.Errorf("installing extra kernels: %w", err)
	}
	return nil
}

// AddKernels installs k extra kernels (kernel-core of FillerKernel(1..k), of the root's
// architecture) into the root, with /lib/modules/KVER/vmlinuz but no scriptlets run. It fails
// the test on error.
func (r *Root) AddKernels(t testing.TB, k int) {
	t.Helper()
	start := time.Now()
	if err := r.TryAddKernels(k); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	t.Logf("testbed: %d extra kernels installed (%s)", k, time.Since(start).Round(time.Millisecond))
}
