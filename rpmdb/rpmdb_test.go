package rpmdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// absent are names no real root has: Read must leave them out as rpm -q does.
var absent = []string{"zfs", "kmod-zfs", "kernel-core", "no-such-package"}

// TestReadMatchesRPM reads every package of the real AlmaLinux roots, and
// names they do not have, and compares all Read returns with what the
// machine's rpm prints for the same `rpm -q NAME...`.
func TestReadMatchesRPM(t *testing.T) {
	needRPM(t)
	for name, tarball := range map[string]string{"AlmaLinux 9.3 sqlite": alma9, "AlmaLinux 8.9 Berkeley DB s390x": alma8} {
		t.Run(name, func(t *testing.T) {
			root := writeRoot(t, realDB(t, tarball))
			names := append(installedNames(t, root), absent...)
			if len(names) < 20 {
				t.Fatalf("rpm lists %d packages in %s", len(names), tarball)
			}
			want := rpmQuery(t, root, names)
			got, err := Read(dirFS(root), dbDir, names, Requires|Provides)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Read differs from rpm -q (-rpm +Read):\n%s", diff)
			}
		})
	}
}

// killedWAL installs, with the machine's rpm, a package whose %post kills
// rpm (SIGKILL, from a Lua scriptlet: in process, no shell needed in the
// root) into a copy of the AlmaLinux 9.3 database: rpm has committed the
// package's header to the write-ahead log and never checkpoints it, as
// after a transaction killed half way. It returns the root.
func killedWAL(t testing.TB) string {
	t.Helper()
	needRPM(t)
	work := t.TempDir()
	spec := filepath.Join(work, "killed.spec")
	if err := os.WriteFile(spec, []byte(`Name: rpmdb-killed
Version: 1
Release: 1
Summary: Kills rpm once its header is in the database
License: MIT
BuildArch: noarch
%description
Test package for zfsinstall's rpmdb reader.
%files
%post -p <lua>
posix.kill(posix.getprocessid("pid"), 9)
`), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("rpmbuild", "-bb", "--define", "_topdir "+filepath.Join(work, "top"), "--define", "_rpmdir "+filepath.Join(work, "out"),
		"--define", "_dbpath "+filepath.Join(work, "db"), spec)
	build.Env = append(os.Environ(), "HOME="+work)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("rpmbuild: %v\n%s", err, out)
	}
	root := writeRoot(t, realDB(t, alma9))
	rpmRun(t, root, "-i", "--nodeps", "--ignorearch", filepath.Join(work, "out", "noarch", "rpmdb-killed-1-1.noarch.rpm"))
	if fi, err := os.Stat(filepath.Join(root, dbDir, "rpmdb.sqlite-wal")); err != nil || fi.Size() == 0 {
		t.Fatalf("rpm left no write-ahead log (%v): the test does not test what it says", err)
	}
	return root
}

// TestReadWAL reads a database whose last transaction is only in the
// write-ahead log: the package rpm committed there is read, as rpm reads
// it, and it is not in the main file alone.
func TestReadWAL(t *testing.T) {
	root := killedWAL(t)
	files := map[string][]byte{}
	for _, n := range []string{"rpmdb.sqlite", "rpmdb.sqlite-wal"} {
		b, err := os.ReadFile(filepath.Join(root, dbDir, n))
		if err != nil {
			t.Fatal(err)
		}
		files[dbDir+"/"+n] = b
	}
	names := []string{"rpmdb-killed", "tzdata", "gpg-pubkey"}
	got, err := Read(memFS{files: files}, dbDir, names, Requires|Provides)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rpmQuery(t, root, names), got); diff != "" {
		t.Errorf("Read differs from rpm -q (-rpm +Read):\n%s", diff)
	}
	if len(got) != 3 || got[0].Name != "rpmdb-killed" {
		t.Fatalf("the package committed to the log is missing: %+v", got)
	}
	delete(files, dbDir+"/rpmdb.sqlite-wal")
	without, err := Read(memFS{files: files}, dbDir, names, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(without) != 2 {
		t.Errorf("without its log the database should hold 2 of %v, Read found %d", names, len(without))
	}
}

// TestReadRefuses: what Read does not read is an error that says why, so
// that the caller asks rpm.
func TestReadRefuses(t *testing.T) {
	sq, bdb := realDB(t, alma9), realDB(t, alma8)
	both := maps.Clone(sq)
	maps.Copy(both, bdb)
	damaged := func(files map[string][]byte, name string, damage func(b []byte)) map[string][]byte {
		out := maps.Clone(files)
		out[name] = append([]byte(nil), files[name]...)
		damage(out[name])
		return out
	}
	tests := map[string]struct {
		files   map[string][]byte
		writing map[string]bool
		want    string
	}{
		"no database":        {map[string][]byte{}, nil, "no rpm database in /var/lib/rpm"},
		"both backends":      {both, nil, "both rpmdb.sqlite and a Berkeley DB Packages"},
		"written while read": {sq, map[string]bool{dbDir + "/rpmdb.sqlite": true}, "changed while it was read"},
		"not sqlite": {damaged(sq, dbDir+"/rpmdb.sqlite", func(b []byte) { copy(b, "SQLite format 2") }),
			nil, "magic string"},
		"UTF-16 sqlite": {damaged(sq, dbDir+"/rpmdb.sqlite", func(b []byte) { binary.BigEndian.PutUint32(b[56:], 2) }),
			nil, "text encoding is 2"},
		"schema not rpm's": {damaged(sq, dbDir+"/rpmdb.sqlite", func(b []byte) { replace(b, "blob BLOB NOT NULL", "blob TEXT NOT NULL") }),
			nil, "is not the one rpm creates"},
		"no Name index": {damaged(sq, dbDir+"/rpmdb.sqlite", func(b []byte) { replace(b, "Name_key_idx", "Name_key_idy") }),
			nil, "lacks rpm's Packages table, Name table or Name index"},
		"Berkeley DB without Name": {map[string][]byte{dbDir + "/Packages": bdb[dbDir+"/Packages"]}, nil, "has no Name index"},
		"Berkeley DB Packages a b-tree": {map[string][]byte{dbDir + "/Packages": bdb[dbDir+"/Name"], dbDir + "/Name": bdb[dbDir+"/Name"]},
			nil, "not a Berkeley DB hash database"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Read(memFS{files: tc.files, writing: tc.writing}, dbDir, []string{"tzdata", "bash"}, Requires)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// replace overwrites every old in b with new, of the same length.
func replace(b []byte, old, new string) {
	if !bytes.Contains(b, []byte(old)) || len(old) != len(new) {
		panic("replace: " + old)
	}
	copy(b, bytes.ReplaceAll(b, []byte(old), []byte(new)))
}

// TestReadBusy: a transaction holding rpm's lock makes Read refuse
// (ErrBusy) instead of reading what may be half written.
func TestReadBusy(t *testing.T) {
	root := writeRoot(t, realDB(t, alma9))
	lock := filepath.Join(root, dbDir, ".rpm.lock")
	f, err := os.OpenFile(lock, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := Read(dirFS(root), dbDir, []string{"tzdata"}, 0); err != nil {
		t.Fatalf("with the lock free: %v", err)
	}
	// An open file description lock conflicts with the F_GETLK of the
	// same process, as rpm's lock does with another process's.
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dirFS(root), dbDir, []string{"tzdata"}, 0); !errors.Is(err, ErrBusy) {
		t.Fatalf("with the lock held: %v, want ErrBusy", err)
	}
}
