package planner

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/repos"
	"github.com/zfsinstall/zfsinstall/spec"
)

// TestReleaseRepoPlanned: on a host without zfs-release, the plan reads the
// zfs.repo inside the verified package (issue 20 item 1): a private
// mirror's zfs-release, trusted with --release-key, whose zfs.repo turns
// GPG checks off gets them turned back on before any package is installed
// from it, and its own baseurls are the ones planned for.
func TestReleaseRepoPlanned(t *testing.T) {
	f := readFacts(t, "../testdata/hosts/rocky9.4-stock/facts.json")
	if _, ok := f.Installed("zfs-release"); ok {
		t.Fatal("the fixture host has zfs-release installed")
	}
	repo := "[zfs]\nname=dkms\nbaseurl=https://mirror.example/epel/$releasever/$basearch/\nenabled=1\ngpgcheck=0\n\n" +
		"[zfs-kmod]\nname=kmod\nbaseurl=https://mirror.example/epel/$releasever/kmod/$basearch/\nenabled=0\ngpgcheck=0\nrepo_gpgcheck=1\n"
	s, diags := spec.Parse("spec.hcl", []byte("zfs {\n  packaging = \"kmod\"\n}\n"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	key := repos.PinnedKeys()[1]
	check := &ReleaseCheck{Info: repos.ReleaseInfo{Name: "zfs-release", Version: "3", Release: "0.el9", Arch: "noarch", SignedBy: key.Name, SHA256: "00", Repo: []byte(repo)}}
	p := Make(s, f, Options{ReleaseKey: &key, ReleaseCheck: check})
	if p.HasErrors() {
		t.Fatalf("plan errors: %v", p.Diagnostics)
	}
	var got []string
	for _, st := range p.Steps {
		if st.Kind == KindOption || st.Kind == KindRepo {
			got = append(got, st.ID+" "+st.After)
		}
	}
	want := []string{"option.zfs-kmod.gpgcheck gpgcheck=1", "option.zfs.gpgcheck gpgcheck=1", "repo.zfs enabled=0", "repo.zfs-kmod enabled=1"}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("zfs.repo steps (-want +got):\n%s", diff)
	}
	// Without the package's zfs.repo (not verified at plan time) the
	// catalog's layout stands in, and apply refuses before any change when
	// the package then turns checks off.
	p = Make(s, f, Options{ReleaseKey: &key})
	for _, st := range p.Steps {
		if strings.HasSuffix(st.ID, ".gpgcheck") {
			t.Errorf("unexpected %s without the package's zfs.repo", st.ID)
		}
	}
}
