package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Root is an install root that plays a freshly installed Rocky Linux 9.4 host: its own rpm
// database (/var/lib/rpm, sqlite), /etc/dnf/dnf.conf, the release packages with their repo
// files pointing at the bed's mirror, the Rocky key imported, and elrepo.repo (elrepo-kernel
// disabled) as elrepo-release would leave it.
type Root struct {
	// Dir is the install root (what zfsinstall gets as --root).
	Dir string
	// Home is the HOME for rpm and dnf on this root: its .rpmmacros sets %_dbpath to
	// /var/lib/rpm, as on EL (Debian's rpm defaults to ~/.rpmdb; TESTBED.md trap 1).
	Home string
	// Packages is the test bed the root's repositories point at.
	Packages *Packages
	// Arch is the architecture the root plays: "x86_64", or "aarch64" for NewRootArch.
	Arch string

	mounted bool // the /usr overlay is mounted (Close unmounts it)
}

var mountedRoots struct {
	sync.Mutex
	l []*Root
}

func registerMounted(r *Root) {
	mountedRoots.Lock()
	defer mountedRoots.Unlock()
	mountedRoots.l = append(mountedRoots.l, r)
}

// Close unmounts the root's /usr overlay (and whatever a test mounted below the root). NewRoot
// and NewRootArch register it with the test's cleanup; a program using NewRootAt calls it.
// The root's files stay; reading the root's /usr after Close shows only what its packages
// installed.
func (r *Root) Close() error {
	mountedRoots.Lock()
	was := r.mounted
	r.mounted = false
	mountedRoots.Unlock()
	if !was {
		return nil
	}
	return unmountUserland(r.Dir)
}

// copyAlternatives gives the root the machine's /etc/alternatives links (programs of the
// machine's /usr, awk among them, are links through it) and its openssl.cnf (openssl, which
// dkms runs to make its signing key, needs it).
func copyAlternatives(root string) error {
	if err := copyFile("/etc/ssl/openssl.cnf", filepath.Join(root, "etc", "ssl", "openssl.cnf"), 0o644); err != nil && !os.IsNotExist(err) {
		return err
	}
	entries, err := os.ReadDir("/etc/alternatives")
	if err != nil {
		return nil
	}
	dst := filepath.Join(root, "etc", "alternatives")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join("/etc/alternatives", e.Name()))
		if err != nil {
			continue
		}
		if err := os.Symlink(target, filepath.Join(dst, e.Name())); err != nil && !os.IsExist(err) {
			return err
		}
	}
	return nil
}

// dnfConf is EL9's /etc/dnf/dnf.conf (from dnf-data), which dnf reads from the install root.
const dnfConf = `[main]
gpgcheck=1
installonly_limit=3
clean_requirements_on_remove=True
best=True
skip_if_unavailable=False
`

// disabledPlugins are Debian's dnf plugins that write to the machine even under --installroot
// (TESTBED.md trap 2).
const disabledPlugins = "--disableplugin=local,show-leaves,generate_completion_cache"

// NewRoot makes a root in t.TempDir() (see NewRootAt) and fails the test on error.
func NewRoot(t testing.TB, p *Packages, install ...string) *Root {
	t.Helper()
	base := t.TempDir()
	r, err := newRoot(filepath.Join(base, "root"), filepath.Join(base, "home"), p, install)
	if r != nil {
		t.Cleanup(func() {
			if err := r.Close(); err != nil {
				t.Errorf("testbed: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	return r
}

// NewRootArch makes a root of another architecture in t.TempDir(): "aarch64" is the only one.
// It builds the aarch64 tree of the mirror the first time (Rocky's baseos, appstream and
// extras, EPEL and ELRepo, with aarch64 builds of bash, kmod and Kernel94Aarch64 and every
// noarch package; no OpenZFS repository, as upstream publishes EL packages for x86_64 only:
// openzfs/zfs#13266, #14511, #11089, #12463) and writes arch=, basearch= and ignorearch=True
// into the root's dnf.conf (what dnf --forcearch sets), so every dnf call on the root, the
// tool's included, resolves $basearch to aarch64. rpm records the packages' architecture:
// `rpm -q --qf %{ARCH} kernel-core` says aarch64. install names packages as for NewRoot, e.g.
// "kernel-5.14.0-427.13.1.el9_4". Scriptlets still run this machine's busybox.
func NewRootArch(t testing.TB, p *Packages, arch string, install ...string) *Root {
	t.Helper()
	base := t.TempDir()
	r, err := newRootArchChecked(filepath.Join(base, "root"), filepath.Join(base, "home"), p, arch, install)
	if r != nil {
		t.Cleanup(func() {
			if err := r.Close(); err != nil {
				t.Errorf("testbed: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	t.Logf("testbed: %s tree %s", arch, p.groupTook(arch))
	return r
}

// NewRootArchAt is NewRootArch for programs: the root at dir, HOME at dir+".home".
func NewRootArchAt(dir string, p *Packages, arch string, install ...string) (*Root, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return newRootArchChecked(dir, dir+".home", p, arch, install)
}

func newRootArchChecked(dir, home string, p *Packages, arch string, install []string) (*Root, error) {
	if _, ok := archRepos[arch]; !ok {
		return nil, fmt.Errorf("no %s tree in the test bed (have aarch64)", arch)
	}
	if _, err := p.buildGroup(arch); err != nil {
		return nil, fmt.Errorf("building the %s tree: %w", arch, err)
	}
	return newRootArch(dir, home, p, arch, install)
}

// NewRootAt makes an install root at dir, with HOME at dir+".home" (the caller calls Close when
// done: the root's /usr is an overlay mount, overlay.go): rpm --initdb, dnf.conf,
// then one real dnf transaction installing rocky-release, bash and the given packages (names,
// NEVRAs or RPM file paths, e.g. "kernel-core-5.14.0-427.13.1.el9_4") from the bed's
// repositories, the way an installer does: through a bootstrap repo configuration outside the
// root whose gpgkey lines name the bed's key files, so dnf imports exactly the keys of the
// vendors whose packages it installs (a root made with zfs packages has the OpenZFS key, one
// made without has not). Every repository is offered, elrepo-kernel included, but of zfs and
// zfs-kmod only zfs-kmod when an item starts with "kmod-zfs", else only zfs. Then it writes
// /etc/yum.repos.d/elrepo.repo and /etc/pki/rpm-gpg/RPM-GPG-KEY-elrepo.org (not imported).
func NewRootAt(dir string, p *Packages, install ...string) (*Root, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return newRoot(dir, dir+".home", p, install)
}

func newRoot(dir, home string, p *Packages, install []string) (*Root, error) {
	return newRootArch(dir, home, p, "x86_64", install)
}

// archConf is what a root of another architecture adds to dnf.conf: the dnf.conf(5) options
// --forcearch sets, so that every dnf call on the root (the tool's too) resolves $basearch
// to it and offers only its and noarch packages, and rpm installs them on this x86_64 machine.
func archConf(arch string) string {
	if arch == "x86_64" {
		return ""
	}
	return "# test bed: a root of another architecture (what dnf --forcearch=" + arch + " sets)\narch=" + arch +
		"\nbasearch=" + arch + "\nignorearch=True\n"
}

func newRootArch(dir, home string, p *Packages, arch string, install []string) (*Root, error) {
	r := &Root{Dir: dir, Home: home, Packages: p, Arch: arch}
	for _, d := range []string{filepath.Join(dir, "etc", "dnf"), filepath.Join(home, "bootstrap.repos.d")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := mountUserland(dir); err != nil {
		return nil, err
	}
	r.mounted = true
	registerMounted(r)
	if err := copyAlternatives(dir); err != nil {
		return r, err
	}
	if err := os.WriteFile(filepath.Join(home, ".rpmmacros"), []byte("%_dbpath /var/lib/rpm\n"), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "etc", "dnf", "dnf.conf"), []byte(dnfConf+archConf(arch)), 0o644); err != nil {
		return nil, err
	}
	if _, err := r.TryRPM("--initdb"); err != nil {
		return r, err
	}
	// The bootstrap offers the primary repositories under their real ids, so that the rpm
	// database and dnf history say @baseos, @zfs, ... as on a host. zfs and zfs-kmod both carry
	// the userland: only zfs-kmod is offered when kmod-zfs is asked for, else only zfs.
	skip := "zfs-kmod"
	for _, s := range install {
		if strings.HasPrefix(s, "kmod-zfs") {
			skip = "zfs"
		}
	}
	var repo strings.Builder
	for _, d := range repoDefs {
		if d.TwinOf != "" || d.ID == skip {
			continue
		}
		u, err := p.repoURLArch(d.ID, arch)
		if err != nil {
			continue // no such repository for this architecture (OpenZFS's)
		}
		fmt.Fprintf(&repo, "[%s]\nname=test bed bootstrap: %s\nbaseurl=%s\ngpgcheck=1\ngpgkey=file://%s\nenabled=1\n\n",
			d.ID, d.ID, u, p.Keys[d.Vendor].File)
	}
	reposd := filepath.Join(home, "bootstrap.repos.d")
	if err := os.WriteFile(filepath.Join(reposd, "bootstrap.repo"), []byte(repo.String()), 0o644); err != nil {
		return nil, err
	}
	pkgs := dedupe(append([]string{"rocky-release", "bash"}, install...))
	argv := []string{p.tools.DNF, "--installroot", dir, disabledPlugins, "-y",
		"--setopt=reposdir=" + reposd, "--releasever=9", "install"}
	if _, err := run(runOpts{Env: r.Env()}, append(argv, pkgs...)...); err != nil {
		return r, fmt.Errorf("installing the root's first packages: %w", err)
	}
	if err := r.writeELRepo(); err != nil {
		return r, err
	}
	p.register(r)
	return r, nil
}

func dedupe(l []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// writeELRepo writes what elrepo-release installs: elrepo.repo with the real sections
// (elrepo enabled, elrepo-kernel disabled) on the bed's mirror, and ELRepo's key file.
func (r *Root) writeELRepo() error {
	p := r.Packages
	repo := fmt.Sprintf(`### Name: ELRepo.org Community Enterprise Linux Repository for el9
### URL: https://elrepo.org/

[elrepo]
name=ELRepo.org Community Enterprise Linux Repository - el9
baseurl=%[1]s/elrepo/elrepo/el9/$basearch/
enabled=1
countme=1
gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-elrepo.org
protect=0

[elrepo-testing]
name=ELRepo.org Community Enterprise Linux Testing Repository - el9
baseurl=%[1]s/elrepo/testing/el9/$basearch/
enabled=0
countme=1
gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-elrepo.org
protect=0

[elrepo-kernel]
name=ELRepo.org Community Enterprise Linux Kernel Repository - el9
baseurl=%[1]s/elrepo/kernel/el9/$basearch/
enabled=0
countme=1
gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-elrepo.org
protect=0

[elrepo-extras]
name=ELRepo.org Community Enterprise Linux Extras Repository - el9
baseurl=%[1]s/elrepo/extras/el9/$basearch/
enabled=0
countme=1
gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-elrepo.org
protect=0
`, p.Mirror)
	if err := os.WriteFile(filepath.Join(r.Dir, "etc", "yum.repos.d", "elrepo.repo"), []byte(repo), 0o644); err != nil {
		return err
	}
	return copyFile(p.Keys["elrepo"].File, filepath.Join(r.Dir, "etc", "pki", "rpm-gpg", "RPM-GPG-KEY-elrepo.org"), 0o644)
}

// Env is the environment for rpm and dnf on this root: HOME with the .rpmmacros that puts the
// rpm database at /var/lib/rpm, a system PATH and the C locale. Append it to a command's
// environment (later entries win in os/exec) when running zfsinstall against the root.
func (r *Root) Env() []string { return baseEnv(r.Home) }

// DNFArgs are the options every dnf call on this root needs: --installroot, -y (without it
// and without stdin dnf aborts), and the Debian plugins that write to the machine disabled.
// Nothing else: with --installroot dnf reads /etc/dnf/dnf.conf, /etc/yum.repos.d and
// /etc/dnf/vars from the root, and $releasever comes from the root's rocky-release.
func (r *Root) DNFArgs() []string {
	return []string{"--installroot", r.Dir, disabledPlugins, "-y"}
}

// TryDNF runs the machine's dnf on the root and returns its combined output and error.
func (r *Root) TryDNF(args ...string) (string, error) {
	argv := append([]string{r.Packages.tools.DNF}, r.DNFArgs()...)
	return run(runOpts{Env: r.Env()}, append(argv, args...)...)
}

// DNF runs dnf on the root, fails the test on error and returns the output.
func (r *Root) DNF(t testing.TB, args ...string) string {
	t.Helper()
	out, err := r.TryDNF(args...)
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	return out
}

// TryRPM runs rpm --root on the root.
func (r *Root) TryRPM(args ...string) (string, error) {
	argv := []string{r.Packages.tools.RPM, "--root", r.Dir}
	return run(runOpts{Env: r.Env()}, append(argv, args...)...)
}

// RPM runs rpm --root on the root, fails the test on error and returns the output. Mind that
// rpm -q exits with the number of packages not installed.
func (r *Root) RPM(t testing.TB, args ...string) string {
	t.Helper()
	out, err := r.TryRPM(args...)
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	return out
}

// Installed lists the installed packages as name-version-release.arch, sorted, without the
// gpg-pubkey pseudo-packages (see ImportedKeys).
func (r *Root) Installed(t testing.TB) []string {
	t.Helper()
	out := r.RPM(t, "-qa", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\n")
	var l []string
	for _, s := range strings.Split(out, "\n") {
		if s != "" && !strings.HasPrefix(s, "gpg-pubkey-") {
			l = append(l, s)
		}
	}
	sort.Strings(l)
	return l
}

// ImportedKeys lists the key IDs (8 lower-case hex digits) imported into the root's rpm
// database, sorted.
func (r *Root) ImportedKeys(t testing.TB) []string {
	t.Helper()
	out, err := r.TryRPM("-q", "gpg-pubkey", "--qf", "%{VERSION}\n")
	if err != nil && !strings.Contains(out, "is not installed") {
		t.Fatalf("testbed: %v", err)
	}
	var l []string
	for _, s := range strings.Split(out, "\n") {
		if s != "" && !strings.Contains(s, "not installed") {
			l = append(l, s)
		}
	}
	sort.Strings(l)
	return l
}

// ImportKey imports a key file that lives in the root (e.g.
// "/etc/pki/rpm-gpg/RPM-GPG-KEY-openzfs-el-9") into the root's rpm database, as zfsinstall
// must: dnf reads gpgkey=file:// URLs from the machine, not from the root (TESTBED.md trap 7).
func (r *Root) ImportKey(t testing.TB, pathInRoot string) {
	t.Helper()
	r.RPM(t, "--import", filepath.Join(r.Dir, pathInRoot))
}

// TryChroot runs a program inside the root (chroot, the root's own /bin/sh and tools), with
// the scriptlet PATH.
func (r *Root) TryChroot(args ...string) (string, error) {
	argv := append([]string{r.Packages.tools.Chroot, r.Dir}, args...)
	return run(runOpts{Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LC_ALL=C"}}, argv...)
}

// Chroot runs a program inside the root and fails the test on error.
func (r *Root) Chroot(t testing.TB, args ...string) string {
	t.Helper()
	out, err := r.TryChroot(args...)
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	return out
}

// TryModinfo runs the machine's modinfo on the root: modinfo -b ROOT -k KVER -F FIELD module.
func (r *Root) TryModinfo(kver, field, module string) (string, error) {
	out, err := run(runOpts{Env: r.Env()}, r.Packages.tools.Modinfo, "-b", r.Dir, "-k", kver, "-F", field, module)
	return strings.TrimSpace(out), err
}

// ReadFile reads a file of the root ("/var/lib/dkms-test/calls.log").
func (r *Root) ReadFile(t testing.TB, pathInRoot string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.Dir, pathInRoot))
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	return string(b)
}

// Exists says whether a path exists in the root (symlinks not followed).
func (r *Root) Exists(pathInRoot string) bool {
	_, err := os.Lstat(filepath.Join(r.Dir, pathInRoot))
	return err == nil
}

// killFile is read by the %pre of zfs, zfs-dkms and kmod-zfs: a line with the package's name
// makes that %pre kill -9 its parent, the dnf process that runs the transaction in-process
// through librpm.
const killFile = "/var/lib/zfs-test/kill-dnf"

// ArmKill makes the next transaction that installs one of pkgs (default zfs-dkms; also zfs
// or kmod-zfs) die by SIGKILL in that package's %pre, leaving a half-done transaction: the
// packages ordered before it installed, it and those after not. The %pre records
// "<name> <pid>" in /var/lib/zfs-test/killed.log. DisarmKill undoes it.
func (r *Root) ArmKill(t testing.TB, pkgs ...string) {
	t.Helper()
	if len(pkgs) == 0 {
		pkgs = []string{"zfs-dkms"}
	}
	f := filepath.Join(r.Dir, killFile)
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, []byte(strings.Join(pkgs, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// DisarmKill removes what ArmKill set up.
func (r *Root) DisarmKill(t testing.TB) {
	t.Helper()
	if err := os.Remove(filepath.Join(r.Dir, killFile)); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
}

// ExpireCache drops the root's dnf metadata cache, as `dnf clean all` would: dnf caches
// file:// repositories too and honours metadata_expire (6h for Rocky, 7d for zfs.repo), so
// without this a changed mirror goes unnoticed. The fault helpers call it for every root of
// their Packages.
func (r *Root) ExpireCache() error {
	entries, err := os.ReadDir(filepath.Join(r.Dir, "var", "cache", "dnf"))
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(r.Dir, "var", "cache", "dnf", e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// runningKernelFile holds the root's running kernel for the bed's uname (SetRunningKernel).
const runningKernelFile = "/var/lib/zfs-test/running-kernel"

// unameWrapper stands in for uname in a root whose running kernel is set: a chroot cannot boot
// a kernel, and programs in it that ask `uname -r` (dkms without -k: zfs-dkms's %post runs
// "dkms install --force -m zfs -v VERSION", and modprobe_on_install's "is it the running
// kernel") get the machine's. Everything else is the machine's real uname.
const unameWrapper = `#!/bin/bash
# Test bed (Root.SetRunningKernel): uname -r answers the root's running kernel.
if [ "$1" = "-r" ] && [ $# -eq 1 ] && [ -s ` + runningKernelFile + ` ]; then
	cat ` + runningKernelFile + `
	exit 0
fi
exec /usr/lib/testbed/uname "$@"
`

// SetRunningKernel makes kver the root's running kernel for the programs run in it: `uname -r`
// inside the root answers kver (unameWrapper), so real dkms without -k (zfs-dkms's %post)
// builds for it. zfsinstall's own uname(2) call is unchanged: it reads the machine's kernel,
// and plans for a root from its rpm database.
func (r *Root) SetRunningKernel(t testing.TB, kver string) {
	t.Helper()
	f := filepath.Join(r.Dir, runningKernelFile)
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	if err := os.WriteFile(f, []byte(kver+"\n"), 0o644); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	real := filepath.Join(r.Dir, "usr/lib/testbed/uname")
	if err := copyFile("/usr/bin/uname", real, 0o755); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	if err := os.WriteFile(filepath.Join(r.Dir, "usr/bin/uname"), []byte(unameWrapper), 0o755); err != nil {
		t.Fatalf("testbed: %v", err)
	}
}

// UnpackRoot makes a root from a root filesystem tarball (tar -xJf/-xzf, as root, keeping
// owners and modes) in t.TempDir(): for the real AlmaLinux container images in
// testdata/upstream/rootfs/ (AlmaLinux 9.3 aarch64 with a sqlite rpm database, AlmaLinux 8.9
// s390x with a BerkeleyDB one). rpm reads its database (Root.RPM, Env), files read as usual;
// Arch is the architecture of its first arch-specific package. Its repo files and dnf.conf
// are the image's own: dnf on it needs the real mirrors, which tests do not have, and nothing
// in it runs on this machine (chroot fails: its binaries are of its architecture).
func UnpackRoot(t testing.TB, p *Packages, tarball string) *Root {
	t.Helper()
	base := t.TempDir()
	r := &Root{Dir: filepath.Join(base, "root"), Home: filepath.Join(base, "home"), Packages: p}
	for _, d := range []string{r.Dir, r.Home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("testbed: %v", err)
		}
	}
	if err := os.WriteFile(filepath.Join(r.Home, ".rpmmacros"), []byte("%_dbpath /var/lib/rpm\n"), 0o644); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	tar, err := lookSystem("tar")
	if err != nil {
		t.Fatalf("testbed: no tar: %v", err)
	}
	if _, err := run(runOpts{}, tar, "-xaf", tarball, "-C", r.Dir, "--numeric-owner"); err != nil {
		t.Fatalf("testbed: unpacking %s: %v", tarball, err)
	}
	out, err := r.TryRPM("-qa", "--qf", "%{ARCH}\n")
	if err != nil {
		t.Fatalf("testbed: reading the rpm database of %s: %v", tarball, err)
	}
	for _, a := range strings.Fields(out) {
		if a != "noarch" && a != "(none)" {
			r.Arch = a
			break
		}
	}
	return r
}
