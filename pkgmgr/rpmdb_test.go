package pkgmgr_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/testbed"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbed.Cleanup()
	os.Exit(code)
}

// queryNames are what gather asks for on a bed root (a part of its list,
// with names not installed) and every package the root has.
func queryNames(t *testing.T, root string) []string {
	t.Helper()
	out, err := exec.Command("rpm", "--root", root, "--dbpath", "/var/lib/rpm", "-qa", "--qf", `%{NAME}\n`).Output()
	if err != nil {
		t.Fatalf("rpm -qa: %v", err)
	}
	return append(strings.Fields(string(out)), "zfs", "zfs-dkms", "kmod-zfs", "kernel-core", "kernel-lt-core", "gpg-pubkey", "libzfs6", "no-such-package")
}

// sameAsRPM checks that ReadInstalled read the root's database itself (no
// rpm started, nothing logged about asking rpm) and returns what
// Installed (`rpm -q`) returns.
func sameAsRPM(t *testing.T, stage, root string) {
	t.Helper()
	names := queryNames(t, root)
	want, err := pkgmgr.New(host.NewReal(root, nil), nil).Installed(context.Background(), names...)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := logrus.New()
	log.SetOutput(&logs)
	log.SetLevel(logrus.DebugLevel)
	got, err := pkgmgr.New(host.NewReal(root, log), nil).ReadInstalled(context.Background(), names...)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "asking rpm") || strings.Contains(logs.String(), "cmd=") {
		t.Errorf("%s: ReadInstalled did not read the database itself:\n%s", stage, logs.String())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: ReadInstalled differs from rpm -q (-rpm +ReadInstalled):\n%s", stage, diff)
	}
}

func walSize(t *testing.T, root string) int64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join(root, "var/lib/rpm/rpmdb.sqlite-wal"))
	if err != nil {
		return 0
	}
	return fi.Size()
}

// TestReadInstalledMatchesRPM compares the in-process reader with rpm on
// bed roots that real dnf and rpm wrote: a fresh Rocky 9.4 root with
// zfs-release, a dnf transaction killed half way (its committed headers
// only in rpmdb.sqlite-wal, which a killed rpm never checkpoints), and the
// same root after dnf finished the install of kmod-zfs (requirements on
// kernel(SYMBOL) = CRC, kernel-uname-r).
func TestReadInstalledMatchesRPM(t *testing.T) {
	testbed.Require(t)
	p := testbed.Build(t)
	r := testbed.NewRoot(t, p, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	r.DNF(t, "install", p.ZFSRelease)
	r.ImportKey(t, "/etc/pki/rpm-gpg/RPM-GPG-KEY-openzfs-el-9")
	r.DNF(t, "config-manager", "--disable", "zfs")
	r.DNF(t, "config-manager", "--enable", "zfs-kmod")
	sameAsRPM(t, "fresh root", r.Dir)

	r.ArmKill(t, "kmod-zfs")
	if _, err := r.TryDNF("install", "kmod-zfs"); err == nil {
		t.Fatal("dnf was not killed")
	}
	if walSize(t, r.Dir) == 0 {
		t.Fatal("the killed transaction left an empty write-ahead log: the test does not test what it says")
	}
	sameAsRPM(t, "transaction killed, its headers in the write-ahead log", r.Dir)
	if walSize(t, r.Dir) == 0 {
		t.Fatal("rpm -q checkpointed the write-ahead log before ReadInstalled read it")
	}

	r.DisarmKill(t)
	r.DNF(t, "install", "kmod-zfs")
	sameAsRPM(t, "kmod-zfs installed", r.Dir)
}

// TestReadInstalledFallsBack: without a database it can read, ReadInstalled
// asks rpm, as Installed does, and says why at debug level.
func TestReadInstalledFallsBack(t *testing.T) {
	testbed.Require(t)
	root := t.TempDir()
	var logs bytes.Buffer
	log := logrus.New()
	log.SetOutput(&logs)
	log.SetLevel(logrus.DebugLevel)
	pkgs, err := pkgmgr.New(host.NewReal(root, log), nil).ReadInstalled(context.Background(), "bash")
	if err != nil || len(pkgs) != 0 {
		t.Fatalf("ReadInstalled = %v, %v; want nothing installed", pkgs, err)
	}
	for _, want := range []string{"no rpm database in /var/lib/rpm", "asking rpm", "rpm --root " + root} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the debug log does not say %q:\n%s", want, logs.String())
		}
	}
}

// TestKernelSymbolsReadsTheDatabase compares KernelSymbols, which reads the
// rpm database in process, with what rpm itself prints of the same
// kernels' provides, on a bed root with a kernel-core of real size (about
// 10,500 kernel(SYMBOL) = CRC from Debian's Module.symvers) and an ELRepo
// kernel-lt (none), and checks that no rpm ran.
func TestKernelSymbolsReadsTheDatabase(t *testing.T) {
	testbed.Require(t)
	p := testbed.Build(t)
	r := testbed.NewRoot(t, p, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"), "kernel-lt-"+strings.TrimSuffix(testbed.KernelLT, ".x86_64"))
	kernels := []facts.InstalledKernel{{Release: testbed.Kernel94, Package: "kernel-core"}, {Release: testbed.KernelLT, Package: "kernel-lt-core"}}
	want := map[string]map[string]string{testbed.Kernel94: {}, testbed.KernelLT: {}}
	for _, k := range kernels {
		vr := strings.TrimSuffix(k.Release, ".x86_64")
		// rpm -q exits with the number of names not installed
		out, _ := r.TryRPM("-q", "--qf", `[%{PROVIDENAME}\t%{PROVIDEVERSION}\n]`, "kernel-"+vr, "kernel-core-"+vr, "kernel-modules-core-"+vr, "kernel-modules-"+vr, "kernel-lt-core-"+vr, "kernel-lt-modules-"+vr)
		for _, line := range strings.Split(out, "\n") {
			name, crc, _ := strings.Cut(line, "\t")
			if sym, ok := strings.CutPrefix(name, "kernel("); ok {
				want[k.Release][strings.TrimSuffix(sym, ")")] = crc
			}
		}
	}
	if n := len(want[testbed.Kernel94]); n < 10000 {
		t.Fatalf("rpm lists %d kernel symbols of %s, want the real-size set (> 10,000)", n, testbed.Kernel94)
	}
	var logs bytes.Buffer
	log := logrus.New()
	log.SetOutput(&logs)
	log.SetLevel(logrus.DebugLevel)
	got, err := pkgmgr.New(host.NewReal(r.Dir, log), nil).KernelSymbols(context.Background(), kernels, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "asking rpm") || strings.Contains(logs.String(), "cmd=") {
		t.Errorf("KernelSymbols did not read the database itself:\n%s", logs.String())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("KernelSymbols differs from rpm (-rpm +KernelSymbols):\n%s", diff)
	}
	some, err := pkgmgr.New(host.NewReal(r.Dir, nil), nil).KernelSymbols(context.Background(), kernels[:1], map[string]bool{"__alloc_pages": true, "no_such_symbol": true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]map[string]string{testbed.Kernel94: {"__alloc_pages": "0x721dbc2e"}}, some); diff != "" {
		t.Errorf("KernelSymbols with a wanted set (-want +got):\n%s", diff)
	}
}
