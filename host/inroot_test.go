package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// inode resolves p in the root the way ReadFile and Stat do and reports
// the file reached, or the errno.
func (r *Real) inode(p string) string {
	w, name, err := r.resolve("stat", p, walkOpts{follow: true})
	if err != nil {
		return errnoOf(err)
	}
	defer w.close()
	fd, err := unix.Openat(w.top().fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return errnoOf(err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	unix.Fstat(fd, &st)
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}

func errnoOf(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

// TestResolveMatchesKernel compares the user-space walk with the kernel's
// own resolution under openat2(2) RESOLVE_IN_ROOT (Linux 5.6+) on a tree
// of absolute, relative, climbing, chained, looping and dangling links.
func TestResolveMatchesKernel(t *testing.T) {
	base := t.TempDir()
	root, out := filepath.Join(base, "root"), filepath.Join(base, "out")
	mkfile(t, out, "etc/real/file", secret, 0o600)
	mkfile(t, root, "etc/real/file", "inside\n", 0o644)
	links := map[string]string{
		"abs":        "/etc/real",
		"rel":        "../etc/real",
		"up":         "../../../../../../etc/real",
		"dot":        "./real/",
		"self":       "/",
		"loop1":      "loop2",
		"loop2":      "loop1",
		"dangling":   "/nonexistent",
		"tofile":     "real/file",
		"out":        filepath.Join(out, "etc/real"),
		"outrel":     strings.Repeat("../", 12) + strings.TrimPrefix(out, "/") + "/etc/real",
		"chain":      "abs",
		"dotdot":     "real/..",
		"fileparent": "real/file/..",
		"slashes":    "//etc///real//",
	}
	for name, target := range links {
		mklink(t, root, "etc/"+name, target)
	}
	rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rootFD)
	kernel := func(p string) string {
		fd, err := unix.Openat2(rootFD, p, &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS})
		if err != nil {
			return errnoOf(err)
		}
		defer unix.Close(fd)
		var st unix.Stat_t
		unix.Fstat(fd, &st)
		return fmt.Sprintf("%d:%d", st.Dev, st.Ino)
	}
	if kernel("/etc") == unix.ENOSYS.Error() {
		t.Skip("this kernel has no openat2(2)")
	}
	h := NewReal(root, nil)
	n := 0
	for name := range links {
		for _, suffix := range []string{"", "/file", "/nonexistent", "/file/x", "/etc/real/file", "/real/file"} {
			p := "/etc/" + name + suffix
			n++
			if got, want := h.inode(p), kernel(p); got != want {
				t.Errorf("%s (%s -> %s): walk %s, kernel %s", p, name, links[name], got, want)
			}
		}
	}
	t.Logf("%d paths resolved the same way as openat2(RESOLVE_IN_ROOT)", n)
}

func TestLinkErrorIsRecognisable(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	os.MkdirAll(filepath.Join(base, "elsewhere"), 0o755)
	mklink(t, root, "etc/modprobe.d", filepath.Join(base, "elsewhere"))
	err := NewReal(root, nil).WriteFile("/etc/modprobe.d/zfs.conf", []byte("x\n"), 0o644)
	var le *LinkError
	if !errors.Is(err, ErrLinkOutOfRoot) || !errors.As(err, &le) {
		t.Fatalf("err = %v, want a *LinkError wrapping ErrLinkOutOfRoot", err)
	}
	want := &LinkError{Op: "writing", Path: "/etc/modprobe.d/zfs.conf", Root: root, Link: "/etc/modprobe.d", Target: filepath.Join(base, "elsewhere"), Why: "does not exist inside the root"}
	if diff := cmp.Diff(want, le); diff != "" {
		t.Errorf("LinkError (-want +got):\n%s", diff)
	}
	for _, s := range []string{"writing /etc/modprobe.d/zfs.conf in " + root, "refusing", "make /etc/modprobe.d a directory inside the root"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q lacks %q", err, s)
		}
	}
}

// TestLiveHostFollowsLinks: on the running system ("/") links are the
// host's own business and are followed as before; only the lock refuses a
// symlink (O_NOFOLLOW).
func TestLiveHostFollowsLinks(t *testing.T) {
	dir := t.TempDir()
	mkfile(t, dir, "target/zfs.conf", "old\n", 0o600)
	mklink(t, dir, "etc/zfs.conf", filepath.Join(dir, "target/zfs.conf"))
	live := NewReal("/", nil)
	got, err := live.ReadFile(filepath.Join(dir, "etc/zfs.conf"))
	if err != nil || string(got) != "old\n" {
		t.Errorf("live read through a link = %q, %v; want the target's content", got, err)
	}
	if err := live.WriteFile(filepath.Join(dir, "etc/zfs.conf"), []byte("new\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// As before: the link is replaced by a file with the target's mode.
	if m := modeOf(t, dir, "etc/zfs.conf"); !strings.HasPrefix(m, "-rw-------") {
		t.Errorf("live write onto a link: %s, want a regular file with the target's mode 0600", m)
	}

	mkfile(t, dir, "victim", "keep\n", 0o644)
	mklink(t, dir, "run/zfsinstall.lock", filepath.Join(dir, "victim"))
	if _, err := live.Lock(filepath.Join(dir, "run/zfsinstall.lock")); err == nil || !strings.Contains(err.Error(), "is a symlink") {
		t.Errorf("live lock through a symlink: %v, want it refused", err)
	}
	fileIs("victim", "keep\n")(t, dir, "")
}

// TestStaleTempFilesRemoved: a write removes the temporary files of the
// same file that a killed earlier run left behind, and only those.
func TestStaleTempFilesRemoved(t *testing.T) {
	dead := deadPID(t)
	cases := map[string]struct {
		name string
		keep bool
	}{
		"a dead process's":                       {fmt.Sprintf(".zfs.conf.zfsinstall-%d-123", dead), false},
		"an older zfsinstall's (no PID in name)": {".zfs.conf.zfsinstall-2839417", false},
		"a running process's":                    {".zfs.conf.zfsinstall-1-123", true},
		"another file's":                         {fmt.Sprintf(".zfs.repo.zfsinstall-%d-1", dead), true},
		"not ours":                               {".zfs.conf.zfsinstall-notes", true},
	}
	for _, mode := range []string{"root", "live"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			h, p := NewReal(dir, nil), "/etc/modprobe.d/zfs.conf"
			if mode == "live" {
				h, p = NewReal("/", nil), filepath.Join(dir, "etc/modprobe.d/zfs.conf")
			}
			for _, c := range cases {
				mkfile(t, dir, "etc/modprobe.d/"+c.name, "partial", 0o600)
			}
			if err := h.WriteFile(p, []byte("options zfs\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			for what, c := range cases {
				_, err := os.Lstat(filepath.Join(dir, "etc/modprobe.d", c.name))
				if kept := err == nil; kept != c.keep {
					t.Errorf("%s temp file %s: kept %v, want %v", what, c.name, kept, c.keep)
				}
			}
		})
	}
}

// deadPID returns the PID of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// TestFailedWriteLeavesNoTemp: a write that fails after its temporary file
// exists (here: the data cannot be written, the file system is full)
// removes it.
func TestFailedWriteLeavesNoTemp(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, 0) })
	for _, mode := range []string{"root", "live"} {
		h, p := NewReal(dir, nil), "/etc/big.conf"
		if mode == "live" {
			h, p = NewReal("/", nil), filepath.Join(dir, "etc/big.conf")
		}
		err := h.WriteFile(p, make([]byte, 1<<20), 0o644)
		if !errors.Is(err, unix.ENOSPC) {
			t.Errorf("%s: writing 1 MiB into 64 KiB: %v, want ENOSPC", mode, err)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, "etc/.big.conf.zfsinstall-*")); len(left) != 0 {
			t.Errorf("%s: temporary files left after a failed write: %v", mode, left)
		}
	}
}

// TestKilledWriteCleanedNextTime kills a real process in the middle of a
// write (SIGKILL: no handler runs) and shows the next write of the same
// file removes what it left.
func TestKilledWriteCleanedNextTime(t *testing.T) {
	if os.Getenv("ZFSINSTALL_TEST_WRITER") != "" {
		return // the child: see below
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "data")
	os.MkdirAll(filepath.Join(dir, "root"), 0o755)
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// The child writes data it reads from a FIFO nobody writes to: it
	// blocks after creating its temporary file, as a slow write would.
	cmd := exec.Command(os.Args[0], "-test.run=^TestWriterChild$")
	cmd.Env = append(os.Environ(), "ZFSINSTALL_TEST_WRITER="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var left []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && len(left) == 0; time.Sleep(10 * time.Millisecond) {
		left, _ = filepath.Glob(filepath.Join(dir, "root/etc/modprobe.d/.zfs.conf.zfsinstall-*"))
	}
	cmd.Process.Kill()
	cmd.Wait()
	if len(left) != 1 || !strings.Contains(left[0], "-"+strconv.Itoa(cmd.Process.Pid)+"-") {
		t.Fatalf("the killed writer left %v, want one temp file named with its PID %d", left, cmd.Process.Pid)
	}
	if err := NewReal(filepath.Join(dir, "root"), nil).WriteFile("/etc/modprobe.d/zfs.conf", []byte("options zfs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if again, _ := filepath.Glob(filepath.Join(dir, "root/etc/modprobe.d/.zfs.conf.zfsinstall-*")); len(again) != 0 {
		t.Errorf("temp files after the next write: %v", again)
	}
}

// TestInterruptedWriteCompletes: with the CLI's signal handling
// (NotifyContext) a SIGINT in the middle of a write does not kill the
// process; the write completes and leaves no temporary file.
func TestInterruptedWriteCompletes(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "root"), 0o755)
	cmd := exec.Command(os.Args[0], "-test.run=^TestWriterChild$")
	cmd.Env = append(os.Environ(), "ZFSINSTALL_TEST_WRITER="+dir, "ZFSINSTALL_TEST_WRITER_MODE=notify")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var left []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && len(left) == 0; time.Sleep(10 * time.Millisecond) {
		left, _ = filepath.Glob(filepath.Join(dir, "root/etc/modprobe.d/.zfs.conf.zfsinstall-*"))
	}
	if len(left) != 1 {
		cmd.Process.Kill()
		t.Fatalf("the writer never reached the middle of its write: %v", left)
	}
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the writer died on SIGINT (%v):\n%s", err, out.String())
	}
	fileIs("root/etc/modprobe.d/zfs.conf", "options zfs\n")(t, dir, "")
	if again, _ := filepath.Glob(filepath.Join(dir, "root/etc/modprobe.d/.zfs.conf.zfsinstall-*")); len(again) != 0 {
		t.Errorf("temp files after the interrupted write: %v", again)
	}
}

// TestWriterChild is the child of TestKilledWriteCleanedNextTime (it
// blocks in the middle of a write until killed) and of
// TestInterruptedWriteCompletes (it handles signals as the CLI does and
// waits in the middle of a write for SIGINT).
func TestWriterChild(t *testing.T) {
	dir := os.Getenv("ZFSINSTALL_TEST_WRITER")
	if dir == "" {
		t.Skip("run by TestKilledWriteCleanedNextTime and TestInterruptedWriteCompletes")
	}
	h := NewReal(filepath.Join(dir, "root"), nil)
	testHookWrite = func() {
		f, _ := os.Open(filepath.Join(dir, "data")) // blocks: no writer
		f.Close()
	}
	if os.Getenv("ZFSINSTALL_TEST_WRITER_MODE") == "notify" {
		ctx, stop := NotifyContext(context.Background())
		defer stop()
		testHookWrite = func() { <-ctx.Done() }
	}
	if err := h.WriteFile("/etc/modprobe.d/zfs.conf", []byte("options zfs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
