package apply

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/gather"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/host/hosttest"
	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/pkgmgr/pkgmgrtest"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/spec"
	"github.com/zfsinstall/zfsinstall/update"
	"github.com/zfsinstall/zfsinstall/verify"
)

const (
	fc41Kernel = "6.11.4-301.fc41.x86_64"
	dnf5Dir    = "../testdata/dnf5/recorded"
)

// fedoraHost is testdata/hosts-live/fedora41-dnf5 played as a running
// Fedora 41 whose dnf is dnf5. The fake dnf5 answers only the runs of the
// real dnf5 recorded against a root with the same packages
// (testdata/dnf5/README.md); what a recorded `install` printed in its
// transaction table is what the fake rpm database gains. rpm, uname and
// modinfo answer from the fake database; dkms, systemctl and modprobe are
// fakes of what cannot run here (a build, units, a module load).
func fedoraHost(t *testing.T, recordings ...string) *hosttest.Fixture {
	h := hosttest.New(t, "../testdata/hosts-live/fedora41-dnf5").Live()
	installed := []string{
		"@\tzfs-release\t(none)\t3\t0.fc41\tnoarch",
		"@\tkernel-core\t(none)\t6.11.4\t301.fc41\tx86_64",
		"@\tkernel\t(none)\t6.11.4\t301.fc41\tx86_64",
		"@\tdnf5\t(none)\t5.2.6.2\t1.fc41\tx86_64",
		"@\tgpg-pubkey\t(none)\t9db84141\t62d88994\t(none)",
	}
	h.Handle("rpm -q --qf", func(c host.Cmd) hosttest.FixtureResult {
		var out strings.Builder
		for _, name := range c.Argv[3:] {
			for _, l := range installed {
				if strings.HasPrefix(l, "@\t"+name+"\t") {
					out.WriteString(l + "\n")
				}
			}
		}
		return hosttest.FixtureResult{Stdout: out.String()}
	})
	answer := map[string]func() hosttest.FixtureResult{}
	for _, name := range recordings {
		r := pkgmgrtest.Load(t, dnf5Dir, name)
		answer[r.Key("/")] = func() hosttest.FixtureResult {
			if r.Exit == 0 && strings.Contains(strings.Join(r.Argv, " "), " -y install ") {
				changes, err := pkgmgr.ParseTransaction([]byte(r.Stdout))
				if err != nil {
					t.Errorf("recorded %s: %v", name, err)
				}
				for _, ch := range changes {
					v, rel, _ := strings.Cut(ch.Version, "-")
					installed = append(installed, "@\t"+ch.Name+"\t(none)\t"+v+"\t"+rel+"\t"+ch.Arch)
				}
			}
			return r.Result()
		}
	}
	// Only the recorded command lines; the preflight's temporary repository
	// directory holds the same files as the recording's (pkgmgrtest).
	h.Handle("dnf ", func(c host.Cmd) hosttest.FixtureResult {
		key := strings.Join(pkgmgrtest.NormalizeReposDir(c.Argv), " ")
		if fn, ok := answer[key]; ok {
			return fn()
		}
		t.Errorf("fake dnf5: no recording of %q", key)
		return hosttest.FixtureResult{ExitCode: 1}
	})
	h.On("uname -r", hosttest.FixtureResult{Stdout: fc41Kernel + "\n"})
	h.On("zpool list -H -o name", hosttest.FixtureResult{})
	built := ""
	h.Handle("dkms install -m zfs -v ", func(c host.Cmd) hosttest.FixtureResult { // fake dkms
		built = c.Argv[5]
		dir := h.Path("/var/lib/dkms/zfs/" + built + "/" + c.Argv[7] + "/x86_64/module")
		os.MkdirAll(dir, 0o755)
		os.Symlink(built+"/"+c.Argv[7]+"/x86_64", h.Path("/var/lib/dkms/zfs/kernel-"+c.Argv[7]+"-x86_64"))
		return hosttest.FixtureResult{}
	})
	h.Handle("modinfo -k "+fc41Kernel+" zfs", func(host.Cmd) hosttest.FixtureResult {
		if built == "" {
			return hosttest.FixtureResult{ExitCode: 1, Stderr: "modinfo: ERROR: Module zfs not found.\n"}
		}
		return hosttest.FixtureResult{Stdout: "filename:       /lib/modules/" + fc41Kernel + "/extra/zfs.ko.xz\nversion:        " + built + "-1\n"}
	})
	h.Handle("systemctl enable ", func(c host.Cmd) hosttest.FixtureResult { // fake systemctl
		for _, unit := range c.Argv[2:] {
			link := h.Path("/etc/systemd/system/zfs.target.wants/" + unit)
			os.MkdirAll(filepath.Dir(link), 0o755)
			os.Symlink("/usr/lib/systemd/system/"+unit, link)
		}
		return hosttest.FixtureResult{}
	})
	h.Handle("modprobe zfs", func(host.Cmd) hosttest.FixtureResult { // fake modprobe
		os.MkdirAll(h.Path("/sys/module/zfs"), 0o755)
		os.WriteFile(h.Path("/sys/module/zfs/version"), []byte(built+"-1\n"), 0o444)
		return hosttest.FixtureResult{}
	})
	return h
}

// TestApplyFedoraDNF5: on Fedora 41 with dnf5, plan, apply, a second apply
// (no changes) and verify, every dnf call answered as the real dnf5 did.
func TestApplyFedoraDNF5(t *testing.T) {
	h := fedoraHost(t, "offered-apply", "resolve-install", "run-install", "upgrades-fedora41")
	h.Calls = nil
	ctx := context.Background()
	s := spec.Default()
	f, err := gather.Gather(ctx, h, gather.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (facts.DNF{Dialect: facts.DNF5, Version: "5.2.6.2"}); f.DNF != want {
		t.Errorf("facts: dnf %+v, want %+v", f.DNF, want)
	}
	p := planner.Make(s, f, planner.Options{})
	if p.HasErrors() {
		t.Fatalf("plan: %+v", p.Diagnostics)
	}
	res, err := Apply(ctx, h, f, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Transactions != 1 {
		t.Errorf("dnf transactions = %d, want 1", res.Transactions)
	}
	var dnf []string
	for _, c := range h.Calls {
		if c.Argv[0] == "dnf" {
			dnf = append(dnf, strings.Join(pkgmgrtest.NormalizeReposDir(c.Argv), " "))
		}
	}
	var want []string
	for _, name := range []string{"offered-apply", "resolve-install", "run-install"} {
		want = append(want, pkgmgrtest.Load(t, dnf5Dir, name).Key("/"))
	}
	if diff := cmp.Diff(want, dnf); diff != "" {
		t.Errorf("dnf calls (-want +got):\n%s", diff)
	}
	f2, err := gather.Gather(ctx, h, gather.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p2 := planner.Make(s, f2, planner.Options{})
	if len(p2.Steps) != 0 {
		t.Errorf("second plan has %d steps, want none: %+v", len(p2.Steps), p2.Steps)
	}
	h.Calls = nil
	if _, err := Apply(ctx, h, f2, p2, Options{}); err != nil {
		t.Fatalf("second apply: %v", err)
	}
	for _, k := range h.CallKeys() {
		if strings.HasPrefix(k, "dnf ") {
			t.Errorf("second apply ran %s", k)
		}
	}
	// What zfsinstall apply does after its steps (cmd): the kernel hold,
	// evaluated from what the real dnf5 offers: kernel 6.12.5 and its
	// kernel-devel, on which zfs-dkms 2.2.8 builds, so nothing is held.
	held, err := update.Hold(ctx, pkgmgr.New(h, nil), f2, pkgmgr.Query{})
	if err != nil || len(held.Held) != 0 || !held.Changed {
		t.Fatalf("kernel hold after apply: %+v, %v", held, err)
	}
	f3, err := gather.Gather(ctx, h, gather.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := verify.Verify(f3, s); !r.OK {
		t.Errorf("verify after apply: %+v", r)
	}
}

// TestKernelChosenDNF5: the kernel-choice check refuses the transaction in
// which the real dnf5 installs kernel-core 6.12.5 (dkms's
// (kernel-devel-matched if kernel-core) reaching for the newest kernel)
// when the plan names none.
func TestKernelChosenDNF5(t *testing.T) {
	h := fedoraHost(t, "resolve-kernel-chosen")
	ctx := context.Background()
	f, err := gather.Gather(ctx, h, gather.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := &applier{ctx: ctx, h: h, c: pkgmgr.New(h, nil), f: f}
	pr := &prepared{t: pkgmgr.Transaction{Install: []string{"dkms", "zfs-2.2.8", "zfs-dkms-2.2.8"}}}
	changes, err := a.c.Resolve(ctx, pkgmgr.Query{ReposDir: t.TempDir()}, pr.t) // as the preflight asks
	if err != nil {
		t.Fatal(err)
	}
	err = a.noKernelChosen(pr, changes)
	if err == nil || !strings.Contains(err.Error(), "install kernel-core-6.12.5-200.fc41.x86_64") || !strings.Contains(err.Error(), "zfsinstall never lets dnf choose a kernel") {
		t.Errorf("err = %v, want a refusal naming kernel-core-6.12.5-200.fc41.x86_64", err)
	}
}
