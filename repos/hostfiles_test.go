package repos

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host/hosttest"
)

// hostWith returns a fixture host whose tree holds files (host path -> content).
func hostWith(t *testing.T, files map[string]string) *hosttest.Fixture {
	t.Helper()
	h := hosttest.New(t, "")
	for p, content := range files {
		if err := os.MkdirAll(filepath.Dir(h.Path(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(h.Path(p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func TestReadAll(t *testing.T) {
	h := hostWith(t, map[string]string{
		"/etc/yum.repos.d/zfs.repo":          "[zfs]\nbaseurl=http://z/\nenabled=0\ngpgkey=file:///k\n[zfs-kmod]\nenabled=1\nexclude=kmod-zfs-2.2.0*\n",
		"/etc/yum.repos.d/almalinux.repo":    "[baseos]\nmirrorlist=https://m/\n[appstream]\nenabled=1\n",
		"/etc/yum.repos.d/notes.txt":         "not a repo file",
		"/etc/yum.repos.d/zfs.repo.rpmnew":   "[zfs]\n",
		"/etc/yum.repos.d/epel-testing.repo": "[epel-testing]\nenabled=0\n",
	})
	got, err := ReadAll(h)
	if err != nil {
		t.Fatal(err)
	}
	want := []facts.Repo{
		{ID: "baseos", File: "/etc/yum.repos.d/almalinux.repo", Enabled: true},
		{ID: "appstream", File: "/etc/yum.repos.d/almalinux.repo", Enabled: true},
		{ID: "epel-testing", File: "/etc/yum.repos.d/epel-testing.repo"},
		{ID: "zfs", File: "/etc/yum.repos.d/zfs.repo", BaseURL: "http://z/", GPGKey: "file:///k"},
		{ID: "zfs-kmod", File: "/etc/yum.repos.d/zfs.repo", Enabled: true, Exclude: "kmod-zfs-2.2.0*"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReadAllEmpty(t *testing.T) {
	got, err := ReadAll(hosttest.New(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]facts.Repo{}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReadAllNamesFileAndLine(t *testing.T) {
	h := hostWith(t, map[string]string{
		"/etc/yum.repos.d/a.repo":   "[a]\n",
		"/etc/yum.repos.d/zfs.repo": "[zfs]\nenabled=1\nenabled 0\n",
	})
	_, err := ReadAll(h)
	want := "/etc/yum.repos.d/zfs.repo:3: line is neither a [section], key=value, comment nor blank"
	if diff := cmp.Diff(want, errString(err)); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
}

func TestWrite(t *testing.T) {
	before := string(readTestFile(t, filepath.Join(testdata, "real", "zfs-release-3-0.el9.zfs.repo")))
	h := hostWith(t, map[string]string{ZFSRepoPath: before})
	if err := os.Chmod(h.Path(ZFSRepoPath), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Read(h, ZFSRepoPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.SetEnabled("zfs-kmod", true); err != nil {
		t.Fatal(err)
	}
	if err := Write(h, ZFSRepoPath, f); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(h.Path(ZFSRepoPath))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(f.Bytes()), string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	fi, err := os.Stat(h.Path(ZFSRepoPath))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want the file's old 0600", fi.Mode().Perm())
	}
	leftovers, _ := filepath.Glob(h.Path(ReposDir + "/.*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
	if len(h.Calls) != 0 {
		t.Errorf("Write ran commands: %v", h.CallKeys())
	}
}

func TestWriteNewFile(t *testing.T) {
	h := hosttest.New(t, "")
	f, err := Parse("new.repo", []byte("[zfs]\nenabled=1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(h, "/etc/yum.repos.d/new.repo", f); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(h.Path("/etc/yum.repos.d/new.repo"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644", fi.Mode().Perm())
	}
}
