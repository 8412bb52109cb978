package recipes

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/spec"
)

func TestNames(t *testing.T) {
	want := []string{"el-kmod", "elrepo-dkms", "fleet-conservative", "kickstart"}
	if diff := cmp.Diff(want, Names()); diff != "" {
		t.Errorf("Names() mismatch (-want +got):\n%s", diff)
	}
	if _, err := Get("no-such-recipe"); err == nil {
		t.Error("Get(no-such-recipe) succeeded")
	}
}

// TestRecipesParse parses every recipe and checks the choices it exists for.
func TestRecipesParse(t *testing.T) {
	checks := map[string]func(s *spec.Spec) bool{
		"el-kmod": func(s *spec.Spec) bool {
			return s.ZFS.Packaging == "kmod" && s.ZFS.Version == "~> 2.2" && s.Services.Import == "cache"
		},
		"elrepo-dkms": func(s *spec.Spec) bool {
			return s.ZFS.Packaging == "dkms" && s.Kernel.Devel
		},
		"kickstart": func(s *spec.Spec) bool {
			return !s.Module.Load && s.Module.Autoload && s.Services.VerifyOnBoot && s.Kernel.Target == "all"
		},
		"fleet-conservative": func(s *spec.Spec) bool {
			return s.ZFS.Version == "= 2.2.9" && s.Guard.Enabled && s.Module.Options["zfs_arc_max"] == "8589934592"
		},
	}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			src, err := Get(name)
			if err != nil {
				t.Fatal(err)
			}
			s, diags := spec.Parse(name+".hcl", src)
			if len(diags) > 0 {
				t.Fatalf("diagnostics:\n%s", diags.Error())
			}
			check, ok := checks[name]
			if !ok {
				t.Fatalf("no check for recipe %s: add one", name)
			}
			if !check(s) {
				t.Errorf("recipe %s does not say what it is for: %+v", name, s)
			}
		})
	}
}
