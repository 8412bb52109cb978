package pkgmgr

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/host/hosttest"
	"github.com/zfsinstall/zfsinstall/pkgmgr/pkgmgrtest"
)

var recordDNF5 = flag.String("record-dnf5", "", "record the real dnf5 of this Debian chroot into ../testdata/dnf5/recorded (see testdata/dnf5/README.md)")

// recordingsDir is where the recorded dnf5 runs live.
const recordingsDir = "../testdata/dnf5/recorded"

// dnf5Case is one thing pkgmgr asks dnf5 (through the Client, so the
// recorded argv is the one pkgmgr builds), against one root of setup.sh.
type dnf5Case struct {
	root string
	// mutates: the run changes the root, so it runs on a copy.
	mutates bool
	// version forces the client's dnf5 version (an older dnf5's argv,
	// recorded from the dnf5 at hand), "" for the chroot's own.
	version string
	do      func(ctx context.Context, c *Client) error
}

// The Fedora 41 scenario of apply's dnf5 test (testdata/hosts-live/
// fedora41-dnf5): the repositories as the plan leaves them, and the
// transaction it installs.
var (
	fedoraQuery   = Query{}
	fedoraInstall = Transaction{Install: []string{"kernel-devel-6.11.4-301.fc41.x86_64", "kernel-devel-matched-6.11.4-301.fc41.x86_64", "dkms", "zfs-2.2.8", "zfs-dkms-2.2.8"}}
)

var dnf5Cases = map[string]dnf5Case{
	"offered-gather": {root: "fedora41", do: func(ctx context.Context, c *Client) error {
		_, err := c.Offered(ctx, Query{Refresh: true, Enable: []string{"zfs"}, Disable: []string{"zfs-latest"}}, "zfs", "zfs-dkms", "kmod-zfs", "dkms", "kernel-devel")
		return err
	}},
	"offered-apply": {root: "fedora41", do: func(ctx context.Context, c *Client) error {
		_, err := c.Offered(ctx, fedoraQuery, "zfs", "zfs-dkms", "kernel-devel-6.11.4-301.fc41.x86_64", "kernel-devel-matched-6.11.4-301.fc41.x86_64")
		return err
	}},
	"resolve-install": {root: "fedora41", do: func(ctx context.Context, c *Client) error {
		_, err := c.Resolve(ctx, fedoraQuery, fedoraInstall)
		return err
	}},
	"resolve-kernel-chosen": {root: "fedora41", do: func(ctx context.Context, c *Client) error {
		_, err := c.Resolve(ctx, fedoraQuery, Transaction{Install: []string{"dkms", "zfs-2.2.8", "zfs-dkms-2.2.8"}})
		return err
	}},
	"resolve-nothing": {root: "fedora41", do: func(ctx context.Context, c *Client) error {
		_, err := c.Resolve(ctx, fedoraQuery, Transaction{Install: []string{"kernel-core-6.11.4-301.fc41.x86_64"}})
		return err
	}},
	"resolve-no-match": {root: "fedora41", do: func(ctx context.Context, c *Client) error {
		_, err := c.Resolve(ctx, fedoraQuery, Transaction{Install: []string{"kernel-devel-6.10.0-100.fc41.x86_64"}})
		return err
	}},
	"run-install": {root: "fedora41", mutates: true, do: func(ctx context.Context, c *Client) error {
		return c.Run(ctx, fedoraInstall)
	}},
	"resolve-do": {root: "kmod", do: func(ctx context.Context, c *Client) error {
		_, err := c.Resolve(ctx, Query{}, Transaction{Remove: []string{"kmod-zfs"}, Install: []string{"zfs-dkms-2.2.7"}})
		return err
	}},
	"run-do": {root: "kmod", mutates: true, do: func(ctx context.Context, c *Client) error {
		return c.Run(ctx, Transaction{Remove: []string{"kmod-zfs"}, Install: []string{"zfs-dkms-2.2.7"}})
	}},
	"resolve-before-do": {root: "kmod", version: "5.2.6.2", do: func(ctx context.Context, c *Client) error {
		_, err := c.Resolve(ctx, Query{}, Transaction{Remove: []string{"kmod-zfs"}, Install: []string{"zfs-dkms-2.2.7"}})
		return err
	}},
	"run-remove": {root: "kmod", mutates: true, do: func(ctx context.Context, c *Client) error {
		return c.Run(ctx, Transaction{Remove: []string{"kmod-zfs"}})
	}},
	"upgrade": {root: "upgrade", do: func(ctx context.Context, c *Client) error {
		_, err := c.ResolveUpgrade(ctx, Query{})
		return err
	}},
	"upgrades": {root: "upgrade", do: func(ctx context.Context, c *Client) error {
		// the names update.Check asks for on a host with stock kernels
		_, err := c.Upgrades(ctx, Query{}, nil, "zfs", "kmod-zfs", "zfs-dkms", "kernel-core", "kernel-modules-core", "kernel-devel")
		return err
	}},
	"provides": {root: "upgrade", do: func(ctx context.Context, c *Client) error {
		_, err := c.run(ctx, c.dnfArgv("-q", "repoquery", "--available", "--provides", "kernel-core-6.12.5-200.fc41.x86_64"))
		return err
	}},
	"upgrades-fedora41": {root: "fedora41+run-install", do: func(ctx context.Context, c *Client) error {
		// the kernel hold after apply's Fedora transaction (run-install)
		_, err := c.Upgrades(ctx, Query{}, nil, "zfs", "kmod-zfs", "zfs-dkms", "kernel-core", "kernel-modules-core", "kernel-devel")
		return err
	}},
	"offered-devel": {root: "upgrade", do: func(ctx context.Context, c *Client) error {
		// update.Check's question when no kernel-devel is installed
		_, err := c.Offered(ctx, Query{}, "kernel-devel-6.12.5-200.fc41.x86_64")
		return err
	}},
	"unsigned": {root: "unsigned", mutates: true, do: func(ctx context.Context, c *Client) error {
		return c.Run(ctx, Transaction{Install: []string{"zfs-2.2.8"}})
	}},
	"unreachable": {root: "unreachable", do: func(ctx context.Context, c *Client) error {
		_, err := c.Offered(ctx, Query{}, "zfs")
		return err
	}},
}

// chrootHost runs dnf (as dnf5) and rpm inside the Debian chroot sid, on
// the install root /rec/roots/<root> there, and records every dnf run.
type chrootHost struct {
	*hosttest.Fixture
	sid, root, dnf5 string
	name            string
	recorded        []pkgmgrtest.Recording
}

func (h *chrootHost) Root() string { return "/rec/roots/" + h.root }

func (h *chrootHost) Run(ctx context.Context, c host.Cmd) (host.Result, error) {
	argv := append([]string{"chroot", h.sid}, c.Argv...)
	if c.Argv[0] == "dnf" {
		argv[2] = "dnf5"
	}
	res, err := host.NewReal("/", nil).Run(ctx, host.Cmd{Argv: argv, Stdin: c.Stdin})
	if c.Argv[0] == "dnf" {
		r := pkgmgrtest.Recording{Case: h.name, Root: strings.Split(h.root, "+")[0], DNF5: h.dnf5, Exit: res.ExitCode, Stdout: string(res.Stdout), Stderr: string(res.Stderr)}
		for _, a := range c.Argv {
			r.Argv = append(r.Argv, strings.ReplaceAll(a, h.Root(), pkgmgrtest.RootToken))
		}
		h.recorded = append(h.recorded, r)
	}
	return res, err
}

// TestRecordDNF5 records what the real dnf5 does with every dnf call
// pkgmgr makes (run only with -record-dnf5=CHROOT; testdata/dnf5/README.md).
func TestRecordDNF5(t *testing.T) {
	sid := *recordDNF5
	if sid == "" {
		t.Skip("records only with -record-dnf5=CHROOT (testdata/dnf5/README.md)")
	}
	out, err := exec.Command("chroot", sid, "dpkg-query", "-W", "-f", "${Version}", "dnf5").Output()
	if err != nil {
		t.Fatal(err)
	}
	vout, err := exec.Command("chroot", sid, "dnf5", "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := strings.Cut(strings.TrimPrefix(string(vout), "dnf5 version "), "\n")
	dnf5 := fmt.Sprintf("%s (Debian sid package dnf5 %s)", v, out)
	for name, tc := range dnf5Cases {
		t.Run(name, func(t *testing.T) {
			root := tc.root
			if tc.mutates {
				root += "+" + name
				dir := filepath.Join(sid, "rec/roots")
				os.RemoveAll(filepath.Join(dir, root))
				if out, err := exec.Command("cp", "-a", filepath.Join(dir, tc.root), filepath.Join(dir, root)).CombinedOutput(); err != nil {
					t.Fatalf("%v: %s", err, out)
				}
			}
			h := &chrootHost{Fixture: hosttest.New(t, ""), sid: sid, root: root, dnf5: dnf5, name: name}
			c := New(h, nil)
			c.dnf = &dialect{name: facts.DNF5, version: v}
			if tc.version != "" {
				c.dnf.version = tc.version
			}
			err := tc.do(context.Background(), c)
			t.Logf("%s: %v", name, err)
			if len(h.recorded) != 1 {
				t.Fatalf("%d dnf runs recorded, want 1", len(h.recorded))
			}
			b, _ := json.MarshalIndent(h.recorded[0], "", "  ")
			if err := os.WriteFile(filepath.Join(recordingsDir, name+".json"), append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
}
