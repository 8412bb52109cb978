package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zfsinstall/zfsinstall/testbed"
)

// repo is the repository root: go test runs in this package's directory.
const repo = ".."

func TestMain(m *testing.M) {
	code := m.Run()
	testbed.Cleanup()
	for _, d := range []string{built.dir, rpmBuild.dir} {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}

// need returns the path of a program a test drives. Without it the test is skipped, saying
// how to install it; under CI (CI set) it fails instead: .ci/run installs everything.
func need(t testing.TB, prog, install string) string {
	t.Helper()
	if path, err := exec.LookPath(prog); err == nil {
		return path
	}
	msg := fmt.Sprintf("%s is not installed (%s)", prog, install)
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI installs it with make deploy-deps")
	}
	t.Skip(msg)
	return ""
}

// offline prefixes argv with `unshare --net` when running as root: the program then runs
// without any network, which proves it needs none (ansible-lint --offline, packer, the
// playbooks against the test bed's file:// mirror). Without root it runs as is.
func offline(argv ...string) []string {
	if os.Geteuid() != 0 {
		return argv
	}
	return append([]string{"unshare", "--net", "--"}, argv...)
}

// command builds an exec.Cmd from argv (see offline) with env appended to the test's
// environment (later entries win).
func command(dir string, env []string, argv ...string) *exec.Cmd {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// run runs cmd, logs its argv, exit code, duration and output, and returns the combined
// output and the exit code. A command that cannot be started fails the test.
func run(t testing.TB, cmd *exec.Cmd) (string, int) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running %s: %v", strings.Join(cmd.Args, " "), err)
		}
		code = ee.ExitCode()
	}
	t.Logf("$ %s\n(exit %d after %s)\n%s", strings.Join(cmd.Args, " "), code, time.Since(start).Round(time.Millisecond), out.String())
	return out.String(), code
}

// mustRun runs cmd and fails the test unless it exits 0.
func mustRun(t testing.TB, cmd *exec.Cmd) string {
	t.Helper()
	out, code := run(t, cmd)
	if code != 0 {
		t.Fatalf("%s exited %d", strings.Join(cmd.Args, " "), code)
	}
	return out
}

// version is the project's version: the VERSION file is its one source.
func version(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

var built struct {
	once     sync.Once
	dir, bin string
	err      error
}

// zfsinstall returns the zfsinstall binary, built once per test binary by `make build`
// (BIN in a temporary directory): the static, stamped binary every deploy path ships.
func zfsinstall(t testing.TB) string {
	t.Helper()
	mk := need(t, "make", "apt-get install make")
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "zfsinstall-deploy-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "zfsinstall")
		cmd := exec.Command(mk, "--no-print-directory", "build", "BIN="+built.bin)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("make build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// stockKernel is the package that makes a bed root a stock Rocky 9.4 host (kmod packaging).
var stockKernel = "kernel-" + strings.TrimSuffix(testbed.Kernel94, ".x86_64")

// bedHost is one test-bed root that plays a fresh Rocky 9.4 host.
type bedHost struct {
	t *testing.T
	p *testbed.Packages
	r *testbed.Root
}

// newBedHost builds (once) the test bed and a root with the given packages installed; at
// the end of the test it checks that the machine's own rpm database, dnf state and repo
// files did not change.
func newBedHost(t *testing.T, install ...string) *bedHost {
	t.Helper()
	testbed.Require(t)
	snap := testbed.MachineSnapshot(t)
	t.Cleanup(func() { snap.Check(t) })
	p := testbed.Build(t)
	return &bedHost{t: t, p: p, r: testbed.NewRoot(t, p, install...)}
}

// dnfArg is the --disableplugin option every dnf call on a bed root needs (Debian's dnf
// plugins write to the machine even under --installroot).
func (h *bedHost) dnfArg() string {
	for _, a := range h.r.DNFArgs() {
		if strings.HasPrefix(a, "--disableplugin") {
			return a
		}
	}
	h.t.Fatal("testbed: the root's dnf arguments name no --disableplugin")
	return ""
}

// spec is a host spec: body with release_rpm pointing at the bed's zfs-release (signed with
// the bed's throwaway OpenZFS key, trusted with --release-key p.KeyFile).
func (h *bedHost) spec(body string) string {
	release := fmt.Sprintf("  release_rpm = %q\n", h.p.ZFSRelease)
	if strings.Contains(body, "zfs {\n") {
		return strings.Replace(body, "zfs {\n", "zfs {\n"+release, 1)
	}
	return "zfs {\n" + release + "}\n" + body
}

// installed lists the root's packages (name-version-release.arch).
func (h *bedHost) installed() []string { return h.r.Installed(h.t) }

// wantInstalled fails the test unless a package starting with each prefix is installed.
func (h *bedHost) wantInstalled(prefixes ...string) {
	h.t.Helper()
	pkgs := h.installed()
	for _, pre := range prefixes {
		found := false
		for _, p := range pkgs {
			found = found || strings.HasPrefix(p, pre)
		}
		if !found {
			h.t.Errorf("%s is not installed in the root; installed: %v", pre, pkgs)
		}
	}
}

// wantNoZFS fails the test if any ZFS package is installed in the root.
func (h *bedHost) wantNoZFS() {
	h.t.Helper()
	for _, p := range h.installed() {
		if strings.HasPrefix(p, "zfs-") || strings.HasPrefix(p, "kmod-zfs") || strings.HasPrefix(p, "libzfs") {
			h.t.Errorf("%s is installed in the root; it must not be yet", p)
		}
	}
}

// writeFile writes a file (creating its directory) and fails the test on error.
func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}
