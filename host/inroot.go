package host

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// Paths in a managed root (--root DIR other than "/") are resolved here, one
// component at a time on O_PATH descriptors, the way the kernel resolves
// them for a process chrooted into DIR: an absolute symlink target starts
// again at DIR, and ".." never climbs above DIR. Each step is an openat(2)
// with O_NOFOLLOW relative to the directory reached so far, and ".." goes
// back to the descriptor that was walked through, so a link planted in the
// root (or swapped in while zfsinstall runs) can never lead a read or a
// write to a file outside DIR.
//
// Why not openat2(2) with RESOLVE_IN_ROOT: it does the same in the kernel,
// but only from Linux 5.6, and zfsinstall manages EL7 (3.10) and EL8 (4.18)
// hosts, so the user-space walk would be needed anyway as the fallback and
// would then be the path taken on most supported hosts; the walk also knows
// which link led where, so a refusal can name it. The tests compare the
// walk with openat2 on every symlink case where the kernel has it. Why not
// github.com/cyphar/filepath-securejoin: its handle-based API would still
// leave the file creation, the rename, the listing and the messages to this
// package, for an extra dependency (MPL-2.0 code plus go-pathrs in go.sum).

// maxSymlinks is how many links one resolution may follow, as Linux's
// MAXSYMLINKS (include/linux/namei.h).
const maxSymlinks = 40

// ErrLinkOutOfRoot is wrapped by every refusal to write through a symlink
// that leads out of the managed root (see LinkError).
var ErrLinkOutOfRoot = errors.New("symlink leads out of the root")

// LinkError is a refusal to create or write a file in a managed root
// through a directory symlink that leads out of it: one whose target climbs
// above the root with "..", or whose target, taken inside the root, does not
// exist (typically an absolute link to a directory of the machine running
// zfsinstall). Reads follow such links as chroot(2) would and never leave
// the root; writes refuse them rather than create directories at the target.
type LinkError struct {
	Op     string // what was refused: "writing", "creating", "locking"
	Path   string // the host path operated on
	Root   string // the managed root (machine path)
	Link   string // host path of the symlink
	Target string // the link's target as stored in it
	Why    string // "climbs above the root", "does not exist inside the root"
	// Tool is the program that would follow the link (see Real.CheckTool),
	// "" for zfsinstall's own writes.
	Tool string
}

func (e *LinkError) Error() string {
	if e.Tool != "" {
		return fmt.Sprintf("%s would %s %s in %s, and %s is a symlink to %s, which %s: %s opens paths under the root itself, not chrooted, so this machine's kernel follows the link (an absolute target is this machine's path). Refusing before running it; make %s a directory inside the root, or a relative link that stays inside it",
			e.Tool, e.Op, e.Path, e.Root, e.Link, e.Target, e.Why, e.Tool, e.Link)
	}
	return fmt.Sprintf("%s %s in %s: %s is a symlink to %s, which %s (links in a managed root are followed as inside it, never out of it): refusing; make %s a directory inside the root, or point the link inside it",
		e.Op, e.Path, e.Root, e.Link, e.Target, e.Why, e.Link)
}

// Unwrap makes errors.Is(err, ErrLinkOutOfRoot) true.
func (e *LinkError) Unwrap() error { return ErrLinkOutOfRoot }

// dirRef is a directory reached inside the root: an O_PATH descriptor and
// its host path, symlinks resolved.
type dirRef struct {
	fd   int
	path string
}

// link is a symlink met during a walk.
type link struct{ path, target string }

// component is one name to resolve; via is the symlink whose target it came
// from (nil for the components of the path itself).
type component struct {
	name string
	via  *link
}

// walk is one resolution inside the root. stack[0] is the root; the last
// element is the directory reached so far. close releases the descriptors.
type walk struct {
	stack []dirRef
	links int
	// missing is set by a dry walk (walkOpts.dry) that stopped at a
	// directory the write would create: the top is the deepest existing
	// directory, and the final name returned is the first missing one.
	missing bool
}

func (w *walk) top() dirRef { return w.stack[len(w.stack)-1] }

func (w *walk) close() {
	for _, d := range w.stack {
		unix.Close(d.fd)
	}
	w.stack = nil
}

// popTo closes the directories above depth n.
func (w *walk) popTo(n int) {
	for len(w.stack) > n {
		unix.Close(w.top().fd)
		w.stack = w.stack[:len(w.stack)-1]
	}
}

func components(p string, via *link) []component {
	var out []component
	for _, n := range strings.Split(p, "/") {
		if n != "" && n != "." {
			out = append(out, component{n, via})
		}
	}
	return out
}

// walkOpts says how a walk treats the final component and missing
// directories.
type walkOpts struct {
	// follow resolves a final symlink; otherwise the final name is returned
	// unexamined (Lstat, Readlink, Remove, and the file of a write).
	follow bool
	// mkdir creates missing directories named by the path itself (never at
	// a symlink's target, see LinkError) with mode perm, and refuses
	// directory links that climb above the root; op names the write.
	mkdir bool
	perm  fs.FileMode
	op    string
	// subject is the host path a refusal names (the file being written
	// rather than its directory); the walked path when empty.
	subject string
	// dry, with mkdir, creates nothing: the walk refuses what a mkdir walk
	// would refuse and stops at the first missing directory (walk.missing),
	// so a caller can check a write before making it.
	dry bool
}

// resolve walks the host path p inside r.Dir. It returns the walk, whose
// top is the directory holding the final component, and the final name
// ("." when p resolves to that directory itself, as "/" does). With follow
// set the final name is never a symlink at the time it was looked at; the
// caller opens it with O_NOFOLLOW, so a link swapped in since is refused,
// not followed. The caller must close the walk.
func (r *Real) resolve(op, p string, o walkOpts) (*walk, string, error) {
	rootFD, err := unix.Open(r.Dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, "", &fs.PathError{Op: op, Path: r.Dir, Err: err}
	}
	w := &walk{stack: []dirRef{{rootFD, "/"}}}
	fail := func(err error) (*walk, string, error) {
		w.close()
		return nil, "", err
	}
	pathErr := func(err error) (*walk, string, error) {
		return fail(&fs.PathError{Op: op, Path: r.Path(p), Err: err})
	}
	refuse := func(l *link, why string) (*walk, string, error) {
		subject := o.subject
		if subject == "" {
			subject = p
		}
		return fail(&LinkError{Op: o.op, Path: path.Clean("/" + subject), Root: r.Dir, Link: l.path, Target: l.target, Why: why})
	}
	todo := components(path.Clean("/"+p), nil)
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		last := len(todo) == 0
		if c.name == ".." {
			if len(w.stack) == 1 && c.via != nil && o.mkdir {
				return refuse(c.via, "climbs above the root")
			}
			w.popTo(max(1, len(w.stack)-1))
			if last {
				return w, ".", nil
			}
			continue
		}
		if last && !o.follow {
			return w, c.name, nil
		}
		top := w.top()
		fd, err := unix.Openat(top.fd, c.name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) && o.mkdir {
			if c.via != nil {
				return refuse(c.via, "does not exist inside the root")
			}
			if o.dry {
				// Every component left is the path's own (a link's
				// components come before the rest): all created here.
				w.missing = true
				return w, c.name, nil
			}
			if err := unix.Mkdirat(top.fd, c.name, uint32(o.perm.Perm())); err != nil && !errors.Is(err, unix.EEXIST) {
				return fail(&fs.PathError{Op: "mkdir", Path: r.Path(path.Join(top.path, c.name)), Err: err})
			}
			fd, err = unix.Openat(top.fd, c.name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		}
		if err != nil {
			if last && errors.Is(err, unix.ENOENT) {
				return w, c.name, nil // the caller's own open reports it
			}
			return pathErr(err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return pathErr(err)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			target, err := readlinkFD(fd)
			unix.Close(fd)
			if err != nil {
				return pathErr(err)
			}
			if w.links++; w.links > maxSymlinks {
				return pathErr(unix.ELOOP)
			}
			l := &link{path: path.Join(top.path, c.name), target: target}
			if strings.HasPrefix(target, "/") {
				w.popTo(1)
			}
			next := components(target, l)
			if len(next) == 0 && last {
				return w, ".", nil // a link to "/"
			}
			todo = append(next, todo...)
		case unix.S_IFDIR:
			if last {
				unix.Close(fd)
				return w, c.name, nil
			}
			w.stack = append(w.stack, dirRef{fd, path.Join(top.path, c.name)})
		default:
			unix.Close(fd)
			if last {
				return w, c.name, nil
			}
			return pathErr(unix.ENOTDIR)
		}
	}
	return w, ".", nil
}

// openDir resolves the directory p inside the root and returns the walk
// with p's directory on top (creating missing directories when o.mkdir).
func (r *Real) openDir(op, p string, o walkOpts) (*walk, error) {
	o.follow = true
	w, name, err := r.resolve(op, p, o)
	if err != nil || name == "." || w.missing {
		return w, err
	}
	top := w.top()
	fd, err := unix.Openat(top.fd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) && o.mkdir && o.dry {
		w.missing = true
		return w, nil
	}
	if errors.Is(err, unix.ENOENT) && o.mkdir {
		if err := unix.Mkdirat(top.fd, name, uint32(o.perm.Perm())); err != nil && !errors.Is(err, unix.EEXIST) {
			w.close()
			return nil, &fs.PathError{Op: "mkdir", Path: r.Path(p), Err: err}
		}
		fd, err = unix.Openat(top.fd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		w.close()
		if errors.Is(err, unix.ELOOP) {
			err = unix.ENOTDIR // a link swapped in since resolve looked: not followed
		}
		return nil, &fs.PathError{Op: op, Path: r.Path(p), Err: err}
	}
	w.stack = append(w.stack, dirRef{fd, path.Join(top.path, name)})
	return w, nil
}

// readlinkFD reads the symlink an O_PATH|O_NOFOLLOW descriptor refers to.
func readlinkFD(fd int) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(fd, "", buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
		if size >= 1<<16 {
			return "", unix.ENAMETOOLONG
		}
	}
}
