package repos

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden after.repo files under testdata/repos")

// testdata is the package's test data directory.
const testdata = "../testdata/repos"

// TestWantedGolden applies Wanted to testdata/repos/<case>/before.repo and
// compares the result byte for byte with after.repo.
func TestWantedGolden(t *testing.T) {
	tests := map[string]struct {
		repo        string
		kmod        bool
		wantChanged []string
	}{
		"el9-3.0-kmod":            {repo: "default", kmod: true, wantChanged: []string{"zfs", "zfs-kmod"}},
		"el9-3.0-dkms-default":    {repo: "default"},
		"el9-3.0-latest-kmod":     {repo: "latest", kmod: true, wantChanged: []string{"zfs", "zfs-latest-kmod"}},
		"el9-3.0-branch-2.2-dkms": {repo: "2.2", wantChanged: []string{"zfs", "zfs-2.2"}},
		"el9-3.0-legacy-dkms":     {repo: "legacy", wantChanged: []string{"zfs", "zfs-legacy"}},
		"el8-2.3-kmod":            {repo: "default", kmod: true, wantChanged: []string{"zfs", "zfs-kmod"}},
		"fc41-3.0-latest":         {repo: "latest", wantChanged: []string{"zfs", "zfs-latest"}},
		"comments-odd-spacing":    {repo: "default", kmod: true, wantChanged: []string{"zfs", "zfs-kmod"}},
		"missing-enabled-line":    {repo: "default", kmod: true, wantChanged: []string{"zfs", "zfs-kmod"}},
		"both-enabled":            {repo: "default", kmod: true, wantChanged: []string{"zfs", "zfs-testing"}},
		"crlf-2.3-kmod":           {repo: "default", kmod: true, wantChanged: []string{"zfs", "zfs-kmod"}},
		"no-trailing-newline":     {repo: "default", wantChanged: []string{"zfs-testing"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(testdata, name)
			before := readTestFile(t, filepath.Join(dir, "before.repo"))
			f, err := Parse("before.repo", before)
			if err != nil {
				t.Fatal(err)
			}
			want, err := Wanted(f.Sections(), tt.repo, tt.kmod)
			if err != nil {
				t.Fatal(err)
			}
			changed, err := applyEnabled(f, want)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantChanged, changed); diff != "" {
				t.Errorf("changed sections (-want +got):\n%s", diff)
			}
			got := f.Bytes()
			golden := filepath.Join(dir, "after.repo")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(string(readTestFile(t, golden)), string(got)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
			// The result must read back as exactly the wanted state.
			again, err := Parse("after.repo", got)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range again.Sections() {
				if w, ok := want[s.ID]; ok && s.Enabled != w {
					t.Errorf("after.repo: [%s] enabled=%v, want %v", s.ID, s.Enabled, w)
				}
			}
		})
	}
}

func readTestFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestWantedEnablesExactlyOne(t *testing.T) {
	f, err := Parse("zfs.repo", readTestFile(t, filepath.Join(testdata, "real", "zfs-release-3-0.el9.zfs.repo")))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		repo string
		kmod bool
		want string
	}{
		"default dkms": {"default", false, "zfs"},
		"default kmod": {"default", true, "zfs-kmod"},
		"latest":       {"latest", false, "zfs-latest"},
		"legacy kmod":  {"legacy", true, "zfs-legacy-kmod"},
		"0.6":          {"0.6", false, "zfs-0.6"},
		"2.4 kmod":     {"2.4", true, "zfs-2.4-kmod"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Wanted(f.Sections(), tt.repo, tt.kmod)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{}
			for _, s := range f.Sections() {
				want[s.ID] = s.ID == tt.want
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestWantedIgnoresOtherSections(t *testing.T) {
	sections := []Section{{ID: "baseos"}, {ID: "zfs"}, {ID: "zfs-kmod"}, {ID: "zfsonlinux"}, {ID: "zfs-next"}, {ID: "zfs-local"}}
	got, err := Wanted(sections, "default", true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"zfs": false, "zfs-kmod": true, "zfs-next": false, "zfs-local": false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestWantedErrors(t *testing.T) {
	real := func(name string) []Section {
		f, err := Parse(name, readTestFile(t, filepath.Join(testdata, "real", name)))
		if err != nil {
			t.Fatal(err)
		}
		return f.Sections()
	}
	tests := map[string]struct {
		sections []Section
		repo     string
		kmod     bool
		want     string
	}{
		"branch on zfs-release 2-3": {
			sections: real("zfs-release-2-3.el9.zfs.repo"), repo: "2.4",
			want: `zfs.repo has no [zfs-2.4] section for repo = "2.4": it offers "default" for DKMS; zfs-release 3-0 adds the zfs-latest, zfs-legacy and zfs-x.y branch sections: install it, or use repo = "default"`,
		},
		"latest kmod on zfs-release 2-3": {
			sections: real("zfs-release-2-3.el8.zfs.repo"), repo: "latest", kmod: true,
			want: `zfs.repo has no [zfs-latest-kmod] section for repo = "latest": it offers "default" for kmod; zfs-release 3-0 adds the zfs-latest, zfs-legacy and zfs-x.y branch sections: install it, or use repo = "default"`,
		},
		"unknown branch on zfs-release 3-0": {
			sections: real("zfs-release-3-0.el9.zfs.repo"), repo: "2.5",
			want: `zfs.repo has no [zfs-2.5] section for repo = "2.5": it offers "default", "latest", "legacy", "0.6", "0.7", "0.8", "2.0", "2.1", "2.2", "2.3", "2.4" for DKMS`,
		},
		"kmod on fedora": {
			sections: real("zfs-release-3-0.fc41.zfs.repo"), repo: "default", kmod: true,
			want: `this zfs.repo has no -kmod sections (Fedora's zfs-release has none: OpenZFS publishes kABI-tracking kmods for Enterprise Linux only): use packaging = "dkms"`,
		},
		"bad repo": {
			sections: real("zfs-release-3-0.el9.zfs.repo"), repo: "2.2.7",
			want: `repo must be "default", "latest", "legacy" or a branch "x.y" such as "2.2", not "2.2.7"`,
		},
		"no zfs sections": {
			sections: []Section{{ID: "baseos"}}, repo: "default",
			want: `zfs.repo has no [zfs] section for repo = "default", nor any other OpenZFS DKMS package section: reinstall zfs-release to get the file it ships`,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Wanted(tt.sections, tt.repo, tt.kmod)
			if diff := cmp.Diff(tt.want, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// applyEnabled sets every section named in want to the given state (see
// SetEnabled) and returns the ids it changed, in file order. It is an error
// if want names a section the file does not have; the file is then unchanged.
func applyEnabled(f *File, want map[string]bool) (changed []string, err error) {
	have := map[string]bool{}
	for _, sp := range f.spans() {
		have[sp.id] = true
	}
	for id := range want {
		if !have[id] {
			return nil, fmt.Errorf("%s has no [%s] section", f.name, id)
		}
	}
	for _, s := range f.Sections() {
		enabled, ok := want[s.ID]
		if !ok {
			continue
		}
		c, err := f.SetEnabled(s.ID, enabled)
		if err != nil {
			return changed, err
		}
		if c {
			changed = append(changed, s.ID)
		}
	}
	return changed, nil
}
