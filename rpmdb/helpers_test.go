package rpmdb

import (
	"archive/tar"
	"bufio"
	"bytes"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ulikunitz/xz"
	"github.com/zfsinstall/zfsinstall/testbed"
)

// The real AlmaLinux roots (testdata/upstream/rootfs/README.md): 9.3 with
// a sqlite database, 8.9 (s390x: big-endian) with a Berkeley DB one.
const (
	alma9 = "../testdata/upstream/rootfs/almalinux-9-docker-aarch64-micro-al9-20231124.tar.xz"
	alma8 = "../testdata/upstream/rootfs/almalinux-8-docker-s390x-micro-al8-20231122.tar.xz"
	dbDir = "/var/lib/rpm"
)

var (
	dbFilesMu sync.Mutex
	dbFiles   = map[string]map[string][]byte{}
)

// realDB returns the files of var/lib/rpm in a root filesystem tarball,
// by their host path ("/var/lib/rpm/Packages"), read in process (xz, tar).
func realDB(t testing.TB, tarball string) map[string][]byte {
	t.Helper()
	dbFilesMu.Lock()
	defer dbFilesMu.Unlock()
	if files, ok := dbFiles[tarball]; ok {
		return files
	}
	f, err := os.Open(tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := xz.NewReader(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := "/" + strings.TrimPrefix(path.Clean(h.Name), "./")
		if h.Typeflag == tar.TypeReg && path.Dir(name) == dbDir {
			if files[name], err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(files) == 0 {
		t.Fatalf("%s has no %s", tarball, dbDir)
	}
	dbFiles[tarball] = files
	return files
}

// memFS serves files from memory; a file whose name is in writing
// changes its modification time at every Stat, as a file being written.
type memFS struct {
	files   map[string][]byte
	writing map[string]bool
}

func (m memFS) Open(p string) (File, error) {
	b, ok := m.files[p]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	return &memFile{Reader: bytes.NewReader(b), name: p, fs: m}, nil
}

type memFile struct {
	*bytes.Reader
	name  string
	fs    memFS
	stats int
}

func (f *memFile) Close() error { return nil }
func (f *memFile) Stat() (fs.FileInfo, error) {
	f.stats++
	mtime := time.Unix(0, 0)
	if f.fs.writing[f.name] {
		mtime = mtime.Add(time.Duration(f.stats))
	}
	return memInfo{name: path.Base(f.name), size: f.Size(), mtime: mtime}, nil
}

type memInfo struct {
	name  string
	size  int64
	mtime time.Time
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o644 }
func (i memInfo) ModTime() time.Time { return i.mtime }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

// dirFS serves the files under a directory of the machine.
type dirFS string

func (d dirFS) Open(p string) (File, error) { return os.Open(filepath.Join(string(d), p)) }

// writeRoot writes files into a new root directory and returns it.
func writeRoot(t testing.TB, files map[string][]byte) string {
	t.Helper()
	root := t.TempDir()
	for p, b := range files {
		if err := os.MkdirAll(filepath.Join(root, path.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// rpmQueryFormat prints every field Read returns, one line each.
const rpmQueryFormat = `@\t%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\n[R\t%{REQUIRENAME}\t%{REQUIREFLAGS}\t%{REQUIREVERSION}\n][P\t%{PROVIDENAME}\t%{PROVIDEFLAGS}\t%{PROVIDEVERSION}\n]`

// rpmRun runs the machine's rpm on the database of root.
func rpmRun(t testing.TB, root string, args ...string) string {
	t.Helper()
	cmd := exec.Command("rpm", append([]string{"--root", root, "--dbpath", dbDir}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // no ~/.rpmmacros of the machine
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("rpm %v: %v", args, err)
	}
	return string(out)
}

// rpmQuery asks the machine's rpm for the named packages (`rpm -q`, by
// name, as pkgmgr does), in Read's terms.
func rpmQuery(t testing.TB, root string, names []string) []Package {
	t.Helper()
	var pkgs []Package
	for _, line := range strings.Split(rpmRun(t, root, append([]string{"-q", "--qf", rpmQueryFormat}, names...)...), "\n") {
		f := strings.Split(line, "\t")
		switch {
		case f[0] == "@" && len(f) == 6:
			epoch := f[2]
			if epoch == "(none)" {
				epoch = ""
			}
			pkgs = append(pkgs, Package{Name: f[1], Epoch: epoch, Version: f[3], Release: f[4], Arch: f[5]})
		case (f[0] == "R" || f[0] == "P") && len(f) == 4 && len(pkgs) > 0:
			flags, err := strconv.ParseUint(f[2], 10, 32)
			if err != nil {
				t.Fatalf("rpm printed flags %q", f[2])
			}
			d := Dep{Name: f[1], Flags: uint32(flags), Version: f[3]}
			p := &pkgs[len(pkgs)-1]
			if f[0] == "R" {
				p.Requires = append(p.Requires, d)
			} else {
				p.Provides = append(p.Provides, d)
			}
		}
	}
	return pkgs
}

// installedNames lists the names of every package in root's database.
func installedNames(t testing.TB, root string) []string {
	t.Helper()
	return strings.Fields(rpmRun(t, root, "-qa", "--qf", `%{NAME}\n`))
}

// needRPM skips a test that runs the machine's rpm where it cannot (a
// failure under CI), as the test bed does.
func needRPM(t testing.TB) {
	t.Helper()
	testbed.Require(t)
}
