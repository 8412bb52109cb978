package pkgmgr

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/host/hosttest"
	"github.com/zfsinstall/zfsinstall/pkgmgr/pkgmgrtest"
)

// rootDNF5 is an install-root fixture whose machine dnf is dnf5 (the
// recorded one, 5.4.6.0), answering the named recordings.
func rootDNF5(t *testing.T, names ...string) *hosttest.Fixture {
	machine := machineDialect
	machineDialect = func() facts.DNFDialect { return facts.DNF5 }
	t.Cleanup(func() { machineDialect = machine })
	h := hosttest.New(t, "")
	pkgmgrtest.FakeDNF5(t, h, recordingsDir, names...)
	return h
}

// liveDNF5 is a fixture playing a live Fedora host whose /usr/bin/dnf links
// to dnf5 of the given package version (rpm answers for the dnf5 package).
func liveDNF5(t *testing.T, version string, names ...string) *hosttest.Fixture {
	h := hosttest.New(t, "").Live()
	os.MkdirAll(h.Path("/usr/bin"), 0o755)
	if err := os.Symlink("dnf5", h.Path("/usr/bin/dnf")); err != nil {
		t.Fatal(err)
	}
	h.On("rpm -q --qf "+QueryFormat+" dnf5", hosttest.FixtureResult{Stdout: "@\tdnf5\t(none)\t" + version + "\t1.fc41\tx86_64\n"})
	pkgmgrtest.FakeDNF5(t, h, recordingsDir, names...)
	return h
}

// The Fedora 41 packages of the recordings (testdata/dnf5/record/setup.sh).
func fc41(action, name, arch, vr, repo string) Change {
	return Change{Action: action, Name: name, Arch: arch, Version: vr, Repo: repo}
}

// TestDNF5Recorded runs every dnf call pkgmgr makes against what the real
// dnf5 answered to exactly that command line (testdata/dnf5/recorded).
func TestDNF5Recorded(t *testing.T) {
	ctx := context.Background()
	resolve := func(q Query, tr Transaction) func(*Client) (any, error) {
		return func(c *Client) (any, error) { return c.Resolve(ctx, q, tr) }
	}
	run := func(tr Transaction) func(*Client) (any, error) {
		return func(c *Client) (any, error) { return nil, c.Run(ctx, tr) }
	}
	kmodToDKMS := Transaction{Remove: []string{"kmod-zfs"}, Install: []string{"zfs-dkms-2.2.7"}}
	// dkms's (kernel-devel-matched if kernel-core) reaches for the newest
	// kernel: dnf5 installs kernel-core 6.12.5 nobody named.
	chosen := []Change{
		fc41("install", "kernel-core", "x86_64", "6.12.5-200.fc41", "updates"),
		fc41("install", "dkms", "noarch", "3.1.4-1.fc41", "fedora"),
		fc41("install", "kernel-devel", "x86_64", "6.12.5-200.fc41", "updates"),
		fc41("install", "kernel-devel-matched", "x86_64", "6.12.5-200.fc41", "updates"),
	}
	cases := map[string]struct {
		live    string // dnf5 package version of a live host; "" plays an install root
		rec     string // the recording, when not named as the case
		call    func(*Client) (any, error)
		want    any
		wantErr string
	}{
		"offered-apply": {
			call: func(c *Client) (any, error) {
				return c.Offered(ctx, fedoraQuery, "zfs", "zfs-dkms", "kernel-devel-6.11.4-301.fc41.x86_64", "kernel-devel-matched-6.11.4-301.fc41.x86_64")
			},
			want: []facts.Package{
				{Name: "kernel-devel", Version: "6.11.4", Release: "301.fc41", Arch: "x86_64", Repo: "fedora"},
				{Name: "kernel-devel-matched", Version: "6.11.4", Release: "301.fc41", Arch: "x86_64", Repo: "fedora", Requires: []string{"kernel-core = 6.11.4-301.fc41", "kernel-devel = 6.11.4-301.fc41"}},
				{Name: "zfs", Version: "2.2.7", Release: "1.fc41", Arch: "x86_64", Repo: "zfs"},
				{Name: "zfs", Version: "2.2.8", Release: "1.fc41", Arch: "x86_64", Repo: "zfs"},
				{Name: "zfs-dkms", Version: "2.2.7", Release: "1.fc41", Arch: "noarch", Repo: "zfs", Requires: []string{"kernel-devel <= 6.15.999", "kernel-uname-r >= 4.18"}},
				{Name: "zfs-dkms", Version: "2.2.8", Release: "1.fc41", Arch: "noarch", Repo: "zfs", Requires: []string{"kernel-devel <= 6.15.999", "kernel-uname-r >= 4.18"}},
			},
		},
		"resolve-install": {
			call: resolve(fedoraQuery, fedoraInstall),
			want: []Change{
				fc41("install", "dkms", "noarch", "3.1.4-1.fc41", "fedora"),
				fc41("install", "kernel-devel", "x86_64", "6.11.4-301.fc41", "fedora"),
				fc41("install", "kernel-devel-matched", "x86_64", "6.11.4-301.fc41", "fedora"),
				fc41("install", "zfs", "x86_64", "2.2.8-1.fc41", "zfs"),
				fc41("install", "zfs-dkms", "noarch", "2.2.8-1.fc41", "zfs"),
				fc41("install", "libzfs5", "x86_64", "2.2.8-1.fc41", "zfs"),
			},
		},
		"resolve-kernel-chosen": {
			call: resolve(fedoraQuery, Transaction{Install: []string{"dkms", "zfs-2.2.8", "zfs-dkms-2.2.8"}}),
			want: []Change{
				fc41("install", "dkms", "noarch", "3.1.4-1.fc41", "fedora"),
				fc41("install", "zfs", "x86_64", "2.2.8-1.fc41", "zfs"),
				fc41("install", "zfs-dkms", "noarch", "2.2.8-1.fc41", "zfs"),
				chosen[0], chosen[2], chosen[3],
				fc41("install", "libzfs5", "x86_64", "2.2.8-1.fc41", "zfs"),
			},
		},
		// dnf5 answers a request for what is installed with a reason change only.
		"resolve-nothing": {call: resolve(fedoraQuery, Transaction{Install: []string{"kernel-core-6.11.4-301.fc41.x86_64"}}), want: []Change(nil)},
		"resolve-no-match": {
			call:    resolve(fedoraQuery, Transaction{Install: []string{"kernel-devel-6.10.0-100.fc41.x86_64"}}),
			wantErr: "no enabled repository offers kernel-devel-6.10.0-100.fc41.x86_64",
		},
		// A live host's dnf5 with `do` (its version from the rpm database).
		"resolve-do": {
			live: "5.4.6.0",
			call: resolve(Query{}, kmodToDKMS),
			want: append([]Change{
				fc41("remove", "kmod-zfs", "x86_64", "2.2.7-1.fc41", "<unknown>"),
				fc41("install", "zfs-dkms", "noarch", "2.2.7-1.fc41", "zfs"),
			}, chosen...),
		},
		// dnf5 before `do` (live Fedora 41 with its first dnf5): the conflict
		// removes kmod-zfs, under "Removing dependent packages:".
		"resolve-before-do": {
			live: "5.2.6.2",
			call: resolve(Query{}, kmodToDKMS),
			want: append([]Change{
				fc41("remove", "kmod-zfs", "x86_64", "2.2.7-1.fc41", "<unknown>"),
				fc41("install", "zfs-dkms", "noarch", "2.2.7-1.fc41", "zfs"),
			}, chosen...),
		},
		"run-install": {call: run(fedoraInstall)},
		"run-do":      {live: "5.4.6.0", call: run(kmodToDKMS)},
		// The machine's dnf5 under --root: version unknown, so no `do`.
		"resolve-before-do, machine dnf5": {rec: "resolve-before-do", call: resolve(Query{}, kmodToDKMS), want: append([]Change{
			fc41("remove", "kmod-zfs", "x86_64", "2.2.7-1.fc41", "<unknown>"),
			fc41("install", "zfs-dkms", "noarch", "2.2.7-1.fc41", "zfs"),
		}, chosen...)},
		"run-remove": {call: run(Transaction{Remove: []string{"kmod-zfs"}})},
		"unsigned":   {call: run(Transaction{Install: []string{"zfs-2.2.8"}}), wantErr: "failed its signature check"},
		"unreachable": {
			call:    func(c *Client) (any, error) { return c.Offered(ctx, Query{}, "zfs") },
			wantErr: "repository zfs cannot be reached",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rec := name
			if tc.rec != "" {
				rec = tc.rec
			}
			h := rootDNF5(t, rec)
			if tc.live != "" {
				h = liveDNF5(t, tc.live, rec)
			}
			got, err := tc.call(New(h, nil))
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseTransactionDNF5 reads dnf5's tables as dnf5 printed them: a
// pending upgrade whose installonly_limit=2 removes the oldest kernel
// (recorded, dnf5 5.4.6.0, epoch always shown), and the same kind of
// removal as dnf5 5.2 printed it (no epoch; dnf5 issue #2127).
func TestParseTransactionDNF5(t *testing.T) {
	upgrade := pkgmgrtest.Load(t, recordingsDir, "upgrade")
	issue, err := os.ReadFile(filepath.Join("../testdata/dnf5/upstream", "dnf5-issue-2127.stdout"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		out  string
		want []Change
	}{
		"upgrade, dnf5 5.4.6.0": {out: upgrade.Stdout, want: []Change{
			fc41("remove", "kernel", "x86_64", "6.11.4-301.fc41", "<unknown>"),
			fc41("remove", "kernel-core", "x86_64", "6.11.4-301.fc41", "<unknown>"),
			fc41("upgrade", "libzfs5", "x86_64", "2.2.8-1.fc41", "zfs"),
			fc41("upgrade", "zfs", "x86_64", "2.2.8-1.fc41", "zfs"),
			fc41("upgrade", "zfs-dkms", "noarch", "2.2.8-1.fc41", "zfs"),
			fc41("install", "kernel", "x86_64", "6.12.5-200.fc41", "updates"),
			fc41("install", "kernel-core", "x86_64", "6.12.5-200.fc41", "updates"),
			fc41("install", "kernel-devel", "x86_64", "6.12.5-200.fc41", "updates"),
			fc41("install", "kernel-devel-matched", "x86_64", "6.12.5-200.fc41", "updates"),
		}},
		"installonly removal, dnf5 5.2": {out: string(issue), want: []Change{
			{Action: "remove", Name: "kernel", Arch: "x86_64", Version: "6.8.5-301.fc40", Repo: "fedora"},
			{Action: "remove", Name: "kernel-core", Arch: "x86_64", Version: "6.8.5-301.fc40", Repo: "fedora"},
			{Action: "remove", Name: "kernel-modules", Arch: "x86_64", Version: "6.8.5-301.fc40", Repo: "fedora"},
			{Action: "remove", Name: "kernel-modules-core", Arch: "x86_64", Version: "6.8.5-301.fc40", Repo: "fedora"},
			{Action: "install", Name: "acpi", Arch: "x86_64", Version: "1.7-23.fc40", Repo: "fedora"},
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseTransaction([]byte(tc.out))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// What it must not read as "no changes".
	for name, out := range map[string]string{
		"only the header":       "Package               Arch   Version           Repository      Size\n\nTransaction Summary:\n",
		"an unknown heading":    strings.Replace(upgrade.Stdout, "Upgrading:", "Aktualisieren:", 1),
		"a row cut short":       "Package  Arch  Version  Repository  Size\nInstalling:\n kernel-core x86_64\n\nTransaction Summary:\n",
		"no table, exit 0":      "Complete!\n",
		"no table, no progress": "",
	} {
		if got, err := ParseTransaction([]byte(out)); err == nil {
			t.Errorf("%s: got %v and no error", name, got)
		}
	}
}

// TestDialectFromTheHost: the dnf a host runs, from its files alone.
func TestDialectFromTheHost(t *testing.T) {
	pkgs := []facts.Package{{Name: "dnf5", Version: "5.2.6.2", Release: "1.fc41"}, {Name: "dnf", Version: "4.14.0", Release: "17.el9"}}
	for name, tc := range map[string]struct {
		make func(h *hosttest.Fixture) error
		want facts.DNF
	}{
		// dnf5.spec (5.2.6.2): ln -sr %{buildroot}%{_bindir}/dnf5 %{buildroot}%{_bindir}/dnf
		"fedora 41": {func(h *hosttest.Fixture) error { return os.Symlink("dnf5", h.Path("/usr/bin/dnf")) }, facts.DNF{Dialect: facts.DNF5, Version: "5.2.6.2"}},
		"el9":       {func(h *hosttest.Fixture) error { return os.Symlink("dnf-3", h.Path("/usr/bin/dnf")) }, facts.DNF{Dialect: facts.DNF4, Version: "4.14.0"}},
		"a script": {func(h *hosttest.Fixture) error {
			return os.WriteFile(h.Path("/usr/bin/dnf"), []byte("#!/usr/bin/python3\n"), 0o755)
		}, facts.DNF{Dialect: facts.DNF4, Version: "4.14.0"}},
		"no dnf": {func(*hosttest.Fixture) error { return nil }, facts.DNF{}},
	} {
		t.Run(name, func(t *testing.T) {
			h := hosttest.New(t, "")
			os.MkdirAll(h.Path("/usr/bin"), 0o755)
			if err := tc.make(h); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, HostDNF(h, pkgs)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if len(h.CallKeys()) != 0 {
				t.Errorf("ran %v: the files say it", h.CallKeys())
			}
		})
	}
}

// TestDNF4Argv: a live dnf 4 host keeps dnf 4's command lines, and dnf 4
// carries out a remove with an install through `dnf shell`.
func TestDNF4Argv(t *testing.T) {
	h := hosttest.New(t, "").Live()
	os.MkdirAll(h.Path("/usr/bin"), 0o755)
	os.Symlink("dnf-3", h.Path("/usr/bin/dnf"))
	var script string
	h.Handle("dnf -y shell ", func(c host.Cmd) hosttest.FixtureResult {
		b, _ := os.ReadFile(c.Argv[len(c.Argv)-1])
		script = string(b)
		return hosttest.FixtureResult{}
	})
	h.On("dnf --enablerepo=zfs repoquery -q --available --qf "+dnfQueryFormat+" zfs", hosttest.FixtureResult{})
	c := New(h, nil)
	if _, err := c.Offered(context.Background(), Query{Enable: []string{"zfs"}}, "zfs"); err != nil {
		t.Fatal(err)
	}
	if err := c.Run(context.Background(), Transaction{Remove: []string{"kmod-zfs"}, Install: []string{"zfs-dkms"}}); err != nil {
		t.Fatal(err)
	}
	if script != "remove kmod-zfs\ninstall zfs-dkms\nrun\n" {
		t.Errorf("dnf shell script = %q", script)
	}
}
