// Package host is the one seam between zfsinstall and the machine it manages.
// Every file read, file write and command goes through a Host, rooted at the
// directory given by --root ("/" for the running system). Nothing else in the
// project touches the filesystem of the managed host or runs programs.
package host

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"strings"
)

// Host is the machine (or install root) zfsinstall reads and changes.
// Paths are absolute paths on the managed host ("/etc/yum.repos.d/zfs.repo");
// implementations map them under their root. In a managed root (Root() not
// "/") every path, and every symlink met on the way, is resolved inside the
// root as chroot(2) would resolve it: no method reads, writes, lists or
// locks a file outside the root (see Real).
type Host interface {
	// Root is the directory the host's "/" lives at on the machine ("/" normally).
	Root() string
	// ReadFile reads a regular file of at most MaxReadSize bytes, refusing
	// a FIFO, device or socket without blocking (see ReadRegular).
	ReadFile(path string) ([]byte, error)
	// WriteFile replaces path atomically: temp file in the same directory,
	// fsync, rename; the temp file never outlives the write (a killed
	// run's is removed by the next write of the same file). An existing
	// regular file keeps its mode and ownership; perm is used for new
	// files. In a managed root a symlink at path is replaced by a regular
	// file of mode perm (its target is neither written nor copied), and a
	// directory symlink leading out of the root is refused (*LinkError).
	WriteFile(path string, data []byte, perm fs.FileMode) error
	Remove(path string) error
	MkdirAll(path string, perm fs.FileMode) error
	Stat(path string) (fs.FileInfo, error)
	Lstat(path string) (fs.FileInfo, error)
	Readlink(path string) (string, error)
	// Glob returns host paths (not machine paths) matching pattern.
	Glob(pattern string) ([]string, error)
	// Run executes argv directly (never through a shell). The returned error
	// is a *CmdError when the program ran and exited non-zero, or wraps the
	// start failure; Result is filled either way.
	Run(ctx context.Context, cmd Cmd) (Result, error)
	// Lock takes an exclusive, non-blocking lock on path (created if
	// needed, never through a symlink, and only a regular file with one
	// link) and writes the PID into it; release undoes it. A lock held by
	// another process is an error.
	Lock(path string) (release func(), err error)
	// LockHolder returns the PID of the process holding the lock Lock
	// takes on path, 0 when none does, without taking it.
	LockHolder(path string) (pid int, err error)
	// CheckWrite says, changing nothing, whether WriteFile or MkdirAll of
	// path would be refused (*LinkError) or fail (*NotWritableError) now.
	CheckWrite(path string) error
	// CheckTool says, changing nothing, whether a program that opens
	// Root()+path itself without chroot (rpm --root, dnf --installroot,
	// systemctl --root) would write outside the root through a symlink
	// planted in it (*LinkError naming the link), or cannot write
	// (*NotWritableError). program names it in messages.
	CheckTool(program string, paths ...ToolPath) error
}

// Cmd is one program invocation. Argv[0] is looked up on PATH.
type Cmd struct {
	Argv  []string
	Env   []string // extra KEY=VALUE pairs on top of the process environment
	Stdin []byte
}

// String renders the argv for logs and error messages, quoting where needed.
func (c Cmd) String() string {
	parts := make([]string, len(c.Argv))
	for i, a := range c.Argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$*?;&|<>()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts[i] = a
	}
	return strings.Join(parts, " ")
}

// Result is what a command printed and how it exited.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// CmdError reports a command that ran and failed, with enough to act on:
// the command, its exit code and the tail of its stderr.
type CmdError struct {
	Cmd      Cmd
	ExitCode int
	Stderr   []byte
	Stdout   []byte
}

func (e *CmdError) Error() string {
	msg := fmt.Sprintf("command `%s` exited with code %d", e.Cmd, e.ExitCode)
	if tail := Tail(e.Stderr, 10); tail != "" {
		msg += ":\n" + indent(tail)
	} else if tail := Tail(e.Stdout, 10); tail != "" {
		msg += ":\n" + indent(tail)
	}
	return msg
}

// Tail returns the last n non-empty lines of out.
func Tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(bytes.TrimSpace(out)), "\n"), "\n")
	var keep []string
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			keep = append(keep, l)
		}
	}
	if len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	return strings.Join(keep, "\n")
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// Exists reports whether path exists on h (following symlinks).
func Exists(h Host, path string) bool {
	_, err := h.Stat(path)
	return err == nil
}

// InRoot returns argv to run inside h's root: through chroot when the root
// is not "/", so the program sees the root's own files and programs (dkms,
// dracut and mokutil need that).
func InRoot(h Host, argv ...string) []string {
	if h.Root() == "/" {
		return argv
	}
	return append([]string{"chroot", h.Root()}, argv...)
}
