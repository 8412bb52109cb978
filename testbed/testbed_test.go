package testbed

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The smoke suite proves the bed's packages behave like the real ones, with plain dnf and rpm
// (no zfsinstall). TestMain checks that the machine's own package management is untouched.
func TestMain(m *testing.M) {
	before, snapErr := TakeMachineSnapshot()
	code := m.Run()
	if snapErr == nil {
		if d, err := before.Diff(); err != nil {
			fmt.Fprintf(os.Stderr, "testbed: machine snapshot: %v\n", err)
			code = 1
		} else if d != "" {
			fmt.Fprintf(os.Stderr, "testbed: the tests changed the machine's package management (-before +after):\n%s\n", d)
			code = 1
		}
	}
	Cleanup()
	os.Exit(code)
}

// timed logs how long a step took.
func timed(t *testing.T, what string, f func()) {
	t.Helper()
	start := time.Now()
	f()
	t.Logf("%-60s %v", what, time.Since(start).Round(time.Millisecond))
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func mustContain(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, out)
		}
	}
}

// dnfFails runs dnf expecting failure and returns the output.
func dnfFails(t *testing.T, r *Root, args ...string) string {
	t.Helper()
	out, err := r.TryDNF(args...)
	if err == nil {
		t.Fatalf("dnf %s succeeded, want failure:\n%s", strings.Join(args, " "), out)
	}
	return out
}

func TestPackagesAreSignedByTheirVendors(t *testing.T) {
	p := Build(t)
	want := map[string]string{
		"zfs-2.2.7-1.el9.x86_64":                     "openzfs",
		"zfs-dkms-2.2.8-1.el9.noarch":                "openzfs",
		"kmod-zfs-2.2.7-1.el9.x86_64":                "openzfs",
		"zfs-release-3-0.el9.noarch":                 "openzfs",
		"dkms-3.0.13-1.el9.noarch":                   "epel",
		"dkms-3.2.0-1.el9.noarch":                    "epel",
		"kmod-zfs-2.1.15-2.el9.x86_64":               "openzfs",
		"zfs-dkms-2.1.16-1.el9.noarch":               "openzfs",
		"kernel-core-5.14.0-570.17.1.el9_6.x86_64":   "rocky",
		"gcc-11.4.1-3.el9.noarch":                    "rocky",
		"kernel-lt-devel-6.1.80-1.el9.elrepo.x86_64": "elrepo",
		"kernel-core-5.14.0-427.13.1.el9_4.x86_64":   "rocky",
		"epel-release-9-8.el9.noarch":                "rocky",
		"bash-5.1.8-9.el9.x86_64":                    "rocky",
	}
	for nevra, vendor := range want {
		f, ok := p.RPMs[nevra]
		if !ok {
			t.Errorf("%s was not built; have %v", nevra, p.List())
			continue
		}
		out, err := run(runOpts{Env: baseEnv(p.home)}, p.tools.RPM, "-qp", "--qf", "%{RSAHEADER:pgpsig}", f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.ToLower(out), "key id "+p.Keys[vendor].KeyID) {
			t.Errorf("%s: signature %q, want key %s (%s)", nevra, out, p.Keys[vendor].KeyID, vendor)
		}
	}
	if p.ZFSRelease == "" || filepath.Base(p.ZFSRelease) != "zfs-release-3-0.el9.noarch.rpm" {
		t.Errorf("ZFSRelease = %q", p.ZFSRelease)
	}
	d, err := p.RepoDir("zfs-latest-kmod")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d, "repodata", "repomd.xml")); err != nil {
		t.Errorf("twin repo zfs-latest-kmod has no metadata: %v", err)
	}
}

// readCpio returns the regular files of an uncompressed newc cpio archive (rpm2cpio's output).
func readCpio(b []byte) (map[string][]byte, error) {
	files := map[string][]byte{}
	pad := func(n int) int { return (n + 3) &^ 3 }
	for off := 0; off+110 <= len(b); {
		h := b[off : off+110]
		if string(h[:6]) != "070701" {
			return nil, fmt.Errorf("bad cpio magic at %d", off)
		}
		field := func(i int) int {
			v, _ := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
			return int(v)
		}
		mode, size, nameSize := field(1), field(6), field(11)
		name := string(b[off+110 : off+110+nameSize-1])
		off = pad(off + 110 + nameSize)
		if name == "TRAILER!!!" {
			break
		}
		if mode&0o170000 == 0o100000 {
			files[strings.TrimPrefix(name, ".")] = b[off : off+size]
		}
		off = pad(off + size)
	}
	return files, nil
}

func rpmFiles(t *testing.T, p *Packages, rpm string) map[string][]byte {
	t.Helper()
	rpm2cpio, err := lookSystem("rpm2cpio")
	if err != nil {
		t.Skip("no rpm2cpio")
	}
	out, err := exec.Command(rpm2cpio, rpm).Output()
	if err != nil {
		t.Fatalf("rpm2cpio %s: %v", rpm, err)
	}
	files, err := readCpio(out)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// The bed's zfs.repo is the real one of zfs-release-3-0.el9 with the host replaced.
func TestZFSRepoIsTheRealOne(t *testing.T) {
	p := Build(t)
	// The real package, copied into the repository with its source (testdata/upstream/README.md).
	real := filepath.Join("..", "testdata", "upstream", "openzfs", "zfs-release", "zfs-release-3-0.el9.noarch.rpm")
	if _, err := os.Stat(real); err != nil {
		t.Fatalf("the real zfs-release is not in the repository: %v", err)
	}
	realRepo := rpmFiles(t, p, real)["/etc/yum.repos.d/zfs.repo"]
	bedRepo := rpmFiles(t, p, p.ZFSRelease)["/etc/yum.repos.d/zfs.repo"]
	embedded, _ := specFS.ReadFile("specs/zfs.repo")
	if diff := cmp.Diff(string(realRepo), string(embedded)); diff != "" {
		t.Errorf("specs/zfs.repo differs from the real one (-real +embedded):\n%s", diff)
	}
	want := strings.ReplaceAll(string(realRepo), zfsOrgPrefix, p.Mirror+"/zfsonlinux/")
	if diff := cmp.Diff(want, string(bedRepo)); diff != "" {
		t.Errorf("bed zfs.repo (-want +got):\n%s", diff)
	}
}

func TestFreshRoot(t *testing.T) {
	t.Parallel()
	p := Build(t)
	var r *Root
	timed(t, "NewRoot (rocky-release, bash, kernel 9.4)", func() {
		r = NewRoot(t, p, "kernel-5.14.0-427.13.1.el9_4")
	})
	got := r.Installed(t)
	for _, w := range []string{"filesystem-3.16-2.el9.noarch", "bash-5.1.8-9.el9.x86_64", "rocky-release-9.4-1.7.el9.noarch",
		"kernel-core-5.14.0-427.13.1.el9_4.x86_64", "kernel-modules-5.14.0-427.13.1.el9_4.x86_64", "kmod-28-9.el9.x86_64"} {
		if !contains(got, w) {
			t.Errorf("installed %v lacks %s", got, w)
		}
	}
	if diff := cmp.Diff([]string{p.Keys["rocky"].KeyID}, r.ImportedKeys(t)); diff != "" {
		t.Errorf("imported keys (-want +got):\n%s", diff)
	}
	mustContain(t, "os-release", r.ReadFile(t, "/etc/os-release"), `ID="rocky"`, `VERSION_ID="9.4"`, `PLATFORM_ID="platform:el9"`,
		`PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"`)
	mustContain(t, "redhat-release", r.ReadFile(t, "/etc/redhat-release"), "Rocky Linux release 9.4 (Blue Onyx)")
	var repos string
	timed(t, "dnf repolist --all", func() { repos = r.DNF(t, "repolist", "--all") })
	for _, line := range []string{"baseos", "appstream", "extras", "elrepo ", "elrepo-kernel"} {
		mustContain(t, "repolist", repos, line)
	}
	for _, l := range strings.Split(repos, "\n") {
		if strings.HasPrefix(l, "elrepo-kernel ") && !strings.Contains(l, "disabled") {
			t.Errorf("elrepo-kernel is not disabled: %q", l)
		}
	}
	// $releasever expanded from rocky-release's system-release(releasever) = 9.
	mustContain(t, "repolist -v", r.DNF(t, "repolist", "-v", "baseos"), "/rocky/9/BaseOS/x86_64/os/")
	if out, err := r.TryModinfo(Kernel94, "version", "zfs"); err == nil {
		t.Errorf("modinfo found zfs before it was installed: %s", out)
	} else {
		mustContain(t, "modinfo", out, "Module zfs not found")
	}
	if !r.Exists("/lib/modules/" + Kernel94 + "/modules.dep.bin") {
		t.Errorf("kernel-core's %%posttrans did not run depmod")
	}
}

// zfsReleaseRoot is a Rocky 9.4 root with the 9.4 kernel and zfs-release installed from the
// file, and the OpenZFS key imported from the root the way zfsinstall must do it.
func zfsReleaseRoot(t *testing.T, p *Packages, extra ...string) *Root {
	t.Helper()
	r := NewRoot(t, p, append([]string{"kernel-5.14.0-427.13.1.el9_4"}, extra...)...)
	// A local file is not GPG-checked by dnf (TESTBED.md trap 7): installs without the key.
	r.DNF(t, "install", p.ZFSReleaseURL)
	r.ImportKey(t, "/etc/pki/rpm-gpg/RPM-GPG-KEY-openzfs-el-9")
	return r
}

func TestDKMSPath(t *testing.T) {
	t.Parallel()
	p := Build(t)
	var r *Root
	timed(t, "NewRoot + dnf install zfs-release.rpm", func() {
		r = NewRoot(t, p, "kernel-5.14.0-427.13.1.el9_4")
		r.DNF(t, "install", p.ZFSRelease)
	})
	mustContain(t, "zfs.repo", r.ReadFile(t, "/etc/yum.repos.d/zfs.repo"), "[zfs-2.2-kmod]",
		"gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-openzfs-el-$releasever")

	timed(t, "dnf install zfs without EPEL: no dkms", func() {
		out := dnfFails(t, r, "install", "zfs-2.2.7")
		mustContain(t, "install without epel", out, "nothing provides dkms >= 2.2.0.3 needed by zfs-dkms-2.2.7-1.el9.noarch")
	})
	timed(t, "dnf install epel-release", func() { r.DNF(t, "install", "epel-release") })
	timed(t, "dnf install zfs, keys not imported: gpgkey read from the machine", func() {
		out := dnfFails(t, r, "install", "zfs-2.2.7")
		mustContain(t, "install without keys", out, "Couldn't open file /etc/pki/rpm-gpg/RPM-GPG-KEY-")
	})
	r.ImportKey(t, "/etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-9")
	r.ImportKey(t, "/etc/pki/rpm-gpg/RPM-GPG-KEY-openzfs-el-9")
	timed(t, "dnf install zfs-2.2.7 (DKMS section)", func() { r.DNF(t, "install", "zfs-2.2.7") })
	got := r.Installed(t)
	for _, w := range []string{"zfs-2.2.7-1.el9.x86_64", "zfs-dkms-2.2.7-1.el9.noarch", "dkms-" + DKMSNew + "-1.el9.noarch",
		"libzfs5-2.2.7-1.el9.x86_64", "libzpool5-2.2.7-1.el9.x86_64", "libnvpair3-2.2.7-1.el9.x86_64", "libuutil3-2.2.7-1.el9.x86_64"} {
		if !contains(got, w) {
			t.Errorf("installed %v lacks %s", got, w)
		}
	}
	// dkms's "(kernel-devel-matched if kernel-core)" pulled the newest kernel and its headers.
	if !contains(got, "kernel-devel-matched-5.14.0-570.17.1.el9_6.x86_64") {
		t.Errorf("installed %v: dkms did not pull kernel-devel-matched 9.6", got)
	}
	// zfs-dkms's real %post: dkms add, then dkms install --force for the running kernel: real
	// dkms takes `uname -r`, the machine's, whose headers the root lacks; %post swallows it.
	// The 9.6 kernel-core dkms dragged in ran kernel-install (systemd 252's) in its posttrans,
	// whose 40-dkms.install built zfs for it for real (its headers came along).
	if st := r.Chroot(t, "dkms", "status"); st != "zfs/2.2.7, "+Kernel96+", x86_64: installed\n" {
		t.Errorf("dkms status = %q, want 2.2.7 installed for the 9.6 kernel only", st)
	}

	// No kernel-devel for 9.4: DKMS cannot find the headers (dkms 3.0.10 exits 1; 21 from 3.1.5).
	out, err := r.TryChroot("dkms", "install", "-m", "zfs", "-v", "2.2.7", "-k", Kernel94)
	if ExitCode(err) != 1 {
		t.Errorf("dkms install without headers: exit %d, want 1:\n%s", ExitCode(err), out)
	}
	mustContain(t, "dkms without headers", out, "Your kernel headers for kernel "+Kernel94+" cannot be found")
	timed(t, "dnf install kernel-devel for 9.4 + dkms install", func() {
		r.DNF(t, "install", "kernel-devel-5.14.0-427.13.1.el9_4")
		r.Chroot(t, "dkms", "install", "-m", "zfs", "-v", "2.2.7", "-k", Kernel94)
	})
	mustContain(t, "dkms status", r.Chroot(t, "dkms", "status"), "zfs/2.2.7, "+Kernel94+", x86_64: installed")
	timed(t, "modinfo -b ROOT -k 9.4 -F version zfs", func() {
		v, err := r.TryModinfo(Kernel94, "version", "zfs")
		if err != nil || v != "2.2.7-1" {
			t.Errorf("modinfo version = %q, %v; want 2.2.7-1", v, err)
		}
		f, _ := r.TryModinfo(Kernel94, "filename", "zfs")
		if f != filepath.Join(r.Dir, "lib/modules", Kernel94, "extra/zfs.ko") {
			t.Errorf("modinfo filename = %q", f)
		}
	})

	// A build failure as DKMS reports it: exit 10 and make.log.
	if err := os.WriteFile(filepath.Join(r.Dir, "var/lib/zfs-test/dkms-build-fail"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r.Chroot(t, "dkms", "remove", "-m", "zfs", "-v", "2.2.7", "-k", Kernel96)
	out, err = r.TryChroot("dkms", "install", "-m", "zfs", "-v", "2.2.7", "-k", Kernel96)
	if ExitCode(err) != 10 {
		t.Errorf("failing dkms build: exit %d, want 10:\n%s", ExitCode(err), out)
	}
	mustContain(t, "dkms build failure", out, "Bad return status for module build on kernel: "+Kernel96+" (x86_64)")
	mustContain(t, "make.log", r.ReadFile(t, "/var/lib/dkms/zfs/2.2.7/build/make.log"), "Compatible Kernels: 4.18 - 6.12")
}

func TestKmodPath(t *testing.T) {
	t.Parallel()
	p := Build(t)
	var r *Root
	timed(t, "NewRoot + zfs-release + key", func() { r = zfsReleaseRoot(t, p, "epel-release") })
	timed(t, "dnf config-manager: zfs off, zfs-kmod on (two calls)", func() {
		r.DNF(t, "config-manager", "--disable", "zfs")
		r.DNF(t, "config-manager", "--enable", "zfs-kmod")
	})
	timed(t, "dnf install kmod-zfs-2.2.7", func() { r.DNF(t, "install", "kmod-zfs-2.2.7") })
	got := r.Installed(t)
	for _, w := range []string{"kmod-zfs-2.2.7-1.el9.x86_64", "zfs-2.2.7-1.el9.x86_64", "libzfs5-2.2.7-1.el9.x86_64"} {
		if !contains(got, w) {
			t.Errorf("installed %v lacks %s", got, w)
		}
	}
	if contains(got, "zfs-dkms-2.2.7-1.el9.noarch") || contains(got, "dkms-3.0.13-1.el9.noarch") {
		t.Errorf("kmod path installed DKMS: %v", got)
	}
	v, err := r.TryModinfo(Kernel94, "version", "zfs")
	if err != nil || v != "2.2.7-1" {
		t.Errorf("modinfo version = %q, %v; want 2.2.7-1", v, err)
	}
	mustContain(t, "weak-modules.log", r.ReadFile(t, "/var/lib/zfs-test/weak-modules.log"),
		"weak-modules --add-modules", "/lib/modules/"+Kernel94+"/extra/zfs/zfs.ko")
	timed(t, "dnf install zfs-dkms over kmod-zfs: conflict", func() {
		out := dnfFails(t, r, "--enablerepo=zfs", "install", "zfs-dkms-2.2.7")
		mustContain(t, "zfs-dkms over kmod-zfs", out, "conflicts with zfs-dkms provided by zfs-dkms-2.2.7-1.el9.noarch")
	})
	// kmod-zfs for 9.4 needs 9.4's kABI: with only 9.5's kernel it would pull the 9.4 kernel.
	out, _ := r.TryDNF("install", "--assumeno", "kmod-zfs-2.2.8")
	mustContain(t, "kmod-zfs-2.2.8 dry run", out, "kmod-zfs", "zfs-kmod")
	if strings.Contains(out, "kernel-core") {
		t.Errorf("kmod-zfs-2.2.8 on a 9.4 kernel wants another kernel:\n%s", out)
	}
}

// dkmsRoot is a root where zfs 2.2.7 was installed the DKMS way and built for the 9.4 kernel.
func dkmsRoot(t *testing.T, p *Packages) *Root {
	t.Helper()
	r := NewRoot(t, p, "kernel-5.14.0-427.13.1.el9_4", "kernel-devel-5.14.0-427.13.1.el9_4", "epel-release",
		p.ZFSRelease, "zfs-2.2.7", "zfs-dkms-2.2.7")
	r.Chroot(t, "dkms", "install", "-m", "zfs", "-v", "2.2.7", "-k", Kernel94)
	return r
}

// Switching DKMS -> kmod in one transaction: which dnf commands do it.
func TestSwitchDKMSToKmodInOneTransaction(t *testing.T) {
	t.Parallel()
	p := Build(t)
	for name, args := range map[string][]string{
		"swap":          {"--disablerepo=zfs", "--enablerepo=zfs-kmod", "swap", "zfs-dkms", "kmod-zfs-2.2.7"},
		"allowerasing":  {"--disablerepo=zfs", "--enablerepo=zfs-kmod", "install", "--allowerasing", "kmod-zfs-2.2.7"},
		"plain install": {"--disablerepo=zfs", "--enablerepo=zfs-kmod", "install", "kmod-zfs-2.2.7"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var r *Root
			timed(t, "NewRoot with zfs 2.2.7 DKMS built for 9.4", func() { r = dkmsRoot(t, p) })
			var out string
			var err error
			timed(t, "dnf "+strings.Join(args, " "), func() { out, err = r.TryDNF(args...) })
			if name == "plain install" {
				if err == nil {
					t.Fatalf("plain install of kmod-zfs over zfs-dkms succeeded:\n%s", out)
				}
				mustContain(t, name, out, "conflicts with zfs-dkms provided by zfs-dkms-2.2.7-1.el9.noarch", "--allowerasing")
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got := r.Installed(t)
			if !contains(got, "kmod-zfs-2.2.7-1.el9.x86_64") || contains(got, "zfs-dkms-2.2.7-1.el9.noarch") ||
				!contains(got, "zfs-2.2.7-1.el9.x86_64") {
				t.Errorf("%s: installed %v", name, got)
			}
			// zfs-dkms's %preun removed the module from the DKMS tree and /lib/modules.
			for _, gone := range []string{"/var/lib/dkms/zfs/2.2.7", "/lib/modules/" + Kernel94 + "/extra/zfs.ko.xz"} {
				if r.Exists(gone) {
					t.Errorf("%s: %s still exists", name, gone)
				}
			}
			t.Logf("%s:\n%s", name, out)
			f, err := r.TryModinfo(Kernel94, "filename", "zfs")
			if err != nil || f != filepath.Join(r.Dir, "lib/modules", Kernel94, "extra/zfs/zfs.ko") {
				t.Errorf("%s: modinfo filename = %q, %v", name, f, err)
			}
		})
	}
}

func TestKillMidTransaction(t *testing.T) {
	t.Parallel()
	p := Build(t)
	var r *Root
	timed(t, "NewRoot + zfs-release + epel-release", func() {
		r = zfsReleaseRoot(t, p, "kernel-devel-5.14.0-427.13.1.el9_4", "epel-release")
		r.ImportKey(t, "/etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-9")
	})
	r.ArmKill(t)
	argv := append(append([]string{p.tools.DNF}, r.DNFArgs()...), "install", "zfs-2.2.7", "zfs-dkms-2.2.7")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = r.Env()
	var outb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outb, &outb
	var err error
	timed(t, "dnf install zfs zfs-dkms, killed in zfs-dkms %pre", func() { err = cmd.Run() })
	if ExitCode(err) != -1 {
		t.Fatalf("dnf was not killed: %v\n%s", err, outb.String())
	}
	killed := strings.Fields(r.ReadFile(t, "/var/lib/zfs-test/killed.log"))
	if len(killed) != 2 || killed[0] != "zfs-dkms" || killed[1] != strconv.Itoa(cmd.Process.Pid) {
		t.Errorf("killed.log = %q, want zfs-dkms %d ($PPID of the scriptlet is dnf itself)", killed, cmd.Process.Pid)
	}
	half := r.Installed(t)
	if !contains(half, "dkms-"+DKMSNew+"-1.el9.noarch") || contains(half, "zfs-dkms-2.2.7-1.el9.noarch") ||
		contains(half, "zfs-2.2.7-1.el9.x86_64") {
		t.Errorf("after the kill: installed %v, want dkms but neither zfs-dkms nor zfs", half)
	}
	t.Logf("half-done transaction left: %v", half)
	r.DisarmKill(t)
	timed(t, "second dnf install completes", func() { r.DNF(t, "install", "zfs-2.2.7", "zfs-dkms-2.2.7") })
	got := r.Installed(t)
	if !contains(got, "zfs-dkms-2.2.7-1.el9.noarch") || !contains(got, "zfs-2.2.7-1.el9.x86_64") {
		t.Errorf("after recovery: installed %v", got)
	}
	mustContain(t, "dkms status", r.Chroot(t, "dkms", "status"), "zfs/2.2.7: added")
}

// Faults change the shared mirror: these tests do not run in parallel with the others.
func TestFaults(t *testing.T) {
	p := Build(t)
	var r *Root
	timed(t, "NewRoot + zfs-release + key", func() { r = zfsReleaseRoot(t, p) })
	r.DNF(t, "makecache")

	t.Run("unsigned", func(t *testing.T) {
		p.AddUnsigned(t, "zfs", "stub", "stub_name=zfs-unsigned-test")
		out := dnfFails(t, r, "install", "zfs-unsigned-test")
		mustContain(t, "unsigned", out, "zfs-unsigned-test-1.0-1.el9.noarch.rpm is not signed")
	})
	t.Run("wrong key", func(t *testing.T) {
		p.AddSigned(t, "zfs", "rogue", "stub", "stub_name=zfs-rogue-test")
		// dnf looks for the signer among the repo's gpgkey files, which it reads from the
		// machine: in a root this ends reading /etc/pki/rpm-gpg/... (on a host: "GPG check FAILED").
		out := dnfFails(t, r, "install", "zfs-rogue-test")
		mustContain(t, "wrong key", out, "Couldn't open file /etc/pki/rpm-gpg/RPM-GPG-KEY-openzfs-el-9")
		if contains(r.Installed(t), "zfs-rogue-test-1.0-1.el9.noarch") {
			t.Errorf("a package signed with an unknown key was installed")
		}
	})
	t.Run("broken repo", func(t *testing.T) {
		restore := p.BreakRepo(t, "zfs")
		out := dnfFails(t, r, "install", "zfs-2.2.7")
		mustContain(t, "broken repo", out, "Failed to download metadata for repo 'zfs'")
		restore()
		r.DNF(t, "makecache")
	})
	t.Run("kernel-devel gone from the mirror", func(t *testing.T) {
		restore := p.RemoveFromRepo(t, "appstream", "kernel-devel-5.14.0-427.")
		out := dnfFails(t, r, "install", "kernel-devel-5.14.0-427.13.1.el9_4")
		mustContain(t, "removed", out, "No match for argument: kernel-devel-5.14.0-427.13.1.el9_4")
		restore()
		mustContain(t, "restored", r.DNF(t, "list", "--showduplicates", "kernel-devel"), "5.14.0-427.13.1.el9_4")
	})
}

func TestMachineSnapshotSeesChanges(t *testing.T) {
	Require(t)
	s := MachineSnapshot(t)
	s.Check(t)
	s.Files = append(s.Files, "/var/cache/dnf/invented 1 2000-01-01T00:00:00.000000000")
	if d, err := s.Diff(); err != nil || d == "" {
		t.Errorf("a changed snapshot compares equal: %q, %v", d, err)
	}
}

// An ELRepo kernel-lt host: DKMS builds against kernel-lt-devel, and dkms status has the real
// format.
func TestELRepoKernelDKMS(t *testing.T) {
	t.Parallel()
	p := Build(t)
	var r *Root
	timed(t, "NewRoot with kernel-lt, its devel, epel-release, zfs-release, zfs 2.2.7 DKMS", func() {
		r = NewRoot(t, p, "kernel-lt-6.1.80-1.el9.elrepo", "kernel-lt-devel-6.1.80-1.el9.elrepo", "epel-release",
			p.ZFSRelease, "zfs-2.2.7", "zfs-dkms-2.2.7")
	})
	got := r.Installed(t)
	for _, w := range []string{"kernel-lt-core-6.1.80-1.el9.elrepo.x86_64", "zfs-dkms-2.2.7-1.el9.noarch"} {
		if !contains(got, w) {
			t.Errorf("installed %v lacks %s", got, w)
		}
	}
	for _, g := range got {
		if strings.HasPrefix(g, "kernel-core-") || strings.HasPrefix(g, "kernel-devel-5") {
			t.Errorf("a stock kernel package came along: %s", g)
		}
	}
	timed(t, "dkms install -k "+KernelLT, func() {
		r.Chroot(t, "dkms", "install", "-m", "zfs", "-v", "2.2.7", "-k", KernelLT)
	})
	if st := r.Chroot(t, "dkms", "status"); st != "zfs/2.2.7, 6.1.80-1.el9.elrepo.x86_64, x86_64: installed\n" {
		t.Errorf("dkms status = %q", st)
	}
	if v, err := r.TryModinfo(KernelLT, "version", "zfs"); err != nil || v != "2.2.7-1" {
		t.Errorf("modinfo = %q, %v", v, err)
	}
	// kmod-zfs on this host: its kABI is 9.4's, so dnf wants the stock 9.4 kernel.
	r.ImportKey(t, "/etc/pki/rpm-gpg/RPM-GPG-KEY-openzfs-el-9")
	out, _ := r.TryDNF("--disablerepo=zfs", "--enablerepo=zfs-kmod", "install", "--assumeno", "--allowerasing", "kmod-zfs-2.2.7")
	mustContain(t, "kmod-zfs on kernel-lt", out, "kernel-core", "5.14.0-427.13.1.el9_4")
}

// kmod-zfs built for 9.4 on a host that runs only 9.5's kernel drags in the 9.4 kernel.
func TestKmodForAnotherMinor(t *testing.T) {
	t.Parallel()
	p := Build(t)
	var r *Root
	timed(t, "NewRoot with the 9.5 kernel + zfs-release + key", func() {
		r = NewRoot(t, p, "kernel-5.14.0-503.14.1.el9_5")
		r.DNF(t, "install", p.ZFSRelease)
		r.ImportKey(t, "/etc/pki/rpm-gpg/RPM-GPG-KEY-openzfs-el-9")
	})
	out, err := r.TryDNF("--disablerepo=zfs", "--enablerepo=zfs-kmod", "install", "--assumeno", "kmod-zfs-2.2.7")
	if err == nil {
		t.Fatalf("--assumeno succeeded?\n%s", out)
	}
	mustContain(t, "kmod-zfs on 9.5", out, "kernel-core", "5.14.0-427.13.1.el9_4", "Operation aborted")
}
