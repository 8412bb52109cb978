package gather

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
)

// TestGatherRealRootfs gathers facts from two real AlmaLinux root
// filesystems with real rpm databases (9.3: sqlite, 8.9: BerkeleyDB), using
// the machine's real rpm, as `zfsinstall facts --root DIR` does.
func TestGatherRealRootfs(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the real rpm database test")
	}
	if _, err := exec.LookPath("rpm"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("rpm is not installed; CI must install it (make deps)")
		}
		t.Skip("rpm is not installed here (apt-get install rpm); skipping the real rpm database test")
	}
	cases := map[string]struct {
		tarball  string
		distro   facts.Distro
		arch     string
		pubkey   string
		repoOn   []string
		reposAll int
	}{
		"alma9.3-sqlite": {
			tarball: "almalinux-9-docker-aarch64-micro-al9-20231124.tar.xz",
			distro: facts.Distro{ID: "almalinux", IDLike: "rhel centos fedora", Name: "AlmaLinux 9.3 (Shamrock Pampas Cat)",
				VersionID: "9.3", Major: 9, Minor: 3, Family: "el", DistTag: ".el9", Releasever: "9"},
			arch: "aarch64", pubkey: "b86b3716", repoOn: []string{"appstream", "baseos", "extras"},
		},
		"alma8.9-bdb": {
			tarball: "almalinux-8-docker-s390x-micro-al8-20231122.tar.xz",
			distro: facts.Distro{ID: "almalinux", IDLike: "rhel centos fedora", Name: "AlmaLinux 8.9 (Midnight Oncilla)",
				VersionID: "8.9", Major: 8, Minor: 9, Family: "el", DistTag: ".el8", Releasever: "8"},
			arch: "s390x", pubkey: "3abb34f8", repoOn: []string{"baseos", "appstream", "extras"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			out, err := exec.Command("tar", "--no-same-owner", "-xJf", "../testdata/upstream/rootfs/"+tc.tarball, "-C", dir).CombinedOutput()
			if err != nil {
				t.Fatalf("extracting %s: %v\n%s", tc.tarball, err, out)
			}
			f, err := Gather(context.Background(), host.NewReal(dir, nil), Options{Kernel: "5.14.0-362.8.1.el9_3.aarch64"})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.distro, f.Distro); diff != "" {
				t.Errorf("distro (-want +got):\n%s", diff)
			}
			if f.Arch != tc.arch {
				t.Errorf("arch = %q, want %q (from the root's /bin/sh, not the machine)", f.Arch, tc.arch)
			}
			if !f.Chroot {
				t.Error("a --root other than / must count as a chroot")
			}
			if p, ok := f.Installed("gpg-pubkey"); !ok || p.Version != tc.pubkey {
				t.Errorf("gpg-pubkey = %+v (found %v), want version %s from the real rpm database", p, ok, tc.pubkey)
			}
			var on []string
			for _, r := range f.Repos {
				if r.Enabled {
					on = append(on, r.ID)
				}
			}
			if diff := cmp.Diff(tc.repoOn, on); diff != "" {
				t.Errorf("enabled repos (-want +got):\n%s", diff)
			}
			if len(f.Kernel.Installed) != 0 || f.ZFS.Userland != "" {
				t.Errorf("a micro image has no kernel and no zfs: %+v %+v", f.Kernel.Installed, f.ZFS)
			}
		})
	}
}
