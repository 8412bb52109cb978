package testbed

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Real-size metadata (issue 19 item 3, issue 23): a bed whose repositories are the size of a
// real EL9 host's, so that what dnf costs (it loads the metadata of every enabled repository
// each time it starts) and what zfsinstall's memory does are measured where real hosts are.
//
//   - baseos, appstream and epel get filler packages up to RealSizeRepos (BaseOS about 1,100
//     packages, AppStream about 5,700, EPEL about 20,000: the sizes the issues give), from
//     specs/repo-filler.spec, and their metadata is written again. Filler packages are noarch
//     and unsigned (nothing requires them, so dnf never installs one; dnf checks signatures of
//     what it installs, not of what it loads).
//   - They are built once per machine, cached by content (the spec, the sizes and rpmbuild's
//     version) in $TMPDIR/zfsinstall-testbed-realsize, and hard-linked into the mirror: the
//     first build takes about a minute on the 2-core machine, later ones a few seconds (linking
//     and createrepo_c).
//   - Extra kernels (Root.TryAddKernels) built after TryRealSize carry the real-size kABI
//     provides of Kernel94's tree (about 10,500 kernel(SYMBOL) = CRC, what the bed's own
//     kernels carry), so a host with three kernels reads three kernels' worth.
//
// `make test` never builds it: only make bench (zibench -beds real) and mkbed -real-size do.

// RealSizeRepos are the repository sizes of the real-size bed, in packages (filler included).
var RealSizeRepos = []struct {
	ID       string
	Packages int
}{{"baseos", 1100}, {"appstream", 5700}, {"epel", 20000}}

// realSizeChunk is how many filler packages one rpmbuild run makes: rpmbuild's time grows
// faster than linearly with subpackages, and chunks build two at a time.
const realSizeChunk = 1000

var realSizeCache struct {
	sync.Mutex
	dir string // the finished cache directory of this binary's build
	err error
}

// TryRealSize makes the bed's repositories real-size (see above) and expires the dnf caches
// of the roots made so far. A second call does nothing. It changes the shared mirror like the
// fault helpers do: call it before making roots, or on a private bed.
func (p *Packages) TryRealSize() error {
	p.groupMu.Lock()
	defer p.groupMu.Unlock()
	if p.realSize {
		return nil
	}
	start := time.Now()
	cache, err := p.realSizeRPMs()
	if err != nil {
		return err
	}
	var jobs []func() error
	for _, r := range RealSizeRepos {
		dest, err := p.RepoDir(r.ID)
		if err != nil {
			return err
		}
		files, err := filepath.Glob(filepath.Join(cache, r.ID, "*.rpm"))
		if err != nil {
			return err
		}
		for _, f := range files {
			if err := linkOrCopy(f, filepath.Join(dest, filepath.Base(f))); err != nil {
				return err
			}
		}
		jobs = append(jobs, func() error { return p.createrepoDir(r.ID, dest) })
	}
	if err := runParallel(2, jobs); err != nil {
		return err
	}
	p.realSize = true
	p.Timings.RealSize = time.Since(start)
	p.mu.Lock()
	roots := append([]*Root(nil), p.roots...)
	p.mu.Unlock()
	for _, r := range roots {
		if err := r.ExpireCache(); err != nil {
			return err
		}
	}
	return nil
}

// RealSize is TryRealSize for tests; it fails the test on error.
func (p *Packages) RealSize(t testing.TB) {
	t.Helper()
	if err := p.TryRealSize(); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	t.Logf("testbed: real-size repositories in %s", p.Timings.RealSize.Round(time.Millisecond))
}

// IsRealSize says whether TryRealSize made the bed's repositories real-size.
func (p *Packages) IsRealSize() bool {
	p.groupMu.Lock()
	defer p.groupMu.Unlock()
	return p.realSize
}

// realSizeCounts are the filler packages each repository gets: its real size less the bed's
// own packages in it.
func (p *Packages) realSizeCounts() (map[string]int, error) {
	out := map[string]int{}
	for _, r := range RealSizeRepos {
		d, err := p.RepoDir(r.ID)
		if err != nil {
			return nil, err
		}
		own, err := filepath.Glob(filepath.Join(d, "*.rpm"))
		if err != nil {
			return nil, err
		}
		out[r.ID] = max(r.Packages-len(own), 0)
	}
	return out, nil
}

// realSizeRPMs returns the cache directory holding REPO/*.rpm for every real-size repository,
// building it the first time on this machine.
func (p *Packages) realSizeRPMs() (string, error) {
	realSizeCache.Lock()
	defer realSizeCache.Unlock()
	if realSizeCache.dir != "" || realSizeCache.err != nil {
		return realSizeCache.dir, realSizeCache.err
	}
	counts, err := p.realSizeCounts()
	if err != nil {
		return "", err
	}
	spec, err := specFS.ReadFile("specs/repo-filler.spec")
	if err != nil {
		return "", err
	}
	version, err := run(runOpts{Env: baseEnv(p.home)}, p.tools.RPMBuild, "--version")
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00", spec, version, realSizeChunk)
	for _, r := range RealSizeRepos {
		fmt.Fprintf(h, "%s=%d\x00", r.ID, counts[r.ID])
	}
	key := hex.EncodeToString(h.Sum(nil))[:20]
	root := filepath.Join(os.TempDir(), "zfsinstall-testbed-realsize")
	dir := filepath.Join(root, key)
	if complete(dir, counts) {
		realSizeCache.dir = dir
		return dir, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(root, key+".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := p.buildRealSize(tmp, counts); err != nil {
		realSizeCache.err = fmt.Errorf("building the real-size filler packages: %w", err)
		return "", realSizeCache.err
	}
	// Another process may have finished the same build meanwhile: either copy is good.
	if err := os.Rename(tmp, dir); err != nil && !complete(dir, counts) {
		return "", err
	}
	realSizeCache.dir = dir
	return dir, nil
}

// complete says whether a cache directory holds every filler package.
func complete(dir string, counts map[string]int) bool {
	for id, n := range counts {
		files, err := filepath.Glob(filepath.Join(dir, id, "*.rpm"))
		if err != nil || len(files) != n {
			return false
		}
	}
	return true
}

// buildRealSize builds the filler packages into dir/REPO/, realSizeChunk per rpmbuild run,
// two runs at a time.
func (p *Packages) buildRealSize(dir string, counts map[string]int) error {
	var jobs []func() error
	ids := make([]string, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		out := filepath.Join(dir, id)
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		for first := 1; first <= counts[id]; first += realSizeChunk {
			n := min(realSizeChunk, counts[id]-first+1)
			p.mu.Lock()
			p.nextJob++
			jobID := fmt.Sprintf("realsize-%s-%d-%d", id, first, p.nextJob)
			p.mu.Unlock()
			jobs = append(jobs, func() error {
				files, err := p.rpmbuild(job{id: jobID, spec: "repo-filler.spec", defines: [][2]string{
					{"repo", id}, {"first", fmt.Sprint(first)}, {"count", fmt.Sprint(n)},
					// no payload to compress; rpmbuild's default zstd level costs per package
					{"_binary_payload", "w0.ufdio"},
					// One thread: rpmbuild packs subpackages with OpenMP threads, which spin
					// while waiting; two builds side by side on two cores took ten times
					// the CPU time of one (1,000 packages: 11 s each instead of 1.2 s).
					{"_smp_build_nthreads", "1"}}})
				if err != nil {
					return err
				}
				if len(files) != n {
					return fmt.Errorf("rpmbuild of %s made %d packages, want %d", jobID, len(files), n)
				}
				for _, f := range files {
					if err := os.Rename(f, filepath.Join(out, filepath.Base(f))); err != nil {
						return err
					}
				}
				return errors.Join(os.RemoveAll(filepath.Join(p.Dir, "build", "rpmbuild-"+jobID)),
					os.RemoveAll(filepath.Join(p.Dir, "src", "job-"+jobID)))
			})
		}
	}
	return runParallel(2, jobs)
}

// linkOrCopy hard-links src to dst, or copies it where a link cannot be made (another file
// system).
func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil || errors.Is(err, fs.ErrExist) {
		return nil
	}
	return copyFile(src, dst, 0o644)
}

// realSizeProvides writes the kABI provides of Kernel94's tree (rpm's kabi.sh format, as
// provides.inc) for a real-size extra kernel.
func (p *Packages) realSizeProvides(src string) error {
	k, ok := kernelByUnameR(Kernel94)
	if !ok {
		return fmt.Errorf("no kernel %s in the bed", Kernel94)
	}
	t, err := p.tree(k)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, pr := range kabiProvides(t.Symvers) {
		b.WriteString("Provides: " + pr + "\n")
	}
	return os.WriteFile(filepath.Join(src, "provides.inc"), []byte(b.String()), 0o644)
}
