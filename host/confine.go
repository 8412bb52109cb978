package host

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Checks made before the first change (issue 20): that every write apply
// will make, its own and the programs' it runs, can be made inside the
// root. zfsinstall's own writes resolve paths inside the root (inroot.go);
// rpm --root, dnf --installroot and systemctl --root do not: they open
// ROOT+PATH as ordinary paths of this machine, so the machine's kernel
// follows a symlink planted in the root (an absolute target is this
// machine's path, ".." climbs above the root). Programs run chrooted (dkms,
// dracut, mokutil) resolve inside the root by construction.

// ErrNotWritable is wrapped by every refusal of a write that would fail
// because the file or directory cannot be written now (a read-only file
// system, an immutable file).
var ErrNotWritable = errors.New("not writable")

// NotWritableError is a write that would fail: who would make it
// ("zfsinstall", "rpm"), the host path, the machine path, and why.
type NotWritableError struct {
	Who     string
	Path    string // host path the write is for
	Machine string // machine path that cannot be written
	Err     error  // from access(2): EROFS, EPERM (immutable), EACCES
}

func (e *NotWritableError) Error() string {
	why := e.Err.Error()
	switch {
	case errors.Is(e.Err, unix.EROFS):
		why = "it is on a read-only file system"
	case errors.Is(e.Err, unix.EPERM):
		why = "it is immutable (chattr +i) or otherwise protected"
	}
	return fmt.Sprintf("%s would write %s, but %s cannot be written: %s. Refusing before any change; make it writable (remount read-write, chattr -i) and run again",
		e.Who, e.Path, e.Machine, why)
}

// Unwrap makes errors.Is(err, ErrNotWritable) true.
func (e *NotWritableError) Unwrap() []error { return []error{ErrNotWritable, e.Err} }

// CheckWrite says, without changing anything, whether WriteFile or
// MkdirAll of the host path p would be refused or fail now: in a managed
// root a directory symlink leading out of it (*LinkError, as the write
// itself would refuse), and on any host a file or directory that cannot be
// written (*NotWritableError). The directory checked for writing is the
// one the file would be created in, or the deepest one that exists; a path
// ending in "/" is a directory files will be created in.
func (r *Real) CheckWrite(p string) error {
	isDir := strings.HasSuffix(p, "/")
	p = path.Clean("/" + p)
	dir, base := path.Split(p)
	if isDir {
		dir, base = p, ""
	}
	if r.live() {
		return writable("zfsinstall", p, r.Path(dir), base)
	}
	w, err := r.openDir("mkdir", dir, walkOpts{mkdir: true, dry: true, op: "writing", subject: p})
	if err != nil {
		return err
	}
	defer w.close()
	top := w.top()
	check := func(name string) error {
		if err := unix.Faccessat(top.fd, name, unix.W_OK, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return &NotWritableError{Who: "zfsinstall", Path: p, Machine: r.Path(path.Join(top.path, name)), Err: err}
		}
		return nil
	}
	if err := check("."); err != nil || w.missing || base == "" {
		return err
	}
	var st unix.Stat_t
	if unix.Fstatat(top.fd, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
		return check(base) // rename(2) over an immutable file fails
	}
	return nil
}

// writable checks, on the running system, that the machine directory dir
// (or its deepest existing ancestor) and the file base in it can be
// written.
func writable(who, p, dir, base string) error {
	for d := dir; ; d = filepath.Dir(d) {
		err := unix.Access(d, unix.W_OK)
		if errors.Is(err, unix.ENOENT) && d != "/" {
			continue
		}
		if err != nil {
			return &NotWritableError{Who: who, Path: p, Machine: d, Err: err}
		}
		if d != dir || base == "" {
			return nil
		}
		break
	}
	file := filepath.Join(dir, base)
	if fi, err := os.Lstat(file); err == nil && fi.Mode().IsRegular() {
		if err := unix.Access(file, unix.W_OK); err != nil {
			return &NotWritableError{Who: who, Path: p, Machine: file, Err: err}
		}
	}
	return nil
}

// ToolPath is a path a program run against the managed root without chroot
// writes (rpm --root, dnf --installroot, systemctl --root): it opens
// Root()+Path itself, so the machine's kernel resolves it.
type ToolPath struct {
	// Path is the host path ("/var/lib/rpm").
	Path string
	// Tree: the program writes anywhere under Path (a database, a cache):
	// no symlink anywhere under it may lead out of the root either.
	Tree bool
	// Dirs: the program creates entries in subdirectories of Path that may
	// exist already (systemctl's NAME.wants/): no entry of Path may be a
	// symlink to a directory out of the root. Symlinks to files (unit
	// links, a mask to /dev/null) are read by the program as inside the
	// root and replaced, never written through.
	Dirs bool
	// Writable: Path (or, when it does not exist yet, the directory it
	// would be created in) must be writable now.
	Writable bool
	// Read: the program reads Path (its configuration) rather than writes
	// it; a link out of the root would make it read this machine's.
	Read bool
}

// CheckTool checks, without changing anything, that program (named for
// messages) writing paths opened as Root()+path on this machine stays
// inside the root: each path, resolved as the machine's kernel resolves it,
// lands inside the root, or the refusal is a *LinkError naming the link
// that leads out. A relative link that stays inside the root is followed
// (Fedora's /var/lib/rpm -> ../../usr/lib/sysimage/rpm). On the running
// system only Writable is checked.
func (r *Real) CheckTool(program string, paths ...ToolPath) error {
	for _, tp := range paths {
		if err := r.checkTool(program, tp); err != nil {
			return err
		}
	}
	return nil
}

func (r *Real) checkTool(program string, tp ToolPath) error {
	p := path.Clean("/" + tp.Path)
	if r.live() {
		if !tp.Writable {
			return nil
		}
		return writable(program, p, r.Path(p), "")
	}
	root, err := filepath.EvalSymlinks(r.Dir)
	if err != nil {
		return err
	}
	res, err := machineResolve(root, p)
	if err != nil {
		return err
	}
	if res.out != nil {
		return r.toolLinkError(program, p, res.out, tp.Read)
	}
	if tp.Writable {
		if err := unix.Access(res.existing, unix.W_OK); err != nil {
			return &NotWritableError{Who: program, Path: p, Machine: res.existing, Err: err}
		}
	}
	if res.missing || !(tp.Tree || tp.Dirs) {
		return nil
	}
	return r.checkEntries(program, root, p, res.path, tp.Tree)
}

// checkEntries checks the symlinks under the resolved directory dir (host
// path p): with tree every one, at any depth, must resolve inside the
// root; else only the entries of dir itself that resolve to a directory
// out of it (or, dangling, are named as directories a program makes:
// NAME.wants, NAME.requires, NAME.upholds) are refused.
func (r *Real) checkEntries(program, root, p, dir string, tree bool) error {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return nil
	}
	return filepath.WalkDir(dir, func(m string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable: the program fails on it, inside the root
		}
		if m == dir {
			return nil
		}
		if d.IsDir() && !tree {
			return filepath.SkipDir
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		rel, _ := filepath.Rel(dir, m)
		host := path.Join(p, filepath.ToSlash(rel))
		res, err := machineResolve(root, host)
		if err != nil || res.out == nil {
			return nil
		}
		if !tree {
			fi, statErr := os.Stat(res.path)
			isDir := statErr == nil && fi.IsDir()
			dirName := strings.HasSuffix(m, ".wants") || strings.HasSuffix(m, ".requires") || strings.HasSuffix(m, ".upholds")
			if !isDir && !(statErr != nil && dirName) {
				return nil
			}
		}
		return r.toolLinkError(program, host, res.out, false)
	})
}

func (r *Real) toolLinkError(program, p string, l *link, read bool) error {
	op := "write"
	if read {
		op = "read"
	}
	return &LinkError{Op: op, Path: p, Root: r.Dir, Link: l.path, Target: l.target, Why: "leads out of the root", Tool: program}
}

// resolution is where the machine's kernel resolves ROOT+PATH.
type resolution struct {
	path     string // machine path reached (the rest appended when missing)
	existing string // deepest existing directory or file of path
	missing  bool   // a component does not exist: a program would create it
	out      *link  // the link that led out of the root, if the result is outside
}

// machineResolve resolves the host path p under the machine directory root
// (symlinks already resolved) as the kernel resolves root+p for a process
// that is not chrooted: an absolute link target starts again at this
// machine's "/", and ".." may climb above root. It stops at the first
// missing component. The result is outside the root when its path is not
// root or under it; out then names the last link followed, the one that
// took it there. link.path is a host path.
func machineResolve(root, p string) (resolution, error) {
	cur := root
	var last *link
	todo := components(p, nil)
	for n := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		if c.name == ".." {
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, c.name)
		fi, err := os.Lstat(next)
		if errors.Is(err, fs.ErrNotExist) {
			res := resolution{path: next, existing: cur, missing: true}
			for _, rest := range todo {
				res.path = filepath.Join(res.path, rest.name)
			}
			return finish(root, res, last), nil
		}
		if err != nil {
			return resolution{}, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if n++; n > maxSymlinks {
			return resolution{}, &fs.PathError{Op: "resolve", Path: next, Err: unix.ELOOP}
		}
		target, err := os.Readlink(next)
		if err != nil {
			return resolution{}, err
		}
		host := next
		if rel, err := filepath.Rel(root, next); err == nil && !strings.HasPrefix(rel, "..") {
			host = "/" + filepath.ToSlash(rel)
		}
		last = &link{path: host, target: target}
		if filepath.IsAbs(target) {
			cur = "/"
		}
		todo = append(components(target, last), todo...)
	}
	return finish(root, resolution{path: cur, existing: cur}, last), nil
}

func finish(root string, res resolution, last *link) resolution {
	if res.path != root && !strings.HasPrefix(res.path, root+"/") && root != "/" {
		res.out = last
		if res.out == nil {
			res.out = &link{path: "/", target: root}
		}
	}
	return res
}
