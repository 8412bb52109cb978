package host

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Two modes. On the running system (Dir "/") paths are the machine's own
// and symlinks are followed as the kernel follows them: links on a live
// host are the host's business. In a managed root (any other Dir) every
// path is resolved inside Dir with chroot semantics (see inroot.go), so no
// read, write, listing or lock ever reaches a file outside Dir, and:
//
//   - ReadFile reads regular files of at most MaxReadSize only, on the
//     running system too (a FIFO, device or huge sparse file would block,
//     never end, or exhaust memory);
//   - WriteFile onto a symlink replaces the link itself with a regular file
//     of mode perm, owned by zfsinstall (root): the link's target, wherever
//     it points, is neither written nor consulted for mode or owner; an
//     existing regular file keeps its mode and owner;
//   - WriteFile, MkdirAll and Lock refuse a directory symlink leading out
//     of the root (a *LinkError naming the link).

// Root implements Host.
func (r *Real) Root() string { return r.Dir }

// live reports whether r is the running system rather than a managed root.
func (r *Real) live() bool { return r.Dir == "/" }

// Path maps a host path to a machine path by joining it to the root,
// without looking at any symlink. It is for messages and test assertions:
// in a managed root never open what it returns, use the Host methods.
func (r *Real) Path(p string) string {
	return filepath.Join(r.Dir, filepath.Clean("/"+p))
}

// ReadFile implements Host: only a regular file of at most MaxReadSize
// bytes is read (see ReadRegular), on the running system too; in a managed
// root the path is resolved inside the root.
func (r *Real) ReadFile(p string) ([]byte, error) {
	var fd int
	if r.live() {
		var err error
		fd, err = unix.Open(r.Path(p), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: r.Path(p), Err: err}
		}
	} else {
		w, name, err := r.resolve("open", p, walkOpts{follow: true})
		if err != nil {
			return nil, err
		}
		fd, err = unix.Openat(w.top().fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		w.close()
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: r.Path(p), Err: err}
		}
	}
	f := os.NewFile(uintptr(fd), r.Path(p))
	defer f.Close()
	return readOpened(f, r.Path(p), MaxReadSize)
}

// MaxReadSize bounds ReadFile: a sparse file of any size planted on the
// host must not make zfsinstall allocate it. The largest files zfsinstall
// reads are a shell binary (to tell the root's architecture) and a DKMS
// make.log, a few MiB each.
const MaxReadSize = 64 << 20

// stat returns what fd (an O_PATH or ordinary descriptor) refers to, named
// name, and closes fd.
func stat(fd int, name string) (fs.FileInfo, error) {
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	return f.Stat()
}

// statIn stats p in the root, following a final symlink or not.
func (r *Real) statIn(op, p string, follow bool) (fs.FileInfo, error) {
	w, name, err := r.resolve(op, p, walkOpts{follow: follow})
	if err != nil {
		return nil, err
	}
	defer w.close()
	fd, err := unix.Openat(w.top().fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: r.Path(p), Err: err}
	}
	return stat(fd, path.Base(path.Clean("/"+p)))
}

// Stat implements Host.
func (r *Real) Stat(p string) (fs.FileInfo, error) {
	if r.live() {
		return os.Stat(r.Path(p))
	}
	return r.statIn("stat", p, true)
}

// Lstat implements Host.
func (r *Real) Lstat(p string) (fs.FileInfo, error) {
	if r.live() {
		return os.Lstat(r.Path(p))
	}
	return r.statIn("lstat", p, false)
}

// Readlink implements Host. In a managed root it returns the target as
// stored: an absolute target is relative to the root, not the machine.
func (r *Real) Readlink(p string) (string, error) {
	if r.live() {
		return os.Readlink(r.Path(p))
	}
	w, name, err := r.resolve("readlink", p, walkOpts{})
	if err != nil {
		return "", err
	}
	defer w.close()
	if name == "." {
		return "", &fs.PathError{Op: "readlink", Path: r.Path(p), Err: unix.EINVAL}
	}
	fd, err := unix.Openat(w.top().fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: r.Path(p), Err: err}
	}
	defer unix.Close(fd)
	target, err := readlinkFD(fd)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: r.Path(p), Err: err}
	}
	return target, nil
}

// Remove implements Host. A symlink is removed itself, never its target.
func (r *Real) Remove(p string) error {
	if r.live() {
		return os.Remove(r.Path(p))
	}
	w, name, err := r.resolve("remove", p, walkOpts{})
	if err != nil {
		return err
	}
	defer w.close()
	if name == "." {
		return &fs.PathError{Op: "remove", Path: r.Path(p), Err: unix.EBUSY}
	}
	// As os.Remove: unlink, else rmdir; rmdir's ENOTDIR means unlink's
	// error is the real one.
	err = unix.Unlinkat(w.top().fd, name, 0)
	if err == nil {
		return nil
	}
	if err1 := unix.Unlinkat(w.top().fd, name, unix.AT_REMOVEDIR); err1 == nil {
		return nil
	} else if !errors.Is(err1, unix.ENOTDIR) {
		err = err1
	}
	return &fs.PathError{Op: "remove", Path: r.Path(p), Err: err}
}

// MkdirAll implements Host.
func (r *Real) MkdirAll(p string, perm fs.FileMode) error {
	if r.live() {
		return os.MkdirAll(r.Path(p), perm)
	}
	w, err := r.openDir("mkdir", p, walkOpts{mkdir: true, perm: perm, op: "creating", subject: p})
	if err != nil {
		return err
	}
	w.close()
	return nil
}

// Glob implements Host. Its matches are host paths; as filepath.Glob it
// ignores I/O errors and reports only a malformed pattern.
func (r *Real) Glob(pattern string) ([]string, error) {
	if r.live() {
		return filepath.Glob(r.Path(pattern))
	}
	pattern = path.Clean("/" + pattern)
	var parts []string
	for _, c := range strings.Split(pattern, "/") {
		if c == "" {
			continue
		}
		if _, err := filepath.Match(c, ""); err != nil {
			return nil, err
		}
		parts = append(parts, c)
	}
	matches := []string{"/"}
	for _, c := range parts {
		if !strings.ContainsAny(c, `*?[\`) {
			for i := range matches {
				matches[i] = path.Join(matches[i], c)
			}
			continue
		}
		var next []string
		for _, dir := range matches {
			names := r.readDirNames(dir)
			sort.Strings(names)
			for _, n := range names {
				if ok, _ := filepath.Match(c, n); ok {
					next = append(next, path.Join(dir, n))
				}
			}
		}
		matches = next
	}
	if len(parts) > 0 && strings.ContainsAny(parts[len(parts)-1], `*?[\`) {
		return matches, nil // each was just listed in its directory
	}
	out := make([]string, 0, len(matches))
	for _, m := range matches {
		if _, err := r.Lstat(m); err == nil {
			out = append(out, m)
		}
	}
	return out, nil
}

// readDirNames lists the directory dir inside the root; nil when it cannot.
func (r *Real) readDirNames(dir string) []string {
	w, err := r.openDir("open", dir, walkOpts{})
	if err != nil {
		return nil
	}
	defer w.close()
	fd, err := unix.Openat(w.top().fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	f := os.NewFile(uintptr(fd), r.Path(dir))
	defer f.Close()
	names, _ := f.Readdirnames(-1)
	return names
}

// WriteFile implements Host: temp file beside the target, fsync, rename, so
// a crash leaves either the old or the new file, never half of one. The
// temp file is removed when the write fails; one left by a killed earlier
// run is removed by the next write of the same file.
func (r *Real) WriteFile(p string, data []byte, perm fs.FileMode) error {
	if r.live() {
		return WriteAtomic(r.Path(p), data, perm)
	}
	p = path.Clean("/" + p)
	dir, base := path.Split(p)
	if base == "" {
		return &fs.PathError{Op: "write", Path: r.Path(p), Err: unix.EISDIR}
	}
	w, err := r.openDir("mkdir", dir, walkOpts{mkdir: true, perm: 0o755, op: "writing", subject: p})
	if err != nil {
		return err
	}
	defer w.close()
	return writeIn(w.top().fd, r.Path(p), base, data, perm, false)
}

// WriteAtomic writes data to the machine path target atomically, keeping
// the mode and ownership of an existing file (of the file a symlink at
// target points to; the link itself is replaced). It is for files of the
// machine zfsinstall runs on (a saved plan), and the running system.
func WriteAtomic(target string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(dfd)
	return writeIn(dfd, target, filepath.Base(target), data, perm, true)
}

// tempPrefix starts the name of the temporary files writes of base use:
// ".zfs.conf.zfsinstall-PID-RANDOM", hidden and not ending in ".conf" or
// ".repo", so no program reading the directory takes one for the real file.
func tempPrefix(base string) string { return "." + base + ".zfsinstall-" }

// writeIn replaces base in the directory dfd atomically. name is the
// target's machine path, for messages. followMode takes mode and owner from
// what a symlink at base points to (the running system, as before); without
// it only an existing regular file's mode and owner are kept.
func writeIn(dfd int, name, base string, data []byte, perm fs.FileMode, followMode bool) error {
	uid, gid := -1, -1
	var st unix.Stat_t
	flags := unix.AT_SYMLINK_NOFOLLOW
	if followMode {
		flags = 0
	}
	if err := unix.Fstatat(dfd, base, &st, flags); err == nil {
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			return &fs.PathError{Op: "write", Path: name, Err: unix.EISDIR}
		case unix.S_IFREG:
			perm, uid, gid = fs.FileMode(st.Mode).Perm(), int(st.Uid), int(st.Gid)
		default:
			if followMode {
				perm, uid, gid = fs.FileMode(st.Mode).Perm(), int(st.Uid), int(st.Gid)
			}
		}
	}
	removeStaleTemps(dfd, base)
	tmp, fd, err := createTemp(dfd, base)
	if err != nil {
		return &fs.PathError{Op: "create", Path: filepath.Join(filepath.Dir(name), tempPrefix(base)+"*"), Err: err}
	}
	f := os.NewFile(uintptr(fd), filepath.Join(filepath.Dir(name), tmp))
	if testHookWrite != nil {
		testHookWrite()
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			unix.Unlinkat(dfd, tmp, 0)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if uid >= 0 {
		if err := f.Chown(uid, gid); err != nil && !errors.Is(err, fs.ErrPermission) {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := unix.Renameat(dfd, tmp, dfd, base); err != nil {
		return &fs.PathError{Op: "rename", Path: name, Err: err}
	}
	ok = true
	if d, err := unix.Openat(dfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
		unix.Fsync(d)
		unix.Close(d)
	}
	return nil
}

// testHookWrite, when set by a test, runs once the temporary file exists.
var testHookWrite func()

// createTemp creates a new temporary file for base in dfd, never through a
// symlink, mode 0600 until written.
func createTemp(dfd int, base string) (string, int, error) {
	for range 100 {
		tmp := fmt.Sprintf("%s%d-%d", tempPrefix(base), os.Getpid(), rand.Uint32())
		fd, err := unix.Openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		return tmp, fd, err
	}
	return "", -1, unix.EEXIST
}

// removeStaleTemps removes the temporary files of base that a run killed
// mid-write left in dfd: those of a process that no longer runs, and those
// named by zfsinstall versions before the PID was in the name (".NAME.
// zfsinstall-DIGITS"). Only regular files are removed; errors are ignored
// (a leftover is untidy, not harmful: no program reads these names).
func removeStaleTemps(dfd int, base string) {
	d, err := unix.Openat(dfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(d), ".")
	names, _ := f.Readdirnames(-1)
	f.Close()
	for _, n := range names {
		rest, ok := strings.CutPrefix(n, tempPrefix(base))
		if !ok {
			continue
		}
		pid, random, hasPID := strings.Cut(rest, "-")
		if !digits(pid) || (hasPID && !digits(random)) {
			continue
		}
		if hasPID {
			id, err := strconv.Atoi(pid)
			if err != nil || id == os.Getpid() || running(id) {
				continue
			}
		}
		var st unix.Stat_t
		if unix.Fstatat(dfd, n, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
			unix.Unlinkat(dfd, n, 0)
		}
	}
}

func digits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// running reports whether a process with this PID exists.
func running(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// Lock implements Host with flock(2), which the kernel releases if the
// process dies, so a crashed apply never leaves a stale lock behind. The
// lock file is opened with O_NOFOLLOW on the running system too, must be a
// regular file with one link (the PID written into it must not land in
// another file), and is truncated before the PID is written. Release
// removes the file again, so that an apply leaves nothing behind (a
// refusing one must change nothing: issue 20); a taker that locked a file
// the holder removed in between finds the name no longer refers to it, and
// tries again.
func (r *Real) Lock(p string) (func(), error) {
	target := r.Path(p)
	p = path.Clean("/" + p)
	dir, base := path.Split(p)
	// The directories created for the lock go with it (a root without
	// /run): a refusing apply must leave the root as it was.
	var created []string
	for d := path.Clean(dir); d != "/"; d = path.Dir(d) {
		if _, err := r.Lstat(d); err == nil {
			break
		}
		created = append(created, d)
	}
	var dfd int
	if r.live() {
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return nil, fmt.Errorf("locking %s: %w", target, err)
		}
		var err error
		if dfd, err = unix.Open(filepath.Dir(target), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			return nil, fmt.Errorf("locking %s: %w", target, err)
		}
	} else {
		w, err := r.openDir("mkdir", dir, walkOpts{mkdir: true, perm: 0o755, op: "locking", subject: p})
		if err != nil {
			return nil, err
		}
		// Keep the directory's descriptor, close the rest of the walk.
		dfd = w.top().fd
		w.stack = w.stack[:len(w.stack)-1]
		w.close()
	}
	for range 10 {
		fd, retry, err := lockIn(dfd, base, target)
		if retry {
			continue
		}
		if err != nil {
			unix.Close(dfd)
			return nil, err
		}
		return func() {
			if sameFile(dfd, base, fd) {
				unix.Unlinkat(dfd, base, 0)
			}
			unix.Flock(fd, unix.LOCK_UN)
			unix.Close(fd)
			unix.Close(dfd)
			for _, d := range created {
				r.Remove(d) // rmdir: only when nothing else was put there
			}
		}, nil
	}
	unix.Close(dfd)
	return nil, fmt.Errorf("locking %s: another zfsinstall took and released it ten times while this one tried: run again", target)
}

// lockIn opens and locks base in the directory dfd. retry is set when the
// file locked is no longer the one the name refers to (its holder removed
// it on release).
func lockIn(dfd int, base, target string) (fd int, retry bool, err error) {
	flags := unix.O_RDWR | unix.O_CREAT | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC
	fd, err = unix.Openat(dfd, base, flags, 0o600)
	if errors.Is(err, unix.ELOOP) {
		return -1, false, fmt.Errorf("locking %s: it is a symlink, and the lock is never taken through one: refusing; remove it (zfsinstall creates the lock file itself)", target)
	}
	if err != nil {
		return -1, false, fmt.Errorf("locking %s: %w", target, err)
	}
	fail := func(format string, args ...any) (int, bool, error) {
		unix.Close(fd)
		return -1, false, fmt.Errorf("locking %s: "+format, append([]any{target}, args...)...)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fail("%w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fail("it is %s, not a regular file: refusing; remove it (zfsinstall creates the lock file itself)", fileType(st.Mode))
	}
	if st.Nlink > 1 {
		return fail("it has %d hard links, so writing the PID into it would change another file: refusing; remove it (zfsinstall creates the lock file itself)", st.Nlink)
	}
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			holder := ""
			if pid := readPID(fd); pid > 0 {
				holder = fmt.Sprintf(" (PID %d)", pid)
			}
			return fail("another zfsinstall apply%s holds it: wait for it to finish", holder)
		}
		return fail("%w", err)
	}
	if !sameFile(dfd, base, fd) {
		unix.Close(fd) // removed by its last holder after we opened it
		return -1, true, nil
	}
	if err := unix.Ftruncate(fd, 0); err != nil {
		return fail("truncating: %w", err)
	}
	if _, err := unix.Pwrite(fd, []byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		return fail("writing the PID: %w", err)
	}
	return fd, false, nil
}

// sameFile reports whether base in dfd is still the file open as fd.
func sameFile(dfd int, base string, fd int) bool {
	var a, b unix.Stat_t
	return unix.Fstat(fd, &a) == nil && unix.Fstatat(dfd, base, &b, unix.AT_SYMLINK_NOFOLLOW) == nil &&
		a.Dev == b.Dev && a.Ino == b.Ino
}

// readPID reads the PID a lock holder wrote into the lock file fd.
func readPID(fd int) int {
	buf := make([]byte, 24)
	n, _ := unix.Pread(fd, buf, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:max(n, 0)])))
	if err != nil {
		return 0
	}
	return pid
}

// LockHolder implements Host without taking the lock (a probe that took it,
// even briefly, could make an apply starting then fail): it looks the lock
// file up in the kernel's table of flock(2) locks, /proc/locks of this
// machine ("1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF": PID, then
// MAJOR:MINOR:INODE, fs/locks.c lock_get_status).
func (r *Real) LockHolder(p string) (int, error) {
	var st unix.Stat_t
	if r.live() {
		if err := unix.Lstat(r.Path(p), &st); err != nil {
			return 0, nil
		}
	} else {
		w, name, err := r.resolve("stat", p, walkOpts{})
		if err != nil {
			return 0, nil
		}
		err = unix.Fstatat(w.top().fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		w.close()
		if err != nil {
			return 0, nil
		}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0, nil
	}
	locks, err := ReadRegular("/proc/locks", MaxReadSize)
	if err != nil {
		return 0, fmt.Errorf("reading /proc/locks to see whether an apply holds %s: %w", r.Path(p), err)
	}
	want := fmt.Sprintf("%02x:%02x:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	for _, line := range strings.Split(string(locks), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[1] != "FLOCK" || f[5] != want {
			continue
		}
		if pid, err := strconv.Atoi(f[4]); err == nil {
			return pid, nil
		}
	}
	return 0, nil
}

// fileType names a file type for messages: "a directory", "a FIFO".
func fileType(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFIFO:
		return "a FIFO"
	case unix.S_IFSOCK:
		return "a socket"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "a device"
	case unix.S_IFLNK:
		return "a symlink"
	}
	return "not a regular file"
}
