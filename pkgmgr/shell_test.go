package pkgmgr_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/testbed"
)

// dnfRuns counts the dnf processes a client started (its debug log).
func dnfRuns(logs *bytes.Buffer) int {
	n := 0
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "command started") && strings.Contains(l, "cmd=\"dnf ") {
			n++
		}
	}
	return n
}

// TestShellAnswersAsSeparateRuns: with real dnf 4 on a bed root, the questions asked in one
// dnf shell run (CheckUpgrade, OfferedAndResolved) get the answers the separate runs give:
// the pending update resolved with [main]'s exclusions (a whole kernel build held), and the
// offered upgrades with them off; what the zfs-kmod repository offers and the install of
// zfs and kmod-zfs resolved, which installs nothing although dnf.conf says assumeyes=True.
// A transaction dnf cannot resolve is left to Resolve.
func TestShellAnswersAsSeparateRuns(t *testing.T) {
	testbed.Require(t)
	p := testbed.Build(t)
	r := testbed.NewRoot(t, p, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	t.Setenv("HOME", r.Home) // dnf finds the root's rpm database through HOME's .rpmmacros
	r.DNF(t, "install", p.ZFSRelease)
	r.ImportKey(t, "/etc/pki/rpm-gpg/RPM-GPG-KEY-openzfs-el-9")
	r.DNF(t, "config-manager", "--disable", "zfs")
	r.DNF(t, "config-manager", "--enable", "zfs-kmod")
	var held []string
	for _, n := range []string{"kernel", "kernel-core", "kernel-modules", "kernel-modules-core", "kernel-devel", "kernel-devel-matched"} {
		held = append(held, n+"-"+testbed.Kernel96)
	}
	conf := filepath.Join(r.Dir, "etc/dnf/dnf.conf")
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	// assumeyes=True (an administrator's): a query run must still change nothing.
	if err := os.WriteFile(conf, append(b, []byte("assumeyes=True\nexcludepkgs="+strings.Join(held, ",")+"\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	args := []string{"--disableplugin=local,show-leaves,generate_completion_cache"}
	client := func() (*pkgmgr.Client, *bytes.Buffer) {
		var logs bytes.Buffer
		log := logrus.New()
		log.SetOutput(&logs)
		log.SetLevel(logrus.DebugLevel)
		return pkgmgr.New(host.NewReal(r.Dir, log), args), &logs
	}
	names := []string{"zfs", "kmod-zfs", "zfs-dkms", "kernel-core", "kernel-modules-core", "kernel-devel"}

	checkUpgrade := func(t *testing.T) ([]pkgmgr.Change, []pkgmgr.Offer) {
		c, _ := client()
		wantChanges, err := c.ResolveUpgrade(ctx, pkgmgr.Query{})
		if err != nil {
			t.Fatal(err)
		}
		wantOffers, err := c.Upgrades(ctx, pkgmgr.Query{}, nil, names...)
		if err != nil {
			t.Fatal(err)
		}
		c, logs := client()
		changes, offers, err := c.CheckUpgrade(ctx, pkgmgr.Query{}, nil, names...)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantChanges, changes); diff != "" {
			t.Errorf("the resolved update (-separate +one run):\n%s", diff)
		}
		if diff := cmp.Diff(wantOffers, offers); diff != "" {
			t.Errorf("the offered upgrades (-separate +one run):\n%s", diff)
		}
		if n := dnfRuns(logs); n != 1 {
			t.Errorf("%d dnf runs, want 1:\n%s", n, logs)
		}
		return changes, offers
	}
	t.Run("CheckUpgrade", func(t *testing.T) {
		changes, offers := checkUpgrade(t)
		if strings.Contains(strings.Join(changesNames(changes), " "), testbed.Kernel96) {
			t.Errorf("the resolved update installs the held kernel %s: %v", testbed.Kernel96, changes)
		}
		if !strings.Contains(strings.Join(offerNames(offers), " "), "kernel-core-"+testbed.Kernel96) {
			t.Errorf("the offered upgrades lack the held kernel %s (exclusions of [main] off): %v", testbed.Kernel96, offerNames(offers))
		}
	})
	t.Run("CheckUpgrade, nothing excluded", func(t *testing.T) {
		// The repositories are not loaded a second time (mainFilters); the answers stay.
		withExcludes, err := os.ReadFile(conf)
		if err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(conf, withExcludes, 0o644)
		if err := os.WriteFile(conf, append(b, []byte("assumeyes=True\n")...), 0o644); err != nil {
			t.Fatal(err)
		}
		changes, _ := checkUpgrade(t)
		if !strings.Contains(strings.Join(changesNames(changes), " "), testbed.Kernel96) {
			t.Errorf("the resolved update lacks the newest kernel %s, excluded no more: %v", testbed.Kernel96, changes)
		}
	})

	t.Run("OfferedAndResolved", func(t *testing.T) {
		specs := []string{"zfs", "kmod-zfs"}
		tr := pkgmgr.Transaction{Install: []string{"zfs", "kmod-zfs"}}
		c, _ := client()
		wantOffered, err := c.Offered(ctx, pkgmgr.Query{}, specs...)
		if err != nil {
			t.Fatal(err)
		}
		wantChanges, err := c.Resolve(ctx, pkgmgr.Query{}, tr)
		if err != nil {
			t.Fatal(err)
		}
		c, logs := client()
		offered, changes, resolved, err := c.OfferedAndResolved(ctx, pkgmgr.Query{}, specs, tr)
		if err != nil || !resolved {
			t.Fatalf("OfferedAndResolved: resolved %v, %v", resolved, err)
		}
		if diff := cmp.Diff(wantOffered, offered); diff != "" {
			t.Errorf("offered (-separate +one run):\n%s", diff)
		}
		if diff := cmp.Diff(wantChanges, changes); diff != "" {
			t.Errorf("resolved (-separate +one run):\n%s", diff)
		}
		if n := dnfRuns(logs); n != 1 {
			t.Errorf("%d dnf runs, want 1:\n%s", n, logs)
		}
		if out, err := r.TryRPM("-q", "zfs"); err == nil {
			t.Errorf("asking dnf's shell installed zfs: %s", out)
		}

		// A package no repository offers: dnf's shell cannot resolve; the query is
		// answered on its own and the caller resolves.
		c, logs = client()
		bad := pkgmgr.Transaction{Install: []string{"zfs", "no-such-package"}}
		offered, changes, resolved, err = c.OfferedAndResolved(ctx, pkgmgr.Query{}, specs, bad)
		if err != nil || resolved || changes != nil {
			t.Errorf("OfferedAndResolved of an unresolvable transaction: changes %v, resolved %v, %v; want not resolved, no error", changes, resolved, err)
		}
		if diff := cmp.Diff(wantOffered, offered); diff != "" {
			t.Errorf("offered, the transaction not resolvable (-separate +combined):\n%s", diff)
		}
		if n := dnfRuns(logs); n != 2 {
			t.Errorf("%d dnf runs, want 2 (the failed combined run, then the query alone):\n%s", n, logs)
		}
	})
}

func changesNames(changes []pkgmgr.Change) []string {
	var l []string
	for _, ch := range changes {
		l = append(l, ch.Name+"-"+ch.Version+"."+ch.Arch)
	}
	return l
}

func offerNames(offers []pkgmgr.Offer) []string {
	var l []string
	for _, o := range offers {
		l = append(l, o.NVRA())
	}
	return l
}
