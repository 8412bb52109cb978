package repos

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestReleaseRepoRealPackages reads zfs.repo out of every binary zfs-release
// package OpenZFS published (gzip, xz and zstd payloads) and compares it
// with what rpm2cpio and cpio, the real tools, extract from the same file.
func TestReleaseRepoRealPackages(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(releaseDir, "*.noarch.rpm"))
	if err != nil || len(files) < 50 {
		t.Fatalf("%d packages in %s (%v)", len(files), releaseDir, err)
	}
	_, rpm2cpioErr := exec.LookPath("rpm2cpio")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			f, _ = filepath.Abs(f)
			data := readTestFile(t, f)
			got, err := ReleaseRepo(data)
			if err != nil {
				t.Fatal(err)
			}
			if rpm2cpioErr != nil {
				t.Skip("rpm2cpio is not installed: the bytes were not compared")
			}
			dir := t.TempDir()
			cmd := exec.Command("sh", "-c", `rpm2cpio "$1" | cpio -idm --quiet ./etc/yum.repos.d/zfs.repo`, "sh", f)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("rpm2cpio | cpio: %v\n%s", err, out)
			}
			want, err := os.ReadFile(filepath.Join(dir, "etc/yum.repos.d/zfs.repo"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("zfs.repo read in Go differs from rpm2cpio's (%d bytes, want %d)", len(got), len(want))
			}
		})
	}
}

// newc writes a newc cpio archive of the given entries (name -> mode and
// content), ended by the trailer, as rpm writes payloads.
func newc(entries ...cpioEntry) []byte {
	var b bytes.Buffer
	pad := func() {
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	write := func(name string, mode uint32, data []byte) {
		fmt.Fprintf(&b, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
			1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
		b.WriteString(name + "\x00")
		pad()
		b.Write(data)
		pad()
	}
	for _, e := range entries {
		write(e.name, e.mode, e.data)
	}
	write("TRAILER!!!", 0, nil)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func zst(b []byte) []byte {
	w, _ := zstd.NewWriter(nil)
	return w.EncodeAll(b, nil)
}

// TestRepoFromPayload: a zfs-release must install zfs.repo, keys, and
// nothing else that would change what dnf reads; the payload is read
// within bounds whatever it claims.
func TestRepoFromPayload(t *testing.T) {
	repo := []byte("[zfs]\nbaseurl=https://mirror.example/epel/$releasever/$basearch/\nenabled=1\ngpgcheck=0\n")
	key := cpioEntry{name: "./etc/pki/rpm-gpg/RPM-GPG-KEY-openzfs-2022", mode: 0o100644, data: []byte("key")}
	link := cpioEntry{name: "./etc/pki/rpm-gpg/RPM-GPG-KEY-openzfs-el-9", mode: 0o120777, data: []byte("RPM-GPG-KEY-openzfs-2022")}
	zfsRepo := cpioEntry{name: "./etc/yum.repos.d/zfs.repo", mode: 0o100644, data: repo}
	cases := map[string]struct {
		compression string
		payload     []byte
		wantErr     string
	}{
		"gzip":                      {"gzip", gz(newc(key, link, zfsRepo)), ""},
		"zstd":                      {"zstd", zst(newc(key, link, zfsRepo)), ""},
		"a second repo file":        {"gzip", gz(newc(zfsRepo, cpioEntry{name: "./etc/yum.repos.d/extra.repo", mode: 0o100644, data: repo})), "it installs /etc/yum.repos.d/extra.repo"},
		"dnf's variables":           {"gzip", gz(newc(zfsRepo, cpioEntry{name: "./etc/dnf/vars/releasever", mode: 0o100644, data: []byte("8\n")})), "it installs /etc/dnf/vars/releasever"},
		"a key in a subdirectory":   {"gzip", gz(newc(zfsRepo, cpioEntry{name: "./etc/pki/rpm-gpg/x/k", mode: 0o100644})), "it installs /etc/pki/rpm-gpg/x/k"},
		"a dot-dot name":            {"gzip", gz(newc(zfsRepo, cpioEntry{name: "./etc/pki/rpm-gpg/../../dnf/dnf.conf", mode: 0o100644})), "it installs /etc/dnf/dnf.conf"},
		"zfs.repo a symlink":        {"gzip", gz(newc(cpioEntry{name: "./etc/yum.repos.d/zfs.repo", mode: 0o120777, data: []byte("/tmp/x")})), "not a regular file"},
		"no zfs.repo":               {"gzip", gz(newc(key)), "it installs no /etc/yum.repos.d/zfs.repo"},
		"zfs.repo does not parse":   {"gzip", gz(newc(cpioEntry{name: "./etc/yum.repos.d/zfs.repo", mode: 0o100644, data: []byte("baseurl=x\n")})), "line comes before the first [section]"},
		"truncated":                 {"gzip", gz(newc(zfsRepo)[:150]), "ends early"},
		"not cpio":                  {"gzip", gz([]byte(strings.Repeat("x", 200))), "not a newc cpio archive"},
		"a bomb of zeros":           {"gzip", gz(make([]byte, 64<<20)), "not a newc cpio archive"},
		"an entry claiming 4 GiB":   {"gzip", gz([]byte("070701" + strings.Repeat("0", 8*6) + "ffffffff" + strings.Repeat("0", 8*4) + "00000008" + "00000000" + "./etc/x\x00\x00\x00")), "larger than 16 MiB"},
		"an unknown compression":    {"brotli", []byte("x"), `not "brotli"`},
		"a damaged gzip stream":     {"gzip", []byte("not gzip"), "gzip"},
		"a name of impossible size": {"gzip", gz([]byte("070701" + strings.Repeat("0", 8*11) + "ffffffff" + "00000000")), "impossible length"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := repoFromPayload("cpio", c.compression, c.payload)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatal(err)
			case c.wantErr == "" && !bytes.Equal(got, repo):
				t.Errorf("zfs.repo = %q, want %q", got, repo)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("err = %v, want one saying %q", err, c.wantErr)
			}
		})
	}
	if _, err := repoFromPayload("drpm", "gzip", nil); err == nil || !strings.Contains(err.Error(), `"drpm" format`) {
		t.Errorf("a payload that is not cpio: %v", err)
	}
}

// FuzzRepoFromPayload: whatever a payload holds, reading zfs.repo out of it
// ends, within its bounds, without a panic.
func FuzzRepoFromPayload(f *testing.F) {
	repo := cpioEntry{name: "./etc/yum.repos.d/zfs.repo", mode: 0o100644, data: []byte("[zfs]\nbaseurl=x\n")}
	f.Add(newc(repo), "gzip", true)
	f.Add(newc(repo, cpioEntry{name: "./etc/pki/rpm-gpg/k", mode: 0o100644}), "gzip", true)
	f.Add(zst(newc(repo)), "zstd", false)
	f.Add([]byte("070701"), "gzip", true)
	f.Fuzz(func(t *testing.T, data []byte, compression string, compress bool) {
		if compress {
			data = gz(data)
		}
		repoFromPayload("cpio", compression, data)
	})
}
