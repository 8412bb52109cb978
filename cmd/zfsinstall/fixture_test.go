package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/host/hosttest"
)

const fixtureKernel = "5.14.0-427.13.1.el9_4.x86_64"

// unmanagedHost is testdata/hosts-live/rocky9.4-kmod-unmanaged as an
// install root (--root DIR): zfs-release, zfs and kmod-zfs 2.2.7 installed
// by hand, zfs.repo never switched to zfs-kmod, no autoload file, no unit
// enabled. rpm, uname and modinfo answer from a table; systemctl is a fake
// that makes the wants symlinks `systemctl --root DIR enable UNIT...` would make.
// Every command is recorded (Fixture.Calls).
func unmanagedHost(t *testing.T) *hosttest.Fixture {
	t.Helper()
	h := hosttest.New(t, "testdata/hosts-live/rocky9.4-kmod-unmanaged")
	installed := "@\tzfs-release\t(none)\t3\t0\tnoarch\n" +
		"@\tzfs\t(none)\t2.2.7\t1.el9\tx86_64\n" +
		"@\tkmod-zfs\t(none)\t2.2.7\t1.el9\tx86_64\n" +
		"@\tkernel-core\t(none)\t5.14.0\t427.13.1.el9_4\tx86_64\n" +
		"@\tgpg-pubkey\t(none)\t9db84141\t62d88994\t(none)\n"
	rpm := "rpm --root " + h.Root() + " --dbpath /var/lib/rpm "
	h.Handle(rpm+"-qa --qf", func(host.Cmd) hosttest.FixtureResult { return hosttest.FixtureResult{Stdout: installed} })
	h.Handle(rpm+"-q --qf", func(c host.Cmd) hosttest.FixtureResult {
		var out strings.Builder
		for _, name := range c.Argv[7:] {
			for _, l := range strings.Split(installed, "\n") {
				if strings.HasPrefix(l, "@\t"+name+"\t") {
					out.WriteString(l + "\n")
				}
			}
		}
		if out.Len() == 0 {
			return hosttest.FixtureResult{ExitCode: 1}
		}
		return hosttest.FixtureResult{Stdout: out.String()}
	})
	h.On("uname -r", hosttest.FixtureResult{Stdout: fixtureKernel + "\n"})
	h.On("modinfo -b "+h.Root()+" -k "+fixtureKernel+" zfs", hosttest.FixtureResult{Stdout: "filename:       /lib/modules/" + fixtureKernel + "/weak-updates/zfs/zfs.ko\nversion:        2.2.7-1\nvermagic:       " + fixtureKernel + " SMP preempt mod_unload modversions\n"})
	h.Handle("modinfo -b "+h.Root()+" -k ", func(c host.Cmd) hosttest.FixtureResult {
		return hosttest.FixtureResult{ExitCode: 1, Stderr: "modinfo: ERROR: Module zfs not found.\n"}
	})
	// The kernel hold's repoquery after apply: nothing newer is offered. Real
	// dnf 4.14 asked `--disableexcludes=main repoquery -q --upgrades --qf ...`
	// on a test-bed root with nothing newer prints nothing and exits 0.
	h.Handle("dnf --installroot "+h.Root()+" ", func(c host.Cmd) hosttest.FixtureResult {
		if !slices.Contains(c.Argv, "--upgrades") {
			t.Errorf("fixture host: unexpected dnf command %q", c.Argv)
			return hosttest.FixtureResult{ExitCode: 1}
		}
		return hosttest.FixtureResult{}
	})
	h.Handle("systemctl --root "+h.Root()+" enable ", func(c host.Cmd) hosttest.FixtureResult { // fake systemctl
		for _, unit := range c.Argv[4:] {
			link := h.Path("/etc/systemd/system/zfs.target.wants/" + unit)
			os.MkdirAll(filepath.Dir(link), 0o755)
			os.Symlink("/usr/lib/systemd/system/"+unit, link)
		}
		return hosttest.FixtureResult{}
	})
	return h
}

// onHost makes zfsinstall manage h whatever --root says (it must say h's
// root: the commands compare it with saved plans).
func onHost(h host.Host) func(*env) {
	return func(e *env) {
		e.newHost = func(string, logrus.FieldLogger) host.Host { return h }
	}
}

// runOn runs zfsinstall in-process with options applied to its env and
// returns its standard output, standard error and exit code.
func runOn(t *testing.T, opts []func(*env), args ...string) (string, string, int) {
	t.Helper()
	var out, errb strings.Builder
	e := newEnv(strings.NewReader(""), &out, &errb)
	e.getenv = func(string) string { return "" }
	for _, o := range opts {
		o(e)
	}
	code := e.run(args)
	t.Logf("$ zfsinstall %s\nexit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	return out.String(), errb.String(), code
}

// tree is a snapshot of a fixture host's files: path -> mode and content
// (a symlink's target).
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "symlink -> " + target
		case fi.IsDir():
			out[rel] = fi.Mode().String()
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = fi.Mode().String() + " " + string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
