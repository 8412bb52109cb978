package testbed

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Snapshot is what the machine's package management looks like: the packages in its rpm
// databases and listings (name, size, mtime) of the directories dnf writes. Taken before and
// after a test, it proves the test worked on install roots only (TESTBED.md traps 1, 2, 9).
type Snapshot struct {
	// RPMDB maps each rpm database directory that exists on the machine (Debian's default
	// ~/.rpmdb for HOME, and /var/lib/rpm) to its sorted `rpm -qa` and its file names. sqlite's
	// -shm/-wal files are left out: merely opening a database touches them.
	RPMDB map[string][]string
	// Files lists /var/cache/dnf, /var/lib/dnf, /etc/yum.repos.d, /etc/dnf and dnf's logs in
	// /var/log, one "path size mtime" line per entry.
	Files []string
}

// machineDirs are the machine directories dnf and its plugins write to.
var machineDirs = []string{"/var/cache/dnf", "/var/lib/dnf", "/etc/yum.repos.d", "/etc/dnf"}

// TakeMachineSnapshot records the machine's package-management state. It never creates an rpm
// database: rpm is only asked about databases that already exist.
func TakeMachineSnapshot() (Snapshot, error) {
	s := Snapshot{RPMDB: map[string][]string{}}
	tl, err := findTools()
	if err != nil {
		return s, err
	}
	home, _ := os.UserHomeDir()
	dbs := []string{"/var/lib/rpm"}
	if home != "" {
		dbs = append(dbs, filepath.Join(home, ".rpmdb"))
	}
	for _, db := range dbs {
		entries, err := os.ReadDir(db)
		if err != nil {
			continue
		}
		var lines []string
		for _, e := range entries {
			n := e.Name()
			if strings.HasSuffix(n, "-shm") || strings.HasSuffix(n, "-wal") || strings.HasPrefix(n, ".") {
				continue
			}
			lines = append(lines, "file "+n)
		}
		if len(lines) > 0 {
			out, err := run(runOpts{Env: baseEnv(os.TempDir())}, tl.RPM, "--dbpath", db, "-qa")
			if err != nil {
				return s, err
			}
			pk := strings.Fields(out)
			sort.Strings(pk)
			for _, x := range pk {
				lines = append(lines, "package "+x)
			}
		}
		s.RPMDB[db] = lines
	}
	for _, d := range machineDirs {
		filepath.WalkDir(d, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			fi, err := e.Info()
			if err != nil {
				return nil
			}
			s.Files = append(s.Files, fmt.Sprintf("%s %d %s", path, fi.Size(), fi.ModTime().UTC().Format("2006-01-02T15:04:05.000000000")))
			return nil
		})
	}
	logs, _ := filepath.Glob("/var/log/dnf*")
	hawkey, _ := filepath.Glob("/var/log/hawkey*")
	for _, l := range append(logs, hawkey...) {
		if fi, err := os.Stat(l); err == nil {
			s.Files = append(s.Files, fmt.Sprintf("%s %d %s", l, fi.Size(), fi.ModTime().UTC().Format("2006-01-02T15:04:05.000000000")))
		}
	}
	sort.Strings(s.Files)
	return s, nil
}

// Diff describes how the machine changed since s ("" when it did not).
func (s Snapshot) Diff() (string, error) {
	now, err := TakeMachineSnapshot()
	if err != nil {
		return "", err
	}
	return cmp.Diff(s, now), nil
}

// MachineSnapshot records the machine's package-management state for a later Check.
func MachineSnapshot(t testing.TB) Snapshot {
	t.Helper()
	s, err := TakeMachineSnapshot()
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	return s
}

// Check fails the test if the machine's rpm databases or dnf directories changed since the
// snapshot was taken.
func (s Snapshot) Check(t testing.TB) {
	t.Helper()
	d, err := s.Diff()
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	if d != "" {
		t.Errorf("testbed: the machine's package management changed (-before +after):\n%s", d)
	}
}
