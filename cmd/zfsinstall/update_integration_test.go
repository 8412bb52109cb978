package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zfsinstall/zfsinstall/testbed"
	"github.com/zfsinstall/zfsinstall/update"
	"github.com/zfsinstall/zfsinstall/views"
)

// checkUpdate runs check-update --json and decodes its report.
func (b *bedRoot) checkUpdate(extra ...string) (*update.Report, int) {
	b.t.Helper()
	out, code := b.zi(append([]string{"check-update", "--json"}, extra...)...)
	var doc views.UpdateDocument
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &doc); err != nil {
		b.t.Fatalf("check-update --json: %v\n%s", err, out)
	}
	if doc.Report == nil && code != 3 {
		b.t.Fatalf("check-update --json printed no report (exit %d): %s", code, doc.Error)
	}
	return doc.Report, code
}

func kernelState(r *update.Report, rel string) (update.Kernel, bool) {
	for _, k := range r.Kernels {
		if k.Release == rel {
			return k, true
		}
	}
	return update.Kernel{}, false
}

func hasProblem(r *update.Report, sev update.Severity, phrase string) bool {
	for _, p := range r.Problems {
		if p.Severity == sev && strings.Contains(p.Summary+" "+p.Detail, phrase) {
			return true
		}
	}
	return false
}

// TestIntegrationUpdateKmod: the pending `dnf upgrade` of a kmod host is
// judged before it runs, with real dnf, on real kernel data (the bed's
// kernels carry the kABI of Debian header trees, the kmod is compiled
// against Kernel94's). Without the hold dnf would install the newest
// kernel, whose kABI the kmod does not fit: not safe, exit 1. With
// kernel.hold (the default) apply excludes exactly the offered kernels the
// kmod does not fit; when the repositories start offering two new kernels,
// one that fits and a newer one that does not, `zfsinstall hold` (what the
// timer runs) adds the one that does not, check-update is safe, and a plain
// `dnf upgrade` installs the one that fits and not the other. A kmod
// rebuilt for the held kernel lifts its hold. verify reports the hold, and
// turning it off gives dnf.conf back byte for byte.
func TestIntegrationUpdateKmod(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	dnfConf := b.r.ReadFile(t, "/etc/dnf/dnf.conf")
	b.writeSpec("  packaging = \"kmod\"\n}\nkernel {\n  hold = false\n")
	b.apply(0)

	r, code := b.checkUpdate()
	if code != 1 || r.Safe {
		t.Fatalf("check-update without the hold: exit %d, safe %v; want 1 and not safe", code, r.Safe)
	}
	k, ok := kernelState(r, testbed.Kernel96)
	if !ok || k.State != update.Installs || k.Works {
		t.Errorf("kernel %s: %+v; want dnf to install it and ZFS not to work there", testbed.Kernel96, k)
	}
	if !hasProblem(r, update.Error, "dnf would install kernel "+testbed.Kernel96) || !hasProblem(r, update.Error, "does not provide") {
		t.Errorf("problems do not say dnf would install %s and why: %+v", testbed.Kernel96, r.Problems)
	}
	if r.Hold.Enabled {
		t.Errorf("the hold is off, the report says it is on")
	}

	// kernel.hold on: apply holds every offered kernel the kmod does not fit.
	b.writeSpec("  packaging = \"kmod\"\n")
	out, _ := b.apply(0)
	for _, kver := range []string{testbed.Kernel94Z, testbed.Kernel95, testbed.Kernel96} {
		if !strings.Contains(out, "kernel hold: now holds "+kver) {
			t.Errorf("apply did not hold %s", kver)
		}
	}
	conf := b.r.ReadFile(t, "/etc/dnf/dnf.conf")
	if !strings.HasPrefix(conf, dnfConf) || strings.Contains(conf, "kernel*") {
		t.Errorf("dnf.conf after the hold:\n%s", conf)
	}
	for _, pkg := range testbed.KernelPackages(testbed.Kernel96) {
		if !strings.Contains(conf, pkg+".x86_64") {
			t.Errorf("dnf.conf does not exclude %s", pkg)
		}
	}
	r, code = b.checkUpdate("-detailed-exitcode")
	if code != 0 || !r.Safe || len(r.Hold.Held) != 3 {
		t.Errorf("check-update with the hold: exit %d, safe %v, held %d, problems %+v; want 0, safe, 3 held and nothing pending", code, r.Safe, len(r.Hold.Held), r.Problems)
	}

	// The repositories start offering a kernel the kmod fits and a newer one it does not.
	b.p.PublishKernelUpdates(t)
	b.r.ExpireCache()
	r, code = b.checkUpdate()
	if code != 1 || !hasProblem(r, update.Error, "dnf would install kernel "+testbed.KernelUpdateBreak) {
		t.Errorf("check-update before the timer caught up: exit %d, problems %+v; want 1 naming %s", code, r.Problems, testbed.KernelUpdateBreak)
	}
	if k, _ := kernelState(r, testbed.KernelUpdateFit); k.State != update.Offered || !k.Works {
		t.Errorf("%s: %+v; want offered, ZFS working", testbed.KernelUpdateFit, k)
	}
	out, code = b.zi("hold", "--refresh")
	if code != 0 || !strings.Contains(out, "now holds "+testbed.KernelUpdateBreak) || strings.Contains(out, "now holds "+testbed.KernelUpdateFit) {
		t.Fatalf("hold: exit %d; want %s held and %s not", code, testbed.KernelUpdateBreak, testbed.KernelUpdateFit)
	}
	r, code = b.checkUpdate("-detailed-exitcode")
	if k, _ := kernelState(r, testbed.KernelUpdateFit); code != 2 || !r.Safe || k.State != update.Installs || !k.Works {
		t.Errorf("check-update with both held: exit %d, %s %+v; want 2 (safe, a kernel pending) and dnf installing %s", code, testbed.KernelUpdateFit, k, testbed.KernelUpdateFit)
	}
	// dnf itself, by hand, as dnf-automatic would: the kernel that fits, not the other.
	b.r.DNF(t, "-y", "upgrade")
	kernels := b.r.RPM(t, "-q", "--qf", "%{VERSION}-%{RELEASE}.%{ARCH}\n", "kernel-core")
	if !strings.Contains(kernels, testbed.KernelUpdateFit) || strings.Contains(kernels, testbed.KernelUpdateBreak) {
		t.Errorf("dnf upgrade with the hold installed:\n%s\nwant %s and not %s", kernels, testbed.KernelUpdateFit, testbed.KernelUpdateBreak)
	}
	// A held kernel is the hold working: verify stays healthy and says so.
	if vout, vcode := b.zi("verify", "--json"); vcode != 0 || !strings.Contains(vout, `"id": "kernel-hold"`) || !strings.Contains(vout, "held back from dnf: ") ||
		!strings.Contains(vout, `"held_kernels"`) || !strings.Contains(vout, testbed.KernelUpdateBreak+" (kmod-kabi-fits") {
		t.Errorf("verify: exit %d; want 0 with the kernel-hold check naming the held kernels", vcode)
	}

	// OpenZFS publishes a kmod rebuilt for the held kernel: the hold lifts.
	b.p.PublishKmod(t, testbed.KmodBuild{Version: testbed.ZFSNew, Release: "2", Kernel: testbed.KernelUpdateBreak})
	b.r.ExpireCache()
	out, code = b.zi("hold", "--refresh", "--json")
	var doc views.UpdateDocument
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &doc); err != nil || code != 0 || doc.Hold == nil {
		t.Fatalf("hold --json: exit %d, %v", code, err)
	}
	if !slices.Contains(doc.Hold.Lifted, testbed.KernelUpdateBreak) || len(doc.Hold.Held) != 0 {
		t.Errorf("hold after the rebuilt kmod: %+v; want %s lifted and nothing held", doc.Hold, testbed.KernelUpdateBreak)
	}
	r, code = b.checkUpdate()
	if k, _ := kernelState(r, testbed.KernelUpdateBreak); code != 0 || k.State != update.Installs || !k.Works || r.Module.To != testbed.ZFSNew+"-2.el9" {
		t.Errorf("check-update with the rebuilt kmod: exit %d, %s %+v, module %+v; want safe, dnf installing it with kmod-zfs %s-2", code, testbed.KernelUpdateBreak, k, r.Module, testbed.ZFSNew)
	}

	// kernel.hold = false lifts it: dnf.conf is as it was, byte for byte.
	b.writeSpec("  packaging = \"kmod\"\n}\nkernel {\n  hold = false\n")
	out, _ = b.apply(0)
	if !strings.Contains(out, "- lift the kernel hold") {
		t.Errorf("apply did not plan lifting the hold")
	}
	if got := b.r.ReadFile(t, "/etc/dnf/dnf.conf"); got != dnfConf {
		t.Errorf("dnf.conf after the hold was lifted differs from before it:\n%q\n%q", dnfConf, got)
	}
	if b.r.Exists(update.HoldFile) || b.r.Exists("/etc/systemd/system/zfsinstall-kernel-hold.timer") {
		t.Errorf("the hold's record or timer is left behind")
	}
}

// TestIntegrationLoadability: kmods whose kernel(SYMBOL)s match every
// symbol they use but still fail to load, on real modules and kernels
// (the bed compiles a kmod from the symbols every header tree shares with
// one CRC, StableSymbols): module_layout of another build (#17924, the
// 9.7 kernel), a struct module of another size (#17165, 6.12's 0x500
// bytes against 6.1's 0x380), a kmod built for a newer z-stream than the
// kernel it is installed on (#14411). The guard reads the kernels' files.
func TestIntegrationLoadability(t *testing.T) {
	p := testbed.Build(t)
	b := newBed(t, append([]string{"kernel-" + strings.TrimSuffix(testbed.Kernel94, ".x86_64")},
		append(p.KernelRPMs(t, testbed.Kernel17924), p.KernelRPMs(t, testbed.Kernel17165)...)...)...)
	stable := b.p.KmodRPM(t, testbed.KmodBuild{Version: testbed.ZFSNew, Release: "9", Stable: true})
	b.writeSpec("  packaging = \"kmod\"\n}\nkernel {\n  target = \"" + testbed.Kernel94 + "\"\n  hold = false\n")
	b.apply(0)
	b.r.DNF(t, "install", stable)
	for kver, want := range map[string][]string{
		testbed.Kernel17924: {`"id": "kmod-module-layout"`, "disagrees about version of symbol module_layout", "openzfs/zfs#17924"},
		testbed.Kernel17165: {`"id": "kmod-struct-module"`, "struct module of 896 bytes", "one of 1280", "openzfs/zfs#17165"},
	} {
		out, code := b.zi("guard", "--kernel", kver, "--json")
		if code != 1 {
			t.Errorf("guard %s: exit %d, want 1", kver, code)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("guard %s does not say %q", kver, w)
			}
		}
	}
	if out, code := b.zi("guard", "--kernel", testbed.Kernel94); code != 0 {
		t.Errorf("guard for the kernel the kmod was built for: exit %d\n%s", code, out)
	}
	// A kmod built for Kernel94Z (427.16.1) installed on Kernel94 (427.13.1).
	newer := b.p.KmodRPM(t, testbed.KmodBuild{Version: testbed.ZFSNew, Release: "3", Kernel: testbed.Kernel94Z, Stable: true})
	b.r.DNF(t, "--disableexcludes=main", "install", newer)
	if out, code := b.zi("guard", "--kernel", testbed.Kernel94, "--json"); code != 1 || !strings.Contains(out, "a newer kernel than "+testbed.Kernel94) || !strings.Contains(out, "openzfs/zfs#14411") {
		t.Errorf("guard for a kernel older than the kmod's build kernel: exit %d, want 1 naming #14411", code)
	}
}

// TestIntegrationHoldDKMS: on a DKMS host a kernel whose exact kernel-devel
// the repositories do not offer is held (dkms could not build for it), and
// the hold lifts once it is offered again (zfsinstall hold, as the timer
// runs it).
func TestIntegrationHoldDKMS(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	b.writeSpec("  packaging = \"dkms\"\n")
	out, _ := b.apply(0)
	if strings.Contains(out, "now holds") {
		t.Fatalf("apply held a kernel although zfs-dkms %s builds on every offered kernel and their kernel-devel is offered", testbed.ZFSNew)
	}
	restore := b.p.RemoveFromRepo(t, "appstream", "kernel-devel-"+strings.TrimSuffix(testbed.Kernel96, ".x86_64"))
	b.r.ExpireCache()
	out, code := b.zi("hold", "--refresh")
	if code != 0 || !strings.Contains(out, "now holds "+testbed.Kernel96) || !strings.Contains(out, "is not offered by an enabled repository") {
		t.Fatalf("hold after kernel-devel of %s left the mirror: exit %d", testbed.Kernel96, code)
	}
	r, code := b.checkUpdate()
	if k, _ := kernelState(r, testbed.Kernel96); code != 0 || !k.Held || k.Works {
		t.Errorf("check-update: exit %d, kernel %s %+v; want safe (it is held) and held", code, testbed.Kernel96, k)
	}
	restore()
	b.r.ExpireCache()
	out, code = b.zi("hold", "--refresh", "--json")
	var doc views.UpdateDocument
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &doc); err != nil || code != 0 || doc.Hold == nil {
		t.Fatalf("hold --json: exit %d, %v", code, err)
	}
	if len(doc.Hold.Lifted) != 1 || doc.Hold.Lifted[0] != testbed.Kernel96 || len(doc.Hold.Held) != 0 {
		t.Errorf("hold once kernel-devel is offered again: %+v; want %s lifted and nothing held", doc.Hold, testbed.Kernel96)
	}
	if data, err := os.ReadFile(filepath.Join(b.r.Dir, "etc/dnf/dnf.conf")); err != nil || strings.Contains(string(data), "excludepkgs") {
		t.Errorf("dnf.conf still excludes packages:\n%s", data)
	}
}
