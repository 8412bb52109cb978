package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/zfsinstall/zfsinstall/recipes"
)

// packerDir holds the templates and the provisioning script.
var packerDir = filepath.Join(repo, "deploy", "packer")

// packerBuild is where `make packer` builds Packer 1.9.5 and the plugins (build/packer).
var packerBuild = filepath.Join(repo, "build", "packer")

// packer returns the Packer `make packer` built (Debian's 1.6.6 predates required_plugins).
// Without it the test is skipped, saying how to build it; under CI it fails.
func packer(t *testing.T) string {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join(packerBuild, "bin", "packer"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		msg := "Packer 1.9.5 is not built (make packer builds it and its plugins from the Go module proxy into build/packer, about 5 minutes)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; .ci/run runs make packer")
		}
		t.Skip(msg)
	}
	return bin
}

// packerEnv keeps packer off the network and out of the caller's home, with the plugins
// `make packer` installed (as packer init would).
func packerEnv(t *testing.T) []string {
	plugins, err := filepath.Abs(filepath.Join(packerBuild, "plugins"))
	if err != nil {
		t.Fatal(err)
	}
	return []string{"CHECKPOINT_DISABLE=1", "HOME=" + t.TempDir(), "PACKER_CACHE_DIR=" + t.TempDir(), "PACKER_NO_COLOR=1", "PACKER_PLUGIN_PATH=" + plugins}
}

// hclString quotes s for an HCL variables file (Go's quoting is HCL's for the paths and
// arguments used here; ${ would start a template and is refused).
func hclString(t *testing.T, s string) string {
	t.Helper()
	if strings.Contains(s, "${") || strings.Contains(s, "%{") {
		t.Fatalf("%q would be an HCL template", s)
	}
	return strconv.Quote(s)
}

// TestPackerTestbed builds deploy/packer/testbed with Packer 1.9.5: the null builder's
// shell-local provisioners run the image-build script (apply, converged, verify) against a
// test-bed root, as the EL9 qemu template runs it on its VM. The spec is the el-kmod recipe
// an administrator starts from. A spec zfsinstall refuses must fail the build.
func TestPackerTestbed(t *testing.T) {
	packer := packer(t)
	h := newBedHost(t, stockKernel)
	dir := t.TempDir()
	recipe, err := recipes.Get("el-kmod")
	if err != nil {
		t.Fatal(err)
	}
	build := func(specBody string) (string, int) {
		t.Helper()
		spec := filepath.Join(t.TempDir(), "zfsinstall.hcl")
		writeFile(t, spec, specBody, 0o644)
		vars := filepath.Join(dir, "testbed.pkrvars.hcl")
		writeFile(t, vars, fmt.Sprintf("zfsinstall  = %s\nroot        = %s\nspec        = %s\nrelease_key = %s\nenv         = [%s, %s]\n",
			hclString(t, zfsinstall(t)), hclString(t, h.r.Dir), hclString(t, spec), hclString(t, h.p.KeyFile),
			hclString(t, "HOME="+h.r.Home), hclString(t, "ZFSINSTALL_DNF_ARGS="+h.dnfArg())), 0o644)
		return run(t, command(packerDir, packerEnv(t), offline(packer, "build", "-color=false", "-var-file="+vars, "testbed/testbed.pkr.hcl")...))
	}

	out, code := build(h.spec(string(recipe)))
	if code != 0 {
		t.Fatalf("packer build: exit %d", code)
	}
	if n := strings.Count(out, "Running local shell script"); n != 3 {
		t.Errorf("packer ran %d shell-local provisioners, want 3 (apply, converged, verify)", n)
	}
	for _, want := range []string{"Apply complete!", "zfsinstall: no changes: the image matches the spec", "Verify: OK."} {
		if !strings.Contains(out, want) {
			t.Errorf("the build output lacks %q", want)
		}
	}
	h.wantInstalled("zfs-2.2.8", "kmod-zfs-2.2.8")

	out, code = build(h.spec("zfs {\n  packaging = \"dmks\"\n}\n"))
	if code == 0 || !strings.Contains(out, "packaging must be one of") || !strings.Contains(out, "errored") {
		t.Errorf("a spec zfsinstall refuses: packer exit %d; want a failed build showing zfsinstall's diagnostic", code)
	}
}

// TestPackerTemplates checks every template directory with Packer 1.9.5 and the plugins of
// el9/versions.pkr.hcl (qemu, ansible) installed as packer init would: `packer fmt -check` and
// a full `packer validate` of each directory as a whole (the EL9 one needs KVM to build, which
// CI lacks; validate also finds ansible-playbook and the playbook and galaxy files the ansible
// provisioner names). The ansible build's requirements.yml installs the collection from the
// source offline, and image.yml passes ansible-playbook's syntax check with it.
func TestPackerTemplates(t *testing.T) {
	packer := packer(t)
	galaxy := need(t, "ansible-galaxy", "apt-get install --no-install-recommends ansible-core")
	playbook := need(t, "ansible-playbook", "apt-get install --no-install-recommends ansible-core")
	spec := filepath.Join(t.TempDir(), "zfsinstall.hcl")
	writeFile(t, spec, "", 0o644)
	vars := map[string][]string{
		"el9": {"-var", "iso_url=file:///nonexistent/el9.iso", "-var", "iso_checksum=none", "-var", "spec=" + spec,
			"-var", "zfsinstall=" + zfsinstall(t), "-var", "zfsinstall_repo=file:///nonexistent/repo/"},
		"testbed": {"-var", "zfsinstall=" + zfsinstall(t), "-var", "root=/nonexistent", "-var", "spec=" + spec},
	}
	dirs, err := filepath.Glob(filepath.Join(packerDir, "*", "*.pkr.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range dirs {
		d := filepath.Base(filepath.Dir(f))
		if seen[d] {
			continue
		}
		seen[d] = true
		if _, ok := vars[d]; !ok {
			t.Errorf("template directory %s: this test does not validate it; add its variables here", d)
			continue
		}
		if out, code := run(t, command(packerDir, packerEnv(t), packer, "fmt", "-check", "-diff", d)); code != 0 {
			t.Errorf("packer fmt -check %s: exit %d; run packer fmt %s\n%s", d, code, d, out)
		}
		out, code := run(t, command(filepath.Join(packerDir, d), packerEnv(t), offline(append(append([]string{packer, "validate"}, vars[d]...), ".")...)...))
		if code != 0 || !strings.Contains(out, "The configuration is valid.") {
			t.Errorf("packer validate %s: exit %d", d, code)
		}
	}
	if len(seen) != len(vars) {
		t.Errorf("validated %d template directories, want %d", len(seen), len(vars))
	}

	// The ansible build: what the provisioner runs before the VM (galaxy_file) and the playbook.
	el9 := filepath.Join(packerDir, "el9")
	collections := t.TempDir()
	env := []string{"HOME=" + t.TempDir(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_COLLECTIONS_PATH=" + collections}
	mustRun(t, command(el9, env, offline(galaxy, "collection", "install", "--offline", "-r", "requirements.yml", "-p", collections)...))
	mustRun(t, command(el9, env, offline(playbook, "--syntax-check", "-i", "localhost,", "image.yml")...))
}
