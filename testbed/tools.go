package testbed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tools holds absolute paths of the programs the test bed runs. They are looked up in the
// system directories first, never only through PATH: a test that puts a dnf wrapper on PATH
// (to record what zfsinstall runs) must not have the bed run that wrapper, and exec.Command
// resolves a bare name with the test process's PATH, not with cmd.Env's.
type tools struct {
	DNF, RPM, RPMBuild, RPMSign, Createrepo, GPG, GPGConf string
	Bash, Make, GCC, Modprobe, Modinfo, Chroot            string
	KernelInstall, DKMS, OpenSSL                          string
}

// systemDirs are searched, in order, before PATH.
var systemDirs = []string{"/usr/bin", "/usr/sbin", "/bin", "/sbin"}

// requirement names a program the bed needs and the Debian package that ships it.
type requirement struct {
	dst  *string
	name string
	pkg  string
}

func (t *tools) requirements() []requirement {
	return []requirement{
		{&t.DNF, "dnf", "dnf"},
		{&t.RPM, "rpm", "rpm"},
		{&t.RPMBuild, "rpmbuild", "rpm"},
		{&t.RPMSign, "rpmsign", "rpm"},
		{&t.Createrepo, "createrepo_c", "createrepo-c"},
		{&t.GPG, "gpg", "gnupg"},
		{&t.GPGConf, "gpgconf", "gnupg"},
		{&t.Bash, "bash", "bash"},
		{&t.Make, "make", "make"},
		{&t.GCC, "gcc-12", "gcc-12"},
		{&t.Modprobe, "modprobe", "kmod"},
		{&t.Modinfo, "modinfo", "kmod"},
		{&t.Chroot, "chroot", "coreutils"},
		{&t.KernelInstall, "kernel-install", "systemd"},
		{&t.DKMS, "dkms", "dkms"},
		{&t.OpenSSL, "openssl", "openssl"},
	}
}

// findTools locates every program; the error lists all that are missing with their packages.
func findTools() (tools, error) {
	var t tools
	var missing []string
	for _, r := range t.requirements() {
		p, err := lookSystem(r.name)
		if err != nil {
			missing = append(missing, fmt.Sprintf("%s (Debian package %s)", r.name, r.pkg))
			continue
		}
		*r.dst = p
	}
	if len(missing) > 0 {
		return t, fmt.Errorf("missing programs: %s; install them with make deps", strings.Join(missing, ", "))
	}
	var noTree []string
	for _, h := range headerPackages {
		if _, err := os.Stat("/usr/src/linux-headers-" + h.Tree + "/Module.symvers"); err != nil {
			noTree = append(noTree, "linux-headers-"+h.Tree)
		}
	}
	if len(noTree) > 0 {
		return t, fmt.Errorf("missing kernel header trees (Debian packages %s); install them with make deps", strings.Join(noTree, ", "))
	}
	return t, nil
}

func lookSystem(name string) (string, error) {
	for _, d := range systemDirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", err
	}
	return filepath.Abs(p)
}

// Require skips the test when the machine cannot host the test bed (programs missing, or not
// running as root), with a message that says what to install. Under CI (CI set in the
// environment) it fails the test instead, so a broken CI machine cannot pass by skipping.
func Require(t testing.TB) {
	t.Helper()
	var problems []string
	if _, err := findTools(); err != nil {
		problems = append(problems, err.Error())
	}
	if os.Geteuid() != 0 {
		problems = append(problems, "the test bed must run as root (rpm and dnf write install roots and chroot into them)")
	}
	if len(problems) == 0 {
		return
	}
	msg := "testbed: cannot run: " + strings.Join(problems, "; ")
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// cmdError is a failed command: its argv, how it ended and what it printed.
type cmdError struct {
	Argv   []string
	Err    error
	Output string
}

func (e *cmdError) Error() string {
	out := strings.TrimSpace(e.Output)
	const max = 4000
	if len(out) > max {
		out = "..." + out[len(out)-max:]
	}
	return fmt.Sprintf("running %s: %v\n%s", strings.Join(e.Argv, " "), e.Err, out)
}

func (e *cmdError) Unwrap() error { return e.Err }

// runOpts says how to run one command.
type runOpts struct {
	Env   []string // the whole environment; nil means a minimal one
	Dir   string
	Stdin string
}

// baseEnv is the environment commands get unless told otherwise: no HOME of the caller (whose
// ~/.rpmmacros could point rpm anywhere), the C locale (stable messages), a system PATH.
func baseEnv(home string) []string {
	return []string{
		"HOME=" + home,
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"LC_ALL=C.UTF-8",
		"LANG=C.UTF-8",
		"TMPDIR=" + os.TempDir(),
	}
}

// run runs argv[0] (an absolute path) and returns its combined output.
func run(o runOpts, argv ...string) (string, error) {
	if !filepath.IsAbs(argv[0]) {
		return "", fmt.Errorf("running %s: program path is not absolute", argv[0])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = o.Env
	if cmd.Env == nil {
		cmd.Env = baseEnv(os.TempDir())
	}
	cmd.Dir = o.Dir
	if o.Stdin != "" {
		cmd.Stdin = strings.NewReader(o.Stdin)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if err != nil {
		return out.String(), &cmdError{Argv: argv, Err: err, Output: out.String()}
	}
	return out.String(), nil
}

// ExitCode returns the exit status of a command run by the bed's helpers (TryDNF, TryRPM,
// TryChroot, ...): 0 for a nil error, -1 if it was killed by a signal, -2 if it did not run.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -2
}
