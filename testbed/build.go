package testbed

import (
	"embed"
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

//go:embed specs
var specFS embed.FS

// zfsOrgPrefix is what the real zfs.repo's baseurls start with; the bed's zfs-release points
// the same paths at its mirror.
const zfsOrgPrefix = "http://download.zfsonlinux.org/"

// Key is one of the bed's throwaway signing keys.
type Key struct {
	Vendor      string // rocky, epel, elrepo, openzfs (or rogue: signs nothing by default)
	File        string // armored public key
	Fingerprint string // 40 hex digits, upper case
	KeyID       string // the last 8 hex digits, lower case, as in gpg-pubkey-<keyid>
}

// Packages is a built test bed: signed RPMs, the mirror of repositories that carry them, the
// zfs-release RPM as a file and the public keys. It is read-only for tests except through the
// fault helpers (BreakRepo, AddUnsigned, AddSigned, RemoveFromRepo), which change the shared
// mirror: tests that use them must not run in parallel with other tests using the same
// Packages (use BuildPrivate for a private copy).
type Packages struct {
	// Dir holds everything: repos/ (the mirror), rpms/, keys/, specs/, src/, build/.
	Dir string
	// Mirror is the file:// URL of the mirror (Dir/repos), standing in for the real hosts.
	Mirror string
	// RepoURL returns the baseurl of a repository by dnf repo id ("baseos", "zfs-kmod", ...),
	// with $releasever and $basearch expanded (9, x86_64); it panics on an unknown id.
	RepoURL func(name string) string
	// ZFSRelease is the path of zfs-release-3-0.el9.noarch.rpm, which is in no repository:
	// like the real one it is installed from a file or URL.
	ZFSRelease string
	// ZFSReleaseURL is a file:// URL of the same RPM on the mirror, at the real download path
	// (https://zfsonlinux.org/epel/zfs-release-3-0.el9.noarch.rpm -> Mirror/zfsonlinux.org/epel/...).
	ZFSReleaseURL string
	// KeyFile is the armored public key of the bed's OpenZFS signing key (the one zfs-release
	// installs as RPM-GPG-KEY-openzfs-2022 and -el-9).
	KeyFile string
	// Keys are all signing keys by vendor.
	Keys map[string]Key
	// RPMs maps "name-version-release.arch" to the signed RPM file.
	RPMs map[string]string
	// Timings says how long each build phase took.
	Timings Timings

	tools     tools
	home      string // HOME for rpmbuild, rpmsign, createrepo_c
	gnupg     string // GNUPGHOME holding the secret keys
	mu        sync.Mutex
	nextJob   int
	roots     []*Root     // roots made from these packages, whose dnf caches faults expire
	baseBuilt []jobResult // the base build's jobs, to fill other architectures' trees later

	groupMu  sync.Mutex
	groups   map[string]*groupBuild // groups built on demand (buildGroup)
	fillers  fillerSet
	realSize bool // TryRealSize made the repositories real-size (realsize.go)
}

// groupBuild is the result of building a group of kernels (and, for an architecture, its
// base packages) on demand.
type groupBuild struct {
	err  error
	rpms map[string]string // "name-version-release.arch" -> file
	took time.Duration
}

// Timings are the durations of BuildTo's phases.
type Timings struct {
	Keys, Modules, RPMBuild, Sign, Createrepo, Total time.Duration
	RPMCount                                         int
	// RealSize is how long TryRealSize took (0 when not called).
	RealSize time.Duration
}

func (t Timings) String() string {
	r := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	s := fmt.Sprintf("%d RPMs in %s: keys %s, header trees+modules %s, rpmbuild %s, rpmsign %s, createrepo_c %s",
		t.RPMCount, r(t.Total), r(t.Keys), r(t.Modules), r(t.RPMBuild), r(t.Sign), r(t.Createrepo))
	if t.RealSize > 0 {
		s += "; real-size repositories " + r(t.RealSize)
	}
	return s
}

var shared struct {
	once sync.Once
	p    *Packages
	err  error
}

// Build returns the test binary's shared test bed, building it on first use (into a directory
// under os.TempDir() that outlives single tests; call Cleanup from TestMain to remove it).
// It skips or fails the test like Require when the machine cannot host the bed.
func Build(t testing.TB) *Packages {
	t.Helper()
	Require(t)
	first := false
	shared.once.Do(func() {
		first = true
		dir, err := os.MkdirTemp("", "zfsinstall-testbed-")
		if err != nil {
			shared.err = err
			return
		}
		shared.p, shared.err = BuildTo(dir)
	})
	if shared.err != nil {
		t.Fatalf("testbed: %v", shared.err)
	}
	if first {
		t.Logf("testbed: built %s", shared.p.Timings)
	}
	return shared.p
}

// BuildPrivate builds a test bed of the test's own in t.TempDir(), for tests that change
// repositories while other tests run.
func BuildPrivate(t testing.TB) *Packages {
	t.Helper()
	Require(t)
	p, err := BuildTo(filepath.Join(t.TempDir(), "bed"))
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	t.Cleanup(p.Close)
	t.Logf("testbed: built private bed %s", p.Timings)
	return p
}

// Cleanup removes the shared test bed built by Build, if any. Call it from TestMain after
// m.Run.
func Cleanup() {
	mountedRoots.Lock()
	roots := append([]*Root(nil), mountedRoots.l...)
	mountedRoots.Unlock()
	for _, r := range roots {
		r.Close()
	}
	if shared.p != nil {
		shared.p.Close()
		os.RemoveAll(shared.p.Dir)
	}
}

// Close stops the gpg-agent the bed started and removes the secret keys (AddSigned stops
// working; everything else goes on). Build's packages are closed by Cleanup, BuildPrivate's by
// the test's cleanup; a program that called BuildTo calls Close when done.
func (p *Packages) Close() {
	if p.gnupg == "" {
		return
	}
	p.stopAgent()
	os.RemoveAll(p.gnupg)
	p.gnupg = ""
}

// BuildTo builds the test bed into dir (created if missing; previous contents are replaced).
// It is what Build calls, for programs such as the demo that have no testing.TB.
func BuildTo(dir string) (*Packages, error) {
	start := time.Now()
	tl, err := findTools()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for _, sub := range []string{"repos", "rpms", "keys", "specs", "src", "build", "home"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	p := &Packages{
		Dir:    dir,
		Mirror: "file://" + filepath.Join(dir, "repos"),
		Keys:   map[string]Key{},
		RPMs:   map[string]string{},
		tools:  tl,
		home:   filepath.Join(dir, "home"),
		groups: map[string]*groupBuild{},
	}
	p.RepoURL = func(name string) string {
		u, err := p.repoURL(name)
		if err != nil {
			panic(err)
		}
		return u
	}
	ok := false
	defer func() {
		if !ok {
			p.Close()
		}
	}()
	if err := p.writeSpecs(); err != nil {
		return nil, err
	}

	t0 := time.Now()
	if err := p.makeKeys(); err != nil {
		return nil, fmt.Errorf("making keys: %w", err)
	}
	p.Timings.Keys = time.Since(t0)

	t0 = time.Now()
	if err := p.precompile(""); err != nil {
		return nil, fmt.Errorf("compiling the test kernel modules: %w", err)
	}
	p.Timings.Modules = time.Since(t0)

	t0 = time.Now()
	jobs, err := p.jobs()
	if err != nil {
		return nil, err
	}
	built, err := p.runJobs(jobs)
	if err != nil {
		return nil, err
	}
	p.Timings.RPMBuild = time.Since(t0)

	t0 = time.Now()
	if err := p.sign(built); err != nil {
		return nil, err
	}
	p.stopAgent()
	p.Timings.Sign = time.Since(t0)

	t0 = time.Now()
	if err := p.makeRepos(built); err != nil {
		return nil, err
	}
	p.Timings.Createrepo = time.Since(t0)

	for _, b := range built {
		for _, f := range b.files {
			p.RPMs[strings.TrimSuffix(filepath.Base(f), ".rpm")] = f
		}
	}
	p.baseBuilt = built
	p.Timings.RPMCount = len(p.RPMs)
	p.ZFSRelease = p.RPMs["zfs-release-3-0.el9.noarch"]
	if p.ZFSRelease == "" {
		return nil, fmt.Errorf("zfs-release-3-0.el9.noarch.rpm was not built")
	}
	rel := filepath.Join(p.Dir, "repos", "zfsonlinux.org", "epel", filepath.Base(p.ZFSRelease))
	if err := os.MkdirAll(filepath.Dir(rel), 0o755); err != nil {
		return nil, err
	}
	if err := os.Link(p.ZFSRelease, rel); err != nil {
		return nil, err
	}
	p.ZFSReleaseURL = "file://" + rel
	p.KeyFile = p.Keys["openzfs"].File
	p.Timings.Total = time.Since(start)
	ok = true
	return p, nil
}

// writeSpecs copies the embedded spec files and scripts to Dir/specs.
func (p *Packages) writeSpecs() error {
	return fs.WalkDir(specFS, "specs", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(p.Dir, path)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := specFS.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}

func (p *Packages) repoURL(name string) (string, error) {
	return p.repoURLArch(name, "x86_64")
}

func (p *Packages) repoURLArch(name, arch string) (string, error) {
	path, err := repoPath(name, arch)
	if err != nil {
		return "", err
	}
	return p.Mirror + "/" + path + "/", nil
}

// RepoDir returns the directory of an x86_64 repository by dnf repo id.
func (p *Packages) RepoDir(name string) (string, error) {
	return p.RepoDirArch(name, "x86_64")
}

// RepoDirArch returns the directory of a repository by dnf repo id and architecture
// ("x86_64", or "aarch64" for the repositories in archRepos).
func (p *Packages) RepoDirArch(name, arch string) (string, error) {
	path, err := repoPath(name, arch)
	if err != nil {
		return "", err
	}
	return filepath.Join(p.Dir, "repos", filepath.FromSlash(path)), nil
}

// Fingerprint returns the OpenZFS key's fingerprint (what zfsinstall must pin in tests instead
// of the real 7DC7 299D ... 9DB8 4141).
func (p *Packages) Fingerprint() string { return p.Keys["openzfs"].Fingerprint }

// List lists the built RPMs ("name-version-release.arch"), sorted.
func (p *Packages) List() []string {
	var l []string
	for k := range p.RPMs {
		l = append(l, k)
	}
	sort.Strings(l)
	return l
}

// buildGroup builds a group of kernels the base build leaves out (kernelDef.group: "fit",
// "aarch64") the first time it is asked for, signs the RPMs and, for an architecture, makes its
// repositories. Later calls return the first call's result.
func (p *Packages) buildGroup(group string) (*groupBuild, error) {
	p.groupMu.Lock()
	defer p.groupMu.Unlock()
	if g, ok := p.groups[group]; ok {
		return g, g.err
	}
	start := time.Now()
	g := &groupBuild{rpms: map[string]string{}}
	p.groups[group] = g
	g.err = func() error {
		if err := p.precompile(group); err != nil {
			return fmt.Errorf("compiling the modules of group %s: %w", group, err)
		}
		built, err := p.runJobs(p.groupJobs(group))
		if err != nil {
			return err
		}
		err = p.sign(built)
		p.stopAgent()
		if err != nil {
			return err
		}
		if _, ok := archRepos[group]; ok {
			if err := p.makeArchRepos(group, append(append([]jobResult{}, p.baseBuilt...), built...)); err != nil {
				return err
			}
		}
		for _, b := range built {
			for _, f := range b.files {
				g.rpms[strings.TrimSuffix(filepath.Base(f), ".rpm")] = f
			}
		}
		return nil
	}()
	g.took = time.Since(start)
	return g, g.err
}

// KernelRPMs returns the RPM files of one of the bed's kernels by `uname -r` (kernel,
// kernel-core, kernel-modules-core, kernel-modules; not -devel), building its group first if
// needed, and fails the test on error. It is how a test installs Kernel95Fit, which is in no
// repository: NewRoot(t, p, p.KernelRPMs(t, testbed.Kernel95Fit)...).
func (p *Packages) KernelRPMs(t testing.TB, kver string) []string {
	t.Helper()
	files, err := p.TryKernelRPMs(kver)
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	if k, _ := kernelByUnameR(kver); k.group != "" {
		t.Logf("testbed: kernel group %s: %s", k.group, p.groupTook(k.group))
	}
	return files
}

// groupTook says how long building a group took.
func (p *Packages) groupTook(group string) string {
	p.groupMu.Lock()
	defer p.groupMu.Unlock()
	if g, ok := p.groups[group]; ok {
		return "built in " + g.took.Round(time.Millisecond).String()
	}
	return "not built"
}

// TryKernelRPMs is KernelRPMs for programs.
func (p *Packages) TryKernelRPMs(kver string) ([]string, error) {
	k, ok := kernelByUnameR(kver)
	if !ok {
		return nil, fmt.Errorf("no kernel %q in the test bed", kver)
	}
	rpms := p.RPMs
	if k.group != "" {
		g, err := p.buildGroup(k.group)
		if err != nil {
			return nil, fmt.Errorf("building %s: %w", kver, err)
		}
		rpms = g.rpms
	}
	var files []string
	for _, n := range []string{k.spec, k.spec + "-core", k.spec + "-modules-core", k.spec + "-modules"} {
		if f, ok := rpms[n+"-"+k.version+"-"+k.release+"."+k.targetArch()]; ok {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no RPMs for kernel %s", kver)
	}
	return files, nil
}
