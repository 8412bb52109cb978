package verify

import (
	"strings"
	"testing"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/spec"
	"github.com/zfsinstall/zfsinstall/update"
)

func TestVerifyKernelHold(t *testing.T) {
	const held = "5.14.0-570.17.1.el9_6.x86_64"
	pkgs := []string{"kernel-" + held, "kernel-core-" + held}
	record := string(update.HoldRecord{Held: []update.HeldKernel{{Release: held, Packages: pkgs, Reason: "kmod-kabi-fits: symbols differ"}}}.Bytes())
	conf := "[main]\ngpgcheck=1\nexcludepkgs=foo, " + strings.Join(pkgs, ", ") + "\n"
	cases := map[string]struct {
		spec   string
		files  map[string]string
		timer  facts.UnitState
		boot   facts.BootLoader
		made   bool
		wantOK bool
		want   string
	}{
		"a held kernel is the hold working": {
			files: map[string]string{update.HoldFile: record, "/etc/dnf/dnf.conf": conf}, timer: facts.UnitEnabled,
			made: true, wantOK: true, want: "held back from dnf: " + held + " (kmod-kabi-fits: symbols differ)",
		},
		"nothing held": {
			files: map[string]string{update.HoldFile: string(update.HoldRecord{}.Bytes()), "/etc/dnf/dnf.conf": "[main]\n"}, timer: facts.UnitEnabled,
			made: true, wantOK: true, want: "no kernel held",
		},
		"never evaluated": {
			files: map[string]string{"/etc/dnf/dnf.conf": "[main]\n"}, timer: facts.UnitEnabled,
			made: true, want: "has never been evaluated",
		},
		"timer disabled": {
			files: map[string]string{update.HoldFile: record, "/etc/dnf/dnf.conf": conf}, timer: facts.UnitDisabled,
			made: true, want: "zfsinstall-kernel-hold.timer is disabled",
		},
		"dnf.conf lost the exclusions": {
			files: map[string]string{update.HoldFile: record, "/etc/dnf/dnf.conf": "[main]\nexcludepkgs=foo\n"}, timer: facts.UnitEnabled,
			made: true, want: "not in /etc/dnf/dnf.conf (kernel-" + held,
		},
		"kernel.hold = false": {spec: "kernel {\n  hold = false\n}\n", files: map[string]string{}},
		"image mode":          {files: map[string]string{}, boot: facts.BootImageMode},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := guardFacts([]facts.Package{gZFS, gKmodZFS}, gKernel{gEL94GA, "kernel-core", kabi94})
			f.ZFS.Userland = "2.2.7-1"
			f.Files = tc.files
			f.Services = map[string]facts.UnitState{facts.KernelHoldTimer: tc.timer}
			f.Kernel.BootLoader = tc.boot
			s, diags := spec.Parse("spec.hcl", []byte(tc.spec))
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			c, made := kernelHold(f, s)
			if made != tc.made || c.OK != tc.wantOK || !strings.Contains(c.Detail, tc.want) {
				t.Errorf("kernelHold = %v, %v (%q); want %v, %v and a detail containing %q", made, c.OK, c.Detail, tc.made, tc.wantOK, tc.want)
			}
		})
	}
}
