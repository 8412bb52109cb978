package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/zfsinstall/zfsinstall/testbed"
	"github.com/zfsinstall/zfsinstall/views"
)

// The integration tests run zfsinstall (in-process, through the same run()
// as the binary) against install roots that play EL9 hosts, with real dnf,
// rpm, createrepo_c and signed test packages from package testbed. Only the
// machine's own rpm database, dnf state and repo files are off limits: each
// test checks they did not change.

// bedRoot is one integration host: the root, its packages and the spec.
type bedRoot struct {
	t    *testing.T
	p    *testbed.Packages
	r    *testbed.Root
	spec string
}

func newBed(t *testing.T, install ...string) *bedRoot {
	t.Helper()
	testbed.Require(t)
	snap := testbed.MachineSnapshot(t)
	t.Cleanup(func() { snap.Check(t) })
	p := testbed.Build(t)
	r := testbed.NewRoot(t, p, install...)
	for _, kv := range r.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return &bedRoot{t: t, p: p, r: r}
}

// writeSpec writes the host spec; release_rpm always points at the bed's
// zfs-release (signed with the bed's throwaway key, trusted via --release-key).
func (b *bedRoot) writeSpec(body string) {
	b.t.Helper()
	b.spec = filepath.Join(b.t.TempDir(), "zfsinstall.hcl")
	src := "zfs {\n  release_rpm = \"" + b.p.ZFSRelease + "\"\n" + body
	if !strings.Contains(body, "zfs {") {
		src += "}\n"
	} else {
		src = strings.Replace(body, "zfs {", "zfs {\n  release_rpm = \""+b.p.ZFSRelease+"\"", 1)
	}
	if err := os.WriteFile(b.spec, []byte(src), 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// zi runs zfsinstall against the root and returns its output and exit code.
func (b *bedRoot) zi(args ...string) (string, int) {
	b.t.Helper()
	full := append([]string{args[0], "--root", b.r.Dir}, args[1:]...)
	if args[0] == "plan" || args[0] == "apply" || args[0] == "verify" {
		full = append(full, "-f", b.spec)
	}
	if args[0] == "plan" || args[0] == "apply" {
		full = append(full, "--release-key", b.p.KeyFile)
	}
	if slices.Contains([]string{"plan", "apply", "facts", "check-update", "hold"}, args[0]) {
		for _, a := range b.r.DNFArgs() {
			if strings.HasPrefix(a, "--disableplugin") {
				full = append(full, "--dnf-arg", a)
			}
		}
	}
	out, code := runCLI(b.t, full...)
	b.t.Logf("%s", out)
	return out, code
}

// apply runs apply and returns its output and the number of dnf
// transactions, counted twice: as apply reports it and from the root's
// own dnf history.
func (b *bedRoot) apply(wantCode int) (string, int) {
	b.t.Helper()
	before := b.history()
	out, code := b.zi("apply", "--auto-approve")
	if code != wantCode {
		b.t.Fatalf("apply exited %d, want %d", code, wantCode)
	}
	txns := b.history() - before
	if m := regexp.MustCompile(`; (\d+) dnf transactions\)`).FindStringSubmatch(out); m != nil {
		if n, _ := strconv.Atoi(m[1]); n != txns {
			b.t.Errorf("apply says %d dnf transactions, dnf history in the root shows %d", n, txns)
		}
	} else if wantCode == 0 {
		b.t.Errorf("apply did not report its dnf transactions")
	}
	b.t.Logf("apply: %d dnf transactions (dnf history in the root)", txns)
	return out, txns
}

func (b *bedRoot) history() int {
	out, err := b.r.TryDNF("history", "list")
	if err != nil {
		return 0
	}
	return len(regexp.MustCompile(`(?m)^\s+\d+ \|`).FindAllString(out, -1))
}

func (b *bedRoot) installed(nvraPrefix string) bool {
	for _, p := range b.r.Installed(b.t) {
		if strings.HasPrefix(p, nvraPrefix) {
			return true
		}
	}
	return false
}

func (b *bedRoot) wantInstalled(prefixes ...string) {
	b.t.Helper()
	for _, p := range prefixes {
		if !b.installed(p) {
			b.t.Errorf("%s is not installed; installed: %v", p, b.r.Installed(b.t))
		}
	}
}

func (b *bedRoot) wantNotInstalled(prefixes ...string) {
	b.t.Helper()
	for _, p := range prefixes {
		if b.installed(p) {
			b.t.Errorf("%s is installed and must not be", p)
		}
	}
}

// converged asserts a second plan has nothing to do (-detailed-exitcode 0)
// and found that out without asking any repository: the debug log of
// every command it ran names no dnf.
func (b *bedRoot) converged() {
	b.t.Helper()
	out, code := b.zi("plan", "-detailed-exitcode", "--log-level", "debug")
	if code != 0 || !strings.Contains(out, "No changes. This host already matches the spec.") {
		b.t.Fatalf("second plan: exit %d, want 0 and \"No changes\"", code)
	}
	if !strings.Contains(out, `cmd="rpm `) && !strings.Contains(out, "read from the rpm database in process") {
		b.t.Fatalf("the debug log shows neither commands nor the rpm database read; the no-network check below would prove nothing")
	}
	if strings.Contains(out, `cmd="dnf `) {
		b.t.Errorf("planning a converged host ran dnf (repository access); it must not")
	}
}

func (b *bedRoot) repoEnabled(section string) string {
	b.t.Helper()
	data := b.r.ReadFile(b.t, "/etc/yum.repos.d/zfs.repo")
	re := regexp.MustCompile(`(?s)\[` + regexp.QuoteMeta(section) + `\][^\[]*?enabled\s*=\s*(\d)`)
	m := re.FindStringSubmatch(data)
	if m == nil {
		b.t.Fatalf("zfs.repo has no enabled= for [%s]", section)
	}
	return m[1]
}

func TestIntegrationStockKmod(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	b.writeSpec("")
	if _, code := b.zi("plan", "-detailed-exitcode"); code != 2 {
		t.Fatalf("plan on a fresh host: exit %d, want 2 (changes)", code)
	}
	_, txns := b.apply(0)
	if txns != 1 {
		t.Errorf("dnf transactions = %d, want 1 (zfs + kmod-zfs; zfs-release, verified, goes in with rpm -U)", txns)
	}
	b.wantInstalled("zfs-release-3-0", "zfs-"+testbed.ZFSNew, "kmod-zfs-"+testbed.ZFSNew)
	b.wantNotInstalled("zfs-dkms", "dkms")
	if b.repoEnabled("zfs") != "0" || b.repoEnabled("zfs-kmod") != "1" {
		t.Errorf("zfs.repo: [zfs] enabled=%s [zfs-kmod] enabled=%s, want 0 and 1", b.repoEnabled("zfs"), b.repoEnabled("zfs-kmod"))
	}
	if v, err := b.r.TryModinfo(testbed.Kernel94, "version", "zfs"); err != nil || v != testbed.ZFSNew+"-1" {
		t.Errorf("modinfo -k %s zfs = %q, %v; want %s-1", testbed.Kernel94, v, err, testbed.ZFSNew)
	}
	if !strings.Contains(strings.Join(b.r.ImportedKeys(t), " "), strings.ToLower(b.p.Fingerprint()[len(b.p.Fingerprint())-8:])) {
		t.Errorf("the zfs-release key was not imported into the root's rpm database: %v", b.r.ImportedKeys(t))
	}
	b.converged()
	if out, code := b.zi("verify"); code != 0 {
		t.Errorf("verify: exit %d\n%s", code, out)
	}
}

// dkmsCalls returns what the test bed's dkms was asked to do.
func (b *bedRoot) dkmsCalls() string {
	if !b.r.Exists("/var/lib/dkms-test/calls.log") {
		return ""
	}
	return b.r.ReadFile(b.t, "/var/lib/dkms-test/calls.log")
}

func TestIntegrationELRepoDKMS(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"), "kernel-lt-"+strings.TrimSuffix(testbed.KernelLT, ".x86_64"))
	b.writeSpec("")
	out, code := b.zi("plan", "-detailed-exitcode")
	if code != 2 || !strings.Contains(out, "Packaging: dkms") || !strings.Contains(out, "ELRepo lt kernel") {
		t.Fatalf("plan: exit %d, want 2 with DKMS chosen for the ELRepo kernel", code)
	}
	_, txns := b.apply(0)
	if txns != 2 {
		t.Errorf("dnf transactions = %d, want 2 (zfs-release + epel-release; kernel-lt-devel + dkms + zfs + zfs-dkms)", txns)
	}
	b.wantInstalled("epel-release", "dkms", "zfs-"+testbed.ZFSNew, "zfs-dkms-"+testbed.ZFSNew, "kernel-lt-devel-6.1.80-1.el9.elrepo")
	b.wantNotInstalled("kmod-zfs", "kernel-core-5.14.0-503") // dkms's kernel-devel-matched must not drag in a newer kernel
	if calls := b.dkmsCalls(); !strings.Contains(calls, "install -m zfs -v "+testbed.ZFSNew+" -k "+testbed.KernelLT) {
		t.Errorf("dkms was not asked to build for %s; calls:\n%s", testbed.KernelLT, calls)
	}
	if v, err := b.r.TryModinfo(testbed.KernelLT, "version", "zfs"); err != nil || v != testbed.ZFSNew+"-1" {
		t.Errorf("modinfo -k %s zfs = %q, %v", testbed.KernelLT, v, err)
	}
	if strings.Contains(b.r.ReadFile(t, "/etc/yum.repos.d/elrepo.repo"), "[elrepo-kernel]\nenabled=1") {
		t.Error("elrepo-kernel was left enabled")
	}
	b.converged()
}

func TestIntegrationOlderTargetKernel(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"), "kernel-"+strings.TrimSuffix(testbed.Kernel95, ".x86_64"))
	b.writeSpec("  packaging = \"dkms\"\n}\nkernel {\n  target = \"" + testbed.Kernel94 + "\"\n")
	b.apply(0)
	b.wantInstalled("kernel-devel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"), "zfs-dkms-"+testbed.ZFSNew)
	b.wantNotInstalled("kernel-devel-" + strings.TrimSuffix(testbed.Kernel95, ".x86_64"))
	calls := b.dkmsCalls()
	if !strings.Contains(calls, "-k "+testbed.Kernel94) || strings.Contains(calls, "install -m zfs -v "+testbed.ZFSNew+" -k "+testbed.Kernel95) {
		t.Errorf("dkms must build for the older target %s only; calls:\n%s", testbed.Kernel94, calls)
	}
	b.converged()
}

func TestIntegrationSwitchDKMSToKmod(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	b.writeSpec("  packaging = \"dkms\"\n")
	b.apply(0)
	b.wantInstalled("zfs-dkms-" + testbed.ZFSNew)
	b.writeSpec("  packaging = \"kmod\"\n")
	out, code := b.zi("plan", "-detailed-exitcode")
	if code != 2 || !strings.Contains(out, "- remove zfs-dkms") {
		t.Fatalf("plan: exit %d, want the removal of zfs-dkms planned", code)
	}
	_, txns := b.apply(0)
	if txns != 1 {
		t.Errorf("dnf transactions = %d, want 1: zfs-dkms out and kmod-zfs in together", txns)
	}
	b.wantInstalled("kmod-zfs-"+testbed.ZFSNew, "zfs-"+testbed.ZFSNew)
	b.wantNotInstalled("zfs-dkms")
	if b.repoEnabled("zfs") != "0" || b.repoEnabled("zfs-kmod") != "1" {
		t.Errorf("zfs.repo sections not flipped: zfs=%s zfs-kmod=%s", b.repoEnabled("zfs"), b.repoEnabled("zfs-kmod"))
	}
	if v, err := b.r.TryModinfo(testbed.Kernel94, "version", "zfs"); err != nil || v != testbed.ZFSNew+"-1" {
		t.Errorf("modinfo after the switch = %q, %v", v, err)
	}
	b.converged()
}

func TestIntegrationPinnedVersionHeld(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	b.writeSpec("  version = \"" + testbed.ZFSOld + "\"\n")
	b.apply(0)
	b.wantInstalled("zfs-"+testbed.ZFSOld, "kmod-zfs-"+testbed.ZFSOld, "libzfs5-"+testbed.ZFSOld)
	b.wantNotInstalled("zfs-" + testbed.ZFSNew)
	b.converged()
	// An administrator's plain `dnf update` must not move a held release.
	// It does install the newest kernel (9.6), whose kABI the 9.4 kmod does
	// not fit: the next plan targets that kernel and says so.
	b.r.DNF(t, "update")
	b.wantInstalled("zfs-"+testbed.ZFSOld, "kmod-zfs-"+testbed.ZFSOld)
	b.wantNotInstalled("zfs-"+testbed.ZFSNew, "kmod-zfs-"+testbed.ZFSNew)
	out, _ := b.zi("plan")
	if !strings.Contains(out, "kmod-zfs "+testbed.ZFSOld+" requires 2 kernel symbols and kernel "+testbed.Kernel96+" does not provide") {
		t.Errorf("the plan for the new 9.6 kernel must say the installed kmod does not fit it")
	}
}

// wantRepoFilesIntact checks every repo file in the root still parses.
func (b *bedRoot) wantRepoFilesIntact() {
	b.t.Helper()
	if _, code := b.zi("facts"); code != 0 {
		b.t.Errorf("facts failed after a fault: a repo file may be corrupted")
	}
}

func TestIntegrationFaultUnreachableRepo(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	b.writeSpec("")
	restore := b.p.BreakRepo(t, "zfs-kmod")
	out, _ := b.apply(1)
	if !strings.Contains(out, "repository zfs-kmod cannot be reached") {
		t.Errorf("the error does not name the unreachable repository")
	}
	b.wantRepoFilesIntact()
	restore()
	b.apply(0)
	b.wantInstalled("kmod-zfs-" + testbed.ZFSNew)
	b.converged()
}

func TestIntegrationFaultUnsignedPackage(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	b.writeSpec("")
	t.Run("unsigned 2.2.9 in zfs-kmod", func(t *testing.T) {
		b.p.AddUnsigned(t, "zfs-kmod", "zfs", "zfs_version=2.2.9")
		b.p.AddUnsigned(t, "zfs-kmod", "kmod-zfs", "zfs_version=2.2.9")
		bt := *b
		bt.t = t
		out, _ := bt.apply(1)
		if !strings.Contains(out, "failed its signature check") {
			t.Errorf("the error does not say a package failed its signature check")
		}
		bt.wantNotInstalled("zfs-2.2.9", "kmod-zfs")
		bt.wantRepoFilesIntact()
	})
	// The unsigned packages are gone again: a re-run converges on 2.2.8.
	b.apply(0)
	b.wantInstalled("kmod-zfs-" + testbed.ZFSNew)
	b.converged()
}

func TestIntegrationFaultKernelDevelGone(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	b.writeSpec("  packaging = \"dkms\"\n")
	restore := b.p.RemoveFromRepo(t, "appstream", "kernel-devel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	out, _ := b.apply(1)
	for _, want := range []string{"kernel-devel-" + testbed.Kernel94 + " is not offered", "update the kernel and reboot", "vault"} {
		if !strings.Contains(out, want) {
			t.Errorf("the error does not say %q", want)
		}
	}
	b.wantNotInstalled("zfs-dkms", "zfs-2")
	restore()
	b.apply(0)
	b.wantInstalled("kernel-devel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"), "zfs-dkms-"+testbed.ZFSNew)
	b.converged()
}

func TestIntegrationFaultDNFKilled(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	b.writeSpec("")
	b.r.ArmKill(t, "kmod-zfs")
	out, _ := b.apply(1)
	if !strings.Contains(out, "dnf was killed") {
		t.Errorf("the error does not say dnf was killed")
	}
	b.wantRepoFilesIntact()
	b.r.DisarmKill(t)
	b.apply(0)
	b.wantInstalled("zfs-"+testbed.ZFSNew, "kmod-zfs-"+testbed.ZFSNew)
	b.converged()
}

func TestIntegrationTamperedReleaseRefused(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	data, err := os.ReadFile(b.p.ZFSRelease)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-100] ^= 0x01 // one bit in the payload
	tampered := filepath.Join(t.TempDir(), filepath.Base(b.p.ZFSRelease))
	if err := os.WriteFile(tampered, data, 0o644); err != nil {
		t.Fatal(err)
	}
	b.spec = filepath.Join(t.TempDir(), "zfsinstall.hcl")
	os.WriteFile(b.spec, []byte("zfs {\n  release_rpm = \""+tampered+"\"\n}\n"), 0o644)
	packagesBefore, keysBefore := b.r.Installed(t), b.r.ImportedKeys(t)

	out, code := b.zi("plan")
	if code != 1 || !strings.Contains(out, "zfs-release refused") || !strings.Contains(out, "damaged or was tampered with") {
		t.Errorf("plan: exit %d, want 1 refusing the tampered zfs-release at plan time", code)
	}
	out, code = b.zi("apply", "--auto-approve")
	if code != 1 || !strings.Contains(out, "tampered") {
		t.Errorf("apply: exit %d, want 1 refusing the tampered zfs-release", code)
	}
	if diff := strings.Join(b.r.Installed(t), " "); diff != strings.Join(packagesBefore, " ") {
		t.Errorf("packages changed after a refusal:\nbefore %v\nafter  %v", packagesBefore, b.r.Installed(t))
	}
	if strings.Join(b.r.ImportedKeys(t), " ") != strings.Join(keysBefore, " ") {
		t.Errorf("keys were imported after a refusal: %v", b.r.ImportedKeys(t))
	}
	if b.r.Exists("/etc/yum.repos.d/zfs.repo") {
		t.Error("zfs.repo exists after the release package was refused")
	}
	// The genuine package then installs, is verified, and its sections flip.
	b.writeSpec("")
	out, _ = b.apply(0)
	if !strings.Contains(out, "verified now: signed by") {
		t.Errorf("the plan does not say the release package was verified at plan time")
	}
	b.converged()
}

func TestIntegrationSavedPlan(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	b.writeSpec("")
	planFile := filepath.Join(t.TempDir(), "plan.json")
	dnfArg := "--disableplugin=local,show-leaves,generate_completion_cache"
	out, code := b.zi("plan", "--out", planFile)
	if code != 0 {
		t.Fatalf("plan --out: exit %d", code)
	}
	if want := "zfsinstall apply " + planFile + " --root " + b.r.Dir + " --release-key " + b.p.KeyFile + " --dnf-arg " + dnfArg + "\n"; !strings.Contains(out, want) {
		t.Errorf("the saved-plan hint is not %q", want)
	}
	// An administrator edits a file zfsinstall manages after the plan was made: the saved plan is stale.
	os.MkdirAll(filepath.Join(b.r.Dir, "etc/modprobe.d"), 0o755)
	os.WriteFile(filepath.Join(b.r.Dir, "etc/modprobe.d/zfs.conf"), []byte("options zfs zfs_arc_max=1073741824\n"), 0o644)
	out, code = runCLI(t, "apply", planFile, "--root", b.r.Dir, "--release-key", b.p.KeyFile, "--dnf-arg", dnfArg)
	if code != 1 || !strings.Contains(out, "saved plan is stale") {
		t.Fatalf("apply of a stale plan: exit %d, want 1 and \"saved plan is stale\"\n%s", code, out)
	}
	b.wantNotInstalled("zfs-release")
	// A fresh saved plan applies, re-planned with the same release key and
	// dnf arguments, which the file does not carry.
	if _, code := b.zi("plan", "--out", planFile); code != 0 {
		t.Fatalf("plan --out: exit %d", code)
	}
	out, code = runCLI(t, "apply", planFile, "--root", b.r.Dir, "--dnf-arg", dnfArg)
	if code != 1 || !strings.Contains(out, "pass the same --release-key FILE to apply") {
		t.Fatalf("apply without the plan's --release-key: exit %d, want 1\n%s", code, out)
	}
	b.wantNotInstalled("zfs-release")
	before := b.history()
	out, code = runCLI(t, "apply", planFile, "--root", b.r.Dir, "--release-key", b.p.KeyFile, "--dnf-arg", dnfArg, "--json")
	if code != 0 {
		t.Fatalf("apply --json of a fresh saved plan: exit %d\n%s", code, out)
	}
	b.wantInstalled("kmod-zfs-" + testbed.ZFSNew)
	// apply --json names what real dnf installed and how many transactions ran.
	_, doc, _ := strings.Cut(out, "\n{")
	var r views.ApplyReport
	if err := json.Unmarshal([]byte("{"+doc), &r); err != nil {
		t.Fatalf("apply --json: %v\n%s", err, out)
	}
	if !r.OK || r.Transactions != b.history()-before || !slices.Contains(r.Installed, "zfs-"+testbed.ZFSNew+"-1.el9.x86_64") ||
		!slices.Contains(r.Installed, "kmod-zfs-"+testbed.ZFSNew+"-1.el9.x86_64") || !slices.Contains(r.Done, "release.zfs-release") {
		t.Errorf("apply --json report: ok %v, %d transactions (dnf history: %d), installed %v, done %v", r.OK, r.Transactions, b.history()-before, r.Installed, r.Done)
	}
}

// A new EL minor is out before OpenZFS has published its kmod: the bed's
// kmod-zfs is built for EL 9.4 and the host runs EL 9.5's kernel.
func TestIntegrationKmodNotPublishedForMinor(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel95, ".x86_64"))
	b.writeSpec("  packaging = \"kmod\"\n")
	out, _ := b.apply(1)
	if !strings.Contains(out, "kmod-zfs "+testbed.ZFSNew+" requires 2 kernel symbols and kernel "+testbed.Kernel95+" does not provide 2 of them") {
		t.Errorf("apply must refuse before installing ZFS, saying the kmod's kABI symbols are not provided by the 9.5 kernel")
	}
	b.wantNotInstalled("zfs-2", "kmod-zfs")
	if got := b.repoEnabled("zfs-kmod"); got != "0" {
		t.Errorf("zfs-kmod enabled=%s: the refusal must come before zfs.repo is changed", got)
	}
	// With the repositories asked, auto packaging sees it at plan time and chooses DKMS.
	b.writeSpec("")
	out, code := b.zi("plan", "--refresh")
	if code != 0 || !strings.Contains(out, "Packaging: dkms") || !strings.Contains(out, "does not provide 2 of them") {
		t.Errorf("plan --refresh: exit %d, want DKMS chosen because no offered kmod fits the 9.5 kernel's kABI", code)
	}
}

func TestIntegrationDay2(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	b.writeSpec("  version = \"" + testbed.ZFSOld + "\"\n}\nservices {\n  verify_on_boot = true\n}\nguard {\n  enabled = true\n")
	b.apply(0)
	for _, f := range []string{"/etc/zfsinstall/host.hcl", "/etc/systemd/system/zfsinstall-verify.service",
		"/etc/kernel/install.d/98-zfsinstall-guard.install", "/etc/systemd/system/multi-user.target.wants/zfsinstall-verify.service",
		"/etc/dnf/plugins/needs-restarting.d/zfs.conf"} {
		if !b.r.Exists(f) {
			t.Errorf("%s is missing after apply", f)
		}
	}
	hook := filepath.Join(b.r.Dir, "/etc/kernel/install.d/98-zfsinstall-guard.install")
	if fi, err := os.Stat(hook); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("guard hook mode = %v (%v), want 0755", fi.Mode(), err)
	}
	// zfsinstall runs from outside the root here and the root has no
	// zfsinstall of its own: the hook names where the RPM puts it.
	if data, _ := os.ReadFile(hook); !strings.Contains(string(data), "ZFSINSTALL=/usr/sbin/zfsinstall\n") {
		t.Errorf("the guard hook must run /usr/sbin/zfsinstall:\n%s", data)
	}
	b.converged()
	// The guard decides from the kABI: the installed kernel fits the 9.4
	// kmod; a kernel that is not installed cannot be read (exit 3); once
	// the 9.5 kernel is installed its symbols are read and do not fit.
	if out, code := b.zi("guard", "--kernel", testbed.Kernel94); code != 0 {
		t.Errorf("guard for the running EL 9.4 kernel: exit %d\n%s", code, out)
	}
	if out, code := b.zi("guard", "--kernel", testbed.Kernel95); code != 3 || !strings.Contains(out, "not in the rpm database") {
		t.Errorf("guard for a kernel that is not installed: exit %d, want 3", code)
	}
	// kernel.hold (on by default) keeps that kernel from dnf: apply held
	// every offered kernel the 9.4 kmod does not fit.
	if _, err := b.r.TryDNF("install", "kernel-core-"+strings.TrimSuffix(testbed.Kernel95, ".x86_64")); err == nil {
		t.Errorf("dnf installed a kernel the kernel hold holds")
	}
	// An administrator who overrides the hold gets the guard as the last line.
	b.r.DNF(t, "--disableexcludes=main", "install", "kernel-core-"+strings.TrimSuffix(testbed.Kernel95, ".x86_64"))
	if out, code := b.zi("guard", "--kernel", testbed.Kernel95); code != 1 || !strings.Contains(out, "does not provide 2 of them") {
		t.Errorf("guard for the installed EL 9.5 kernel: exit %d, want 1 naming the symbols the kmod misses", code)
	}
}

// BenchmarkIntegrationPlanConverged times a whole `zfsinstall plan` (fact
// gathering with the real rpm, modinfo and dkms, then planning) on a
// converged EL9 root.
func BenchmarkIntegrationPlanConverged(bm *testing.B) {
	testbed.Require(bm)
	p := testbed.Build(bm)
	r := testbed.NewRoot(bm, p, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	for _, kv := range r.Env() {
		k, v, _ := strings.Cut(kv, "=")
		bm.Setenv(k, v)
	}
	specFile := filepath.Join(bm.TempDir(), "zfsinstall.hcl")
	os.WriteFile(specFile, []byte("zfs {\n  release_rpm = \""+p.ZFSRelease+"\"\n}\n"), 0o644)
	args := []string{"--root", r.Dir, "-f", specFile, "--release-key", p.KeyFile, "--dnf-arg", "--disableplugin=local,show-leaves,generate_completion_cache"}
	var out strings.Builder
	if code := run(append([]string{"apply", "--auto-approve"}, args...), strings.NewReader(""), &out, &out); code != 0 {
		bm.Fatalf("apply: %d\n%s", code, out.String())
	}
	bm.ResetTimer()
	for bm.Loop() {
		out.Reset()
		if code := run(append([]string{"plan", "-detailed-exitcode"}, args...), strings.NewReader(""), &out, &out); code != 0 {
			bm.Fatalf("plan on a converged root: exit %d\n%s", code, out.String())
		}
	}
}

func TestIntegrationFaultDKMSBuildFails(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	b.writeSpec("  packaging = \"dkms\"\n")
	marker := filepath.Join(b.r.Dir, "var/lib/zfs-test/dkms-build-fail")
	os.MkdirAll(filepath.Dir(marker), 0o755)
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := b.apply(1)
	for _, want := range []string{"step dkms." + testbed.Kernel94, "dkms install -m zfs -v " + testbed.ZFSNew + " -k " + testbed.Kernel94,
		"last lines of /var/lib/dkms/zfs/" + testbed.ZFSNew + "/build/make.log", "None of the expected"} {
		if !strings.Contains(out, want) {
			t.Errorf("the error does not show %q", want)
		}
	}
	os.Remove(marker)
	b.apply(0)
	if v, err := b.r.TryModinfo(testbed.Kernel94, "version", "zfs"); err != nil || v != testbed.ZFSNew+"-1" {
		t.Errorf("modinfo after the re-run = %q, %v", v, err)
	}
	b.converged()
}

// state is what a refused apply must leave byte-identical: the root's rpm
// database files and every file under /etc.
func (b *bedRoot) state() string {
	b.t.Helper()
	var s strings.Builder
	for _, dir := range []string{"/var/lib/rpm", "/etc"} {
		filepath.Walk(filepath.Join(b.r.Dir, dir), func(p string, fi os.FileInfo, err error) error {
			// rpmdb.sqlite-shm is sqlite's shared-memory index, rewritten
			// by every reader (rpm -q); the database itself must not change.
			if err != nil || fi.IsDir() || strings.HasSuffix(p, ".sqlite-shm") {
				return nil
			}
			data, _ := os.ReadFile(p)
			fmt.Fprintf(&s, "%s %s %x\n", strings.TrimPrefix(p, b.r.Dir), fi.Mode(), sha256.Sum256(data))
			return nil
		})
	}
	return s.String()
}

// TestIntegrationRefusalsChangeNothing: refusals that can be known before
// the host changes come before it changes (issue 11 item 5's reproducers):
// a --kernel that is not installed, and a version range no release
// satisfies on the target kernel. The rpm database and /etc stay
// byte-identical.
func TestIntegrationRefusalsChangeNothing(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"), "kernel-"+strings.TrimSuffix(testbed.Kernel95, ".x86_64"))
	for name, tc := range map[string]struct {
		spec string
		args []string
		want string
	}{
		"kernel not installed": {spec: "", args: []string{"--kernel", "9.9.9-bogus"}, want: "kernel 9.9.9-bogus is not installed"},
		// 2.1.0-2.1.15 do not build on EL 9.5 (openzfs/zfs#16746).
		"no release builds": {spec: "  packaging = \"dkms\"\n  version = \">= 2.1.0, < 2.1.16\"\n}\nkernel {\n  target = \"" + testbed.Kernel95 + "\"\n",
			want: "no OpenZFS release zfs.version = \">= 2.1.0, < 2.1.16\" allows builds on kernel " + testbed.Kernel95},
	} {
		t.Run(name, func(t *testing.T) {
			b.writeSpec(tc.spec)
			before := b.state()
			out, code := b.zi(append([]string{"apply", "--auto-approve"}, tc.args...)...)
			if code != 1 || !strings.Contains(out, tc.want) {
				t.Errorf("apply: exit %d, want 1 and %q", code, tc.want)
			}
			if after := b.state(); after != before {
				t.Errorf("a refused apply changed the root (rpm database or /etc):\n%s", lineDiff(before, after))
			}
		})
	}
}

// lineDiff lists the lines only one of a and b has.
func lineDiff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ina, inb := in(a), in(b)
	var out []string
	for l := range ina {
		if !inb[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range inb {
		if !ina[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// TestIntegrationMirror serves the OpenZFS repositories from a second path
// (zfs.mirror) while the original is unreachable: an update installs from
// the mirror, the original baseurl is kept in /etc/zfsinstall/repo-origins,
// and removing zfs.mirror restores it (issue 12 item 6).
func TestIntegrationMirror(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	b.writeSpec("  packaging = \"kmod\"\n  version = \"" + testbed.ZFSOld + "\"\n")
	b.apply(0)
	original := b.sectionBaseURL("zfs-kmod")
	mirror := filepath.Join(t.TempDir(), "mirror")
	if out, err := exec.Command("cp", "-a", filepath.Join(b.p.Dir, "repos", "zfsonlinux"), mirror).CombinedOutput(); err != nil {
		t.Fatalf("copying the mirror: %v\n%s", err, out)
	}
	restore := b.p.BreakRepo(t, "zfs-kmod")
	b.writeSpec("  packaging = \"kmod\"\n  version = \"" + testbed.ZFSNew + "\"\n  mirror = \"file://" + mirror + "\"\n")
	b.apply(0)
	b.wantInstalled("kmod-zfs-"+testbed.ZFSNew, "zfs-"+testbed.ZFSNew)
	want := "file://" + mirror + "/epel/$releasever/kmod/$basearch/"
	if got := b.sectionBaseURL("zfs-kmod"); got != want {
		t.Errorf("[zfs-kmod] baseurl = %q, want %q", got, want)
	}
	if data := b.r.ReadFile(t, "/etc/zfsinstall/repo-origins"); !strings.Contains(data, "zfs-kmod="+original+"\n") {
		t.Errorf("repo-origins does not keep the original baseurl %q:\n%s", original, data)
	}
	b.converged()
	restore()
	b.writeSpec("  packaging = \"kmod\"\n  version = \"" + testbed.ZFSNew + "\"\n")
	b.apply(0)
	if got := b.sectionBaseURL("zfs-kmod"); got != original {
		t.Errorf("[zfs-kmod] baseurl after removing zfs.mirror = %q, want the original %q", got, original)
	}
	if b.r.Exists("/etc/zfsinstall/repo-origins") {
		t.Error("repo-origins is still there after zfs.mirror was removed")
	}
	b.converged()
}

// sectionBaseURL reads a zfs.repo section's baseurl.
func (b *bedRoot) sectionBaseURL(section string) string {
	b.t.Helper()
	data := b.r.ReadFile(b.t, "/etc/yum.repos.d/zfs.repo")
	re := regexp.MustCompile(`(?s)\[` + regexp.QuoteMeta(section) + `\][^\[]*?baseurl\s*=\s*(\S+)`)
	if m := re.FindStringSubmatch(data); m != nil {
		return m[1]
	}
	return ""
}
