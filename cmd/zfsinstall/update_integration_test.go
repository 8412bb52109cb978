package main

import (
	"encoding/json"
	"os"
	"path/filepath"
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
// judged before it runs, with real dnf. Without the hold, dnf would
// install the newest kernel (EL 9.6's), whose kABI the 9.4 kmod does not
// fit: not safe, exit 1. With kernel.hold (the default) apply excludes
// exactly the offered kernels the kmod does not fit; then check-update is
// safe, a plain `dnf upgrade` installs none of them, verify reports the
// hold, and turning the hold off gives dnf.conf back byte for byte.
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
	if !hasProblem(r, update.Error, "dnf would install kernel "+testbed.Kernel96) || !hasProblem(r, update.Error, "does not provide 2 of them") {
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
	if !strings.HasPrefix(conf, dnfConf) || !strings.Contains(conf, "kernel-core-"+testbed.Kernel96) || strings.Contains(conf, "kernel*") {
		t.Errorf("dnf.conf after the hold:\n%s", conf)
	}
	r, code = b.checkUpdate("-detailed-exitcode")
	if code != 0 || !r.Safe {
		t.Errorf("check-update with the hold: exit %d, safe %v, problems %+v; want 0, safe and nothing pending", code, r.Safe, r.Problems)
	}
	if len(r.Hold.Held) != 3 || len(r.Hold.Evaluated) != 3 {
		t.Errorf("hold in the report: %+v", r.Hold)
	}
	b.r.DNF(t, "-y", "upgrade")
	if kernels := strings.Fields(b.r.RPM(t, "-q", "--qf", "%{VERSION}-%{RELEASE}.%{ARCH}\n", "kernel-core")); len(kernels) != 1 {
		t.Errorf("dnf upgrade with the hold installed kernels: %v", kernels)
	}
	// A held kernel is the hold working: verify stays healthy and says so.
	if vout, vcode := b.zi("verify", "--json"); vcode != 0 || !strings.Contains(vout, `"id": "kernel-hold"`) || !strings.Contains(vout, "held back from dnf: "+testbed.Kernel94Z) {
		t.Errorf("verify: exit %d; want 0 with the kernel-hold check naming the held kernels", vcode)
	}

	// A second apply changes nothing, and the hold stays as it is.
	before := b.r.ReadFile(t, "/etc/dnf/dnf.conf")
	out, _ = b.apply(0)
	if !strings.Contains(out, "No changes") || strings.Contains(out, "now holds") || b.r.ReadFile(t, "/etc/dnf/dnf.conf") != before {
		t.Errorf("a second apply changed the hold")
	}

	// kernel.hold = false lifts it: dnf.conf is as it was, byte for byte.
	b.writeSpec("  packaging = \"kmod\"\n}\nkernel {\n  hold = false\n")
	out, _ = b.apply(0)
	if !strings.Contains(out, "- lift the kernel hold of "+testbed.Kernel94Z) {
		t.Errorf("apply did not plan lifting the hold")
	}
	if got := b.r.ReadFile(t, "/etc/dnf/dnf.conf"); got != dnfConf {
		t.Errorf("dnf.conf after the hold was lifted differs from before it (-before +after):\n%q\n%q", dnfConf, got)
	}
	if b.r.Exists(update.HoldFile) || b.r.Exists("/etc/systemd/system/zfsinstall-kernel-hold.timer") {
		t.Errorf("the hold's record or timer is left behind")
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
