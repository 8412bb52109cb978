package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFileAtomicKeepsMode(t *testing.T) {
	h := NewReal(t.TempDir(), nil)
	path := "/etc/yum.repos.d/zfs.repo"
	if err := h.WriteFile(path, []byte("[zfs]\nenabled=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(h.Path(path), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.WriteFile(path, []byte("[zfs]\nenabled=0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(h.Path(path))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after rewrite = %v (%v), want 0600 kept", fi.Mode(), err)
	}
	if got, _ := h.ReadFile(path); string(got) != "[zfs]\nenabled=0\n" {
		t.Errorf("content = %q", got)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(h.Path(path)), ".zfs.repo.zfsinstall-*")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestLockExcludesSecondApply(t *testing.T) {
	h := NewReal(t.TempDir(), nil)
	release, err := h.Lock("/run/zfsinstall.lock")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Lock("/run/zfsinstall.lock"); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("another zfsinstall apply (PID %d) holds it", os.Getpid())) {
		t.Errorf("second lock: %v, want it refused naming the other apply", err)
	}
	if pid, err := h.LockHolder("/run/zfsinstall.lock"); pid != os.Getpid() || err != nil {
		t.Errorf("LockHolder while held = %d, %v; want %d", pid, err, os.Getpid())
	}
	release()
	if pid, err := h.LockHolder("/run/zfsinstall.lock"); pid != 0 || err != nil {
		t.Errorf("LockHolder after release = %d, %v; want 0", pid, err)
	}
	if _, err := os.Lstat(h.Path("/run")); !os.IsNotExist(err) {
		t.Errorf("the lock file, or the /run it created, outlives the lock (%v)", err)
	}
	again, err := h.Lock("/run/zfsinstall.lock")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again()
}

func TestRunReportsExitAndStderr(t *testing.T) {
	h := NewReal("/", nil)
	_, err := h.Run(context.Background(), Cmd{Argv: []string{"sh", "-c", "echo oops >&2; exit 3"}})
	var ce *CmdError
	if !errors.As(err, &ce) || ce.ExitCode != 3 || !strings.Contains(err.Error(), "oops") || !strings.Contains(err.Error(), "exited with code 3") {
		t.Errorf("err = %v, want a CmdError with exit 3 and the stderr tail", err)
	}
	if _, err := h.Run(context.Background(), Cmd{Argv: []string{"/nonexistent/program"}}); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing program: %v, want a not-found error", err)
	}
}
