package deploy

import (
	"debug/elf"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dynamicLinking says how an ELF file is dynamically linked ("" when it is static): the
// program interpreter it requests (PT_INTERP, what `file` calls "dynamically linked") and the
// shared libraries it needs (DT_NEEDED). A binary built with cgo needs the build machine's
// glibc (GLIBC_2.34 on Debian 12), which EL8 (glibc 2.28) and an install root without a C
// library do not have.
func dynamicLinking(t *testing.T, path string) string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	var why []string
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			why = append(why, "requests a program interpreter")
		}
	}
	if libs, err := f.ImportedLibraries(); err == nil && len(libs) > 0 {
		why = append(why, "needs "+strings.Join(libs, ", "))
	}
	return strings.Join(why, "; ")
}

// shippedBinary is where one deploy path takes the zfsinstall binary it ships from, when
// nobody overrides it: a file of the repository and the pattern whose first group is the
// path, relative to dir (a directory of the repository).
type shippedBinary struct {
	file, dir string
	pattern   *regexp.Regexp
}

// TestStaticEverywhere: every deploy path ships the one binary `make build` makes, and that
// binary is static and stamped with the release and commit. The deploy paths that copy a
// binary (the Ansible example's role variables, the Vagrant machines, the EL9 Packer
// template) default to bin/zfsinstall; `make rpm` and `make demo` depend on `make build`
// and use $(BIN); the RPM build refuses a dynamically linked binary (TestRPM runs the
// package's binary in a root without a C library).
func TestStaticEverywhere(t *testing.T) {
	defaults := map[string]shippedBinary{
		"ansible example": {"deploy/ansible/examples/group_vars/all.yml", "deploy/ansible/examples",
			regexp.MustCompile(`(?m)^zfsinstall_binary_src: "\{\{ playbook_dir \}\}/([^"]+)"$`)},
		"vagrant":    {"vagrant/Vagrantfile", "vagrant", regexp.MustCompile(`File\.expand_path\("([^"]+)", __dir__\)`)},
		"packer el9": {"deploy/packer/el9/variables.pkr.hcl", "deploy/packer/el9", regexp.MustCompile(`(?s)variable "zfsinstall" \{.*?default\s+= "([^"]+)"`)},
	}
	want, err := filepath.Abs(filepath.Join(repo, "bin", "zfsinstall"))
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range defaults {
		data, err := os.ReadFile(filepath.Join(repo, d.file))
		if err != nil {
			t.Fatal(err)
		}
		m := d.pattern.FindSubmatch(data)
		if m == nil {
			t.Errorf("%s: %s names no default binary (pattern %s)", name, d.file, d.pattern)
			continue
		}
		got, _ := filepath.Abs(filepath.Join(repo, d.dir, string(m[1])))
		if got != want {
			t.Errorf("%s ships %s by default, not make build's bin/zfsinstall", name, got)
		}
	}
	makefile, err := os.ReadFile(filepath.Join(repo, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, rule := range []string{`(?m)^rpm: build .*\n\t.*deploy/rpm/build\.sh .*\$\(BIN\)$`, `(?m)^demo: .*\bbuild\b`, `(?m)^build: .*\n\t\$\(GOBUILD\) -o \$\(BIN\) `, `(?m)^GOBUILD = CGO_ENABLED=0 `} {
		if !regexp.MustCompile(rule).Match(makefile) {
			t.Errorf("the Makefile has no rule matching %s", rule)
		}
	}
	if demo, err := os.ReadFile(filepath.Join(repo, "demo", "demo.sh")); err != nil || !strings.Contains(string(demo), " bin/zfsinstall ") || strings.Contains(string(demo), "go build") {
		t.Errorf("demo/demo.sh must run make build's bin/zfsinstall and build nothing itself (%v)", err)
	}

	if why := dynamicLinking(t, "/bin/sh"); why == "" {
		t.Fatal("the check finds the machine's /bin/sh static: it would not see a dynamically linked zfsinstall either")
	}
	bin := zfsinstall(t) // make build BIN=...
	if why := dynamicLinking(t, bin); why != "" {
		t.Errorf("make build made a dynamically linked binary: it %s", why)
	}
	out := mustRun(t, command("", nil, bin, "version"))
	if !strings.HasPrefix(out, "zfsinstall "+version(t)+"\n") || strings.Contains(out, "(devel)") {
		t.Errorf("zfsinstall version of make build's binary does not report the release %s:\n%s", version(t), out)
	}
	if _, err := os.Stat(filepath.Join(repo, ".git")); err == nil && !regexp.MustCompile(`(?m)^commit [0-9a-f]{40} `).MatchString(out) {
		t.Errorf("zfsinstall version of make build's binary in a git checkout names no commit:\n%s", out)
	}
}
