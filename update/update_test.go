package update

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host/hosttest"
	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/pkgmgr/pkgmgrtest"
)

// fedoraUpgrade is the "upgrade" root the real dnf5 was recorded against
// (testdata/dnf5/record/setup.sh): Fedora 41 with kernels 6.11.4 and
// 6.11.5, zfs and zfs-dkms 2.2.7 built for 6.11.5 (running),
// installonly_limit=2; the repositories offer kernel 6.12.5 and OpenZFS
// 2.2.8.
func fedoraUpgrade(t *testing.T) (*hosttest.Fixture, *facts.Facts) {
	dir := t.TempDir()
	// /usr/bin/dnf is dnf5's link on Fedora 41 (dnf5.spec): the client
	// speaks dnf5 to this live fixture host.
	if err := os.MkdirAll(dir+"/usr/bin", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("dnf5", dir+"/usr/bin/dnf"); err != nil {
		t.Fatal(err)
	}
	h := hosttest.New(t, dir).Live()
	pkgmgrtest.FakeDNF5(t, h, "../testdata/dnf5/recorded", "upgrade", "upgrades", "offered-devel")
	k := func(rel string) facts.InstalledKernel {
		return facts.InstalledKernel{Release: rel, Package: "kernel-core", Flavor: "fedora", BootEntry: true}
	}
	f := &facts.Facts{
		FormatVersion: facts.FormatVersion, Root: h.Root(), Arch: "x86_64",
		Distro: facts.Distro{ID: "fedora", Name: "Fedora Linux 41", VersionID: "41", Major: 41, Minor: -1, Family: facts.FamilyFedora, DistTag: ".fc41", Releasever: "41"},
		DNF:    facts.DNF{Dialect: facts.DNF5},
		Kernel: facts.Kernel{Running: "6.11.5-300.fc41.x86_64", Target: "6.11.5-300.fc41.x86_64", Default: "6.11.5-300.fc41.x86_64",
			Installed: []facts.InstalledKernel{k("6.11.4-301.fc41.x86_64"), k("6.11.5-300.fc41.x86_64")}},
		Packages: []facts.Package{
			{Name: "zfs", Version: "2.2.7", Release: "1.fc41", Arch: "x86_64"},
			{Name: "zfs-dkms", Version: "2.2.7", Release: "1.fc41", Arch: "noarch", Requires: []string{"kernel-devel <= 6.15.999", "kernel-uname-r >= 4.18"}},
		},
		Files: map[string]string{facts.DNFConfFile: "[main]\ngpgcheck=0\ninstallonly_limit=2\nbest=True\nskip_if_unavailable=False\n"},
	}
	f.Kernel.Installed[1].Module = "2.2.7-1"
	return h, f
}

// TestCheckDNF5 judges the update real dnf5 resolved: kernel 6.12.5 comes
// in with its kernel-devel (dkms's rich dependency) and becomes the next
// boot, 6.11.4 goes (installonly_limit=2), zfs-dkms moves to 2.2.8, whose
// META range covers 6.12 but which cannot be built for the running 6.11.5
// (its kernel-devel is not installed).
func TestCheckDNF5(t *testing.T) {
	h, f := fedoraUpgrade(t)
	c := pkgmgr.New(h, nil)
	r, err := Check(context.Background(), c, f, pkgmgr.Query{})
	if err != nil {
		t.Fatal(err)
	}
	type kv struct {
		Release string
		State   KernelState
		Works   bool
	}
	var got []kv
	for _, k := range r.Kernels {
		got = append(got, kv{k.Release, k.State, k.Works})
	}
	want := []kv{
		{"6.11.4-301.fc41.x86_64", Removes, false}, // no module, no kernel-devel: it had none before either
		{"6.11.5-300.fc41.x86_64", Kept, false},    // 2.2.8 must be built for it, and its kernel-devel is not installed
		{"6.12.5-200.fc41.x86_64", Installs, true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("kernels (-want +got):\n%s", diff)
	}
	if r.Module != (Module{Package: "zfs-dkms", From: "2.2.7-1.fc41", To: "2.2.8-1.fc41"}) {
		t.Errorf("module = %+v", r.Module)
	}
	if r.InstallonlyLimit != 2 {
		t.Errorf("installonly_limit = %d, want 2", r.InstallonlyLimit)
	}
	var summaries []string
	for _, p := range r.Problems {
		summaries = append(summaries, string(p.Severity)+": "+p.Summary)
	}
	for _, w := range []string{
		"warning: after the update ZFS would not work on kernel 6.11.5-300.fc41.x86_64, the running one",
		"warning: zfs-dkms 2.2.7-1.fc41 -> 2.2.8-1.fc41: the loaded module stays 2.2.7 until the next boot",
	} {
		if !strings.Contains(strings.Join(summaries, "\n"), w) {
			t.Errorf("problems lack %q:\n%s", w, strings.Join(summaries, "\n"))
		}
	}
	// The next boot is 6.12.5, where 2.2.8 builds (its kernel-devel comes
	// with it): safe, with the running kernel's loss as a warning.
	if !r.Safe {
		t.Errorf("an update whose next boot keeps ZFS is called unsafe: %v", summaries)
	}
	if r.Others != 0 || len(r.Changes) != 9 {
		t.Errorf("changes: %d kernel/OpenZFS, %d others: %+v", len(r.Changes), r.Others, r.Changes)
	}
}

// TestHoldDNF5: the hold judges what dnf5 offers whatever dnf would pick
// now: 6.12.5's kernel-devel is offered (asked by name: none is installed
// to upgrade), so 6.12.5 works with zfs-dkms 2.2.8 and nothing is held.
func TestHoldDNF5(t *testing.T) {
	h, f := fedoraUpgrade(t)
	res, err := Hold(context.Background(), pkgmgr.New(h, nil), f, pkgmgr.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Held) != 0 {
		t.Errorf("held %+v", res.Held)
	}
}

// TestNextBoot: a new kernel becomes the default only with UPDATEDEFAULT=yes
// and when its core package is DEFAULTKERNEL (/etc/sysconfig/kernel).
func TestNextBoot(t *testing.T) {
	const stock, lt, cur = "5.14.0-570.17.1.el9_6.x86_64", "6.1.90-1.el9.elrepo.x86_64", "6.1.80-1.el9.elrepo.x86_64"
	offered := []backends.Prospect{{Info: catalog.ClassifyKernel(stock, "kernel-core")}, {Info: catalog.ClassifyKernel(lt, "kernel-lt-core")}}
	installs := map[string]bool{stock: true, lt: true}
	cases := map[string]struct {
		sysconfig string
		want      string
	}{
		"no file: EL's defaults":         {"", stock},
		"EL9's file":                     {"# UPDATEDEFAULT specifies if new-kernel-pkg should make\nUPDATEDEFAULT=yes\n\n# DEFAULTKERNEL specifies the default kernel package type\nDEFAULTKERNEL=kernel-core\n", stock},
		"an ELRepo host's DEFAULTKERNEL": {"UPDATEDEFAULT=yes\nDEFAULTKERNEL=kernel-lt-core\n", lt},
		"UPDATEDEFAULT=no":               {"UPDATEDEFAULT=no\nDEFAULTKERNEL=kernel-core\n", cur},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := &facts.Facts{Kernel: facts.Kernel{Default: cur, Running: cur}, Files: map[string]string{}}
			if tc.sysconfig != "" {
				f.Files[facts.SysconfigKernelFile] = tc.sysconfig
			}
			if got := nextBoot(f, offered, installs); got != tc.want {
				t.Errorf("nextBoot = %s, want %s", got, tc.want)
			}
		})
	}
}
