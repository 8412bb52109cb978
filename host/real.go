package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
)

// Real is the machine itself, rooted at Dir ("/" for the running system).
type Real struct {
	Dir string
	Log logrus.FieldLogger
}

// NewReal returns a Host for the machine rooted at dir.
func NewReal(dir string, log logrus.FieldLogger) *Real {
	if dir == "" {
		dir = "/"
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		dir = abs
	}
	if log == nil {
		l := logrus.New()
		l.SetOutput(os.Stderr)
		l.SetLevel(logrus.WarnLevel)
		log = l
	}
	return &Real{Dir: dir, Log: log}
}

// Root implements Host.
func (r *Real) Root() string { return r.Dir }

// Path maps a host path to a machine path.
func (r *Real) Path(p string) string {
	return filepath.Join(r.Dir, filepath.Clean("/"+p))
}

// ReadFile implements Host.
func (r *Real) ReadFile(p string) ([]byte, error) { return os.ReadFile(r.Path(p)) }

// Remove implements Host.
func (r *Real) Remove(p string) error { return os.Remove(r.Path(p)) }

// MkdirAll implements Host.
func (r *Real) MkdirAll(p string, perm fs.FileMode) error { return os.MkdirAll(r.Path(p), perm) }

// Stat implements Host.
func (r *Real) Stat(p string) (fs.FileInfo, error) { return os.Stat(r.Path(p)) }

// Lstat implements Host.
func (r *Real) Lstat(p string) (fs.FileInfo, error) { return os.Lstat(r.Path(p)) }

// Readlink implements Host.
func (r *Real) Readlink(p string) (string, error) { return os.Readlink(r.Path(p)) }

// Glob implements Host.
func (r *Real) Glob(pattern string) ([]string, error) {
	matches, err := filepath.Glob(r.Path(pattern))
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(matches))
	for _, m := range matches {
		rel, err := filepath.Rel(r.Dir, m)
		if err != nil {
			return nil, err
		}
		out = append(out, "/"+rel)
	}
	return out, nil
}

// WriteFile implements Host: temp file beside the target, fsync, rename, so
// a crash leaves either the old or the new file, never half of one.
func (r *Real) WriteFile(p string, data []byte, perm fs.FileMode) error {
	return WriteAtomic(r.Path(p), data, perm)
}

// WriteAtomic writes data to the machine path target atomically, keeping
// the mode and ownership of an existing file.
func WriteAtomic(target string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	uid, gid := -1, -1
	if fi, err := os.Stat(target); err == nil {
		perm = fi.Mode().Perm()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".zfsinstall-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if uid >= 0 {
		if err := tmp.Chown(uid, gid); err != nil && !errors.Is(err, fs.ErrPermission) {
			return err
		}
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, target); err != nil {
		return err
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Run implements Host. Every command is logged the same way: started,
// finished or failed, with argv and duration, and stderr on failure.
func (r *Real) Run(ctx context.Context, c Cmd) (Result, error) {
	if len(c.Argv) == 0 {
		return Result{}, errors.New("running command: empty argv")
	}
	log := r.Log.WithField("cmd", c.String())
	log.Debug("command started")
	start := time.Now()
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	cmd.Env = append(os.Environ(), c.Env...)
	// LC_ALL=C keeps rpm, dnf and dkms output parseable.
	cmd.Env = append(cmd.Env, "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	err := cmd.Run()
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	dur := time.Since(start).Round(time.Millisecond)
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			res.ExitCode = ee.ExitCode()
			log.WithFields(logrus.Fields{"exit": res.ExitCode, "duration": dur, "stderr": Tail(res.Stderr, 5)}).Debug("command failed")
			return res, &CmdError{Cmd: c, ExitCode: res.ExitCode, Stderr: res.Stderr, Stdout: res.Stdout}
		}
		res.ExitCode = -1
		log.WithError(err).Debug("command could not start")
		return res, fmt.Errorf("running `%s`: %w", c, err)
	}
	log.WithField("duration", dur).Debug("command finished")
	return res, nil
}

// Lock implements Host with flock(2), which the kernel releases if the
// process dies, so a crashed apply never leaves a stale lock behind.
func (r *Real) Lock(p string) (func(), error) {
	target := r.Path(p)
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return nil, err
	}
	fh, err := os.OpenFile(target, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(fh.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		fh.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another zfsinstall apply holds %s: wait for it to finish", target)
		}
		return nil, fmt.Errorf("locking %s: %w", target, err)
	}
	fmt.Fprintf(fh, "%d\n", os.Getpid())
	return func() {
		syscall.Flock(int(fh.Fd()), syscall.LOCK_UN)
		fh.Close()
	}, nil
}

// KernelRelease is the running kernel's release (uname -r), from uname(2).
func (r *Real) KernelRelease() (string, error) {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "", err
	}
	b := make([]byte, 0, len(u.Release))
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b), nil
}
