package planner

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/spec"
)

func loadHost(t *testing.T, host string) *facts.Facts {
	t.Helper()
	data, err := os.ReadFile("../testdata/hosts/" + host + "/facts.json")
	if err != nil {
		t.Fatal(err)
	}
	var f facts.Facts
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

// TestBootLoaders: the guard moves GRUB's default with grubby and refuses
// to pretend elsewhere; the kernel hold works wherever dnf installs
// kernels, and not on an image-mode host, where none come from dnf.
func TestBootLoaders(t *testing.T) {
	cases := map[string]struct {
		boot      facts.BootLoader
		spec      string
		wantError string
		wantHold  bool
		wantNote  string
	}{
		"GRUB, guard on":          {boot: facts.BootGRUB, spec: "guard {\n  enabled = true\n}\n", wantHold: true},
		"nothing recognised":      {boot: "", spec: "guard {\n  enabled = true\n}\n", wantHold: true},
		"systemd-boot, guard on":  {boot: facts.BootSystemdBoot, spec: "guard {\n  enabled = true\n}\n", wantError: "this host boots with systemd-boot"},
		"UKI, guard on":           {boot: facts.BootUKI, spec: "guard {\n  enabled = true\n}\n", wantError: "this host boots with uki"},
		"systemd-boot, hold only": {boot: facts.BootSystemdBoot, wantHold: true},
		"image mode, guard on":    {boot: facts.BootImageMode, spec: "guard {\n  enabled = true\n}\n", wantError: "this is an image-mode (bootc) host"},
		"image mode, hold only":   {boot: facts.BootImageMode, wantNote: "kernels come with the image"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := loadHost(t, "rhel9.4-converged")
			f.Kernel.BootLoader = tc.boot
			s, diags := spec.Parse("spec.hcl", []byte(tc.spec))
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			p := Make(s, f, Options{})
			var errs []string
			for _, d := range p.Diagnostics {
				if d.Severity == SeverityError {
					errs = append(errs, d.Attribute+": "+d.Detail)
				}
			}
			switch {
			case tc.wantError == "" && len(errs) > 0:
				t.Errorf("refused: %v", errs)
			case tc.wantError != "" && (len(errs) != 1 || !strings.Contains(errs[0], "guard.enabled: "+tc.wantError)):
				t.Errorf("errors %v, want one at guard.enabled saying %q", errs, tc.wantError)
			}
			if tc.wantError == "" && p.KernelHold != tc.wantHold {
				t.Errorf("KernelHold = %v, want %v", p.KernelHold, tc.wantHold)
			}
			if tc.wantNote != "" && !strings.Contains(strings.Join(p.Notes, "\n"), tc.wantNote) {
				t.Errorf("notes lack %q: %v", tc.wantNote, p.Notes)
			}
		})
	}
}
