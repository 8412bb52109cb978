package deploy

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/zfsinstall/zfsinstall/recipes"
)

// packerDir holds the templates and the provisioning script.
var packerDir = filepath.Join(repo, "deploy", "packer")

// packerEnv keeps packer off the network and out of the caller's home.
func packerEnv(t *testing.T) []string {
	return []string{"CHECKPOINT_DISABLE=1", "HOME=" + t.TempDir(), "PACKER_CACHE_DIR=" + t.TempDir(), "PACKER_NO_COLOR=1"}
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

// TestPackerTestbed builds deploy/packer/testbed with Debian's packer: the null builder's
// shell-local provisioners run the image-build script (apply, converged, verify) against a
// test-bed root, as the EL9 qemu template runs it on its VM. The spec is the el-kmod recipe
// an administrator starts from. A spec zfsinstall refuses must fail the build.
func TestPackerTestbed(t *testing.T) {
	packer := need(t, "packer", "apt-get install packer")
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

// TestPackerEL9Template checks the real-world template, which needs Packer >= 1.7, the qemu
// plugin and KVM to build: `packer fmt -check` on every template, `packer validate
// -syntax-only` on el9.pkr.hcl (Packer 1.6.6 cannot read versions.pkr.hcl's required_plugins,
// which is why that file is separate), and a full `packer validate` of el9.pkr.hcl against
// the qemu builder built into Packer 1.6.6. If a future edit needs an option only the newer
// qemu plugin has, drop that last check rather than the option.
func TestPackerEL9Template(t *testing.T) {
	packer := need(t, "packer", "apt-get install packer")
	for _, d := range []string{"testbed", "el9"} {
		if out, code := run(t, command(packerDir, packerEnv(t), packer, "fmt", "-check", "-diff", d)); code != 0 {
			t.Errorf("packer fmt -check %s: exit %d; run packer fmt %s\n%s", d, code, d, out)
		}
	}
	if out, code := run(t, command(packerDir, packerEnv(t), offline(packer, "validate", "-syntax-only", "el9/el9.pkr.hcl")...)); code != 0 {
		t.Errorf("packer validate -syntax-only: exit %d\n%s", code, out)
	}
	spec := filepath.Join(t.TempDir(), "zfsinstall.hcl")
	writeFile(t, spec, "", 0o644)
	if out, code := run(t, command(packerDir, packerEnv(t), offline(packer, "validate",
		"-var", "iso_url=file:///nonexistent/el9.iso", "-var", "iso_checksum=none",
		"-var", "spec="+spec, "-var", "zfsinstall="+zfsinstall(t), "el9/el9.pkr.hcl")...)); code != 0 {
		t.Errorf("packer validate: exit %d\n%s", code, out)
	}
}
