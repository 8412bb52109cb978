package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/zfsinstall/zfsinstall/recipes"
)

// TestVagrantRecipes checks vagrant/Vagrantfile: every recipe it provisions
// exists in the binary, and `vagrant validate` accepts it. Booting the
// machines needs virtualisation this machine lacks; the same provisioning
// path runs against the real dnf/rpm test bed in the integration tests.
func TestVagrantRecipes(t *testing.T) {
	src, err := os.ReadFile("vagrant/Vagrantfile")
	if err != nil {
		t.Fatal(err)
	}
	used := regexp.MustCompile(`recipe: "([a-z0-9-]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(used) == 0 {
		t.Fatal("the Vagrantfile provisions no recipe")
	}
	for _, m := range used {
		if !slices.Contains(recipes.Names(), m[1]) {
			t.Errorf("the Vagrantfile uses recipe %q, which zfsinstall does not embed (it has %v)", m[1], recipes.Names())
		}
	}
	vagrant, err := exec.LookPath("vagrant")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("vagrant is not installed; CI must install it (.ci/run)")
		}
		t.Skip("vagrant is not installed here (apt-get install vagrant); the recipe names were checked, `vagrant validate` was not run")
	}
	bin := filepath.Join(t.TempDir(), "zfsinstall")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil { // validate only needs the file to exist
		t.Fatal(err)
	}
	cmd := exec.Command(vagrant, "validate")
	cmd.Dir = "vagrant"
	cmd.Env = append(os.Environ(), "ZFSINSTALL_BIN="+bin, "VAGRANT_HOME="+t.TempDir(), "VAGRANT_CHECKPOINT_DISABLE=1", "VAGRANT_DEFAULT_PROVIDER=libvirt")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("vagrant validate: %v\n%s", err, out)
	}
}
