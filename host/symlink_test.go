package host

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The symlink cases of issue 11: a managed root (--root) whose files were
// prepared by someone else must never lead zfsinstall to read, write, lock
// or list a file outside the root. Every case runs against a root and a
// directory "out" beside it holding a secret; out must be unchanged after
// every case, whatever the case's own expectation.

// mkfile writes content to dir/rel with mode, creating parents.
func mkfile(t *testing.T, dir, rel, content string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// mklink makes dir/rel a symlink to target.
func mklink(t *testing.T, dir, rel, target string) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// snapshot records every file under dir: type, mode, owner, content or
// link target.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		desc := fi.Mode().String() + " " + itoa(int(st.Uid)) + ":" + itoa(int(st.Gid))
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			desc += " -> " + target
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			desc += " " + string(b)
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

const secret = "SECRET: outside the root\n"

// symlinkCase is one planted link and one Host operation through it.
type symlinkCase struct {
	// setup plants files and links in root; out is the outside directory
	// (it holds "secret", mode 0600 owned by uid 4242, and "dir/").
	setup func(t *testing.T, root, out string)
	// op runs the operation and returns what it observed (file content,
	// names, a mode) for comparison with want.
	op      func(h *Real, out string) (string, error)
	want    string
	wantErr string // substring of the error; "" means no error
	// check makes further assertions on the root after op.
	check func(t *testing.T, root, out string)
}

func read(p string) func(*Real, string) (string, error) {
	return func(h *Real, _ string) (string, error) {
		b, err := h.ReadFile(p)
		return string(b), err
	}
}

func write(p, content string) func(*Real, string) (string, error) {
	return func(h *Real, _ string) (string, error) {
		return "", h.WriteFile(p, []byte(content), 0o644)
	}
}

func glob(pattern string) func(*Real, string) (string, error) {
	return func(h *Real, _ string) (string, error) {
		m, err := h.Glob(pattern)
		return strings.Join(m, " "), err
	}
}

func lock(p string) func(*Real, string) (string, error) {
	return func(h *Real, _ string) (string, error) {
		release, err := h.Lock(p)
		if err == nil {
			release()
		}
		return "", err
	}
}

// lockedContent takes the lock on p and returns what the lock file holds
// while it is held.
func lockedContent(p string) func(*Real, string) (string, error) {
	return func(h *Real, _ string) (string, error) {
		release, err := h.Lock(p)
		if err != nil {
			return "", err
		}
		defer release()
		data, err := os.ReadFile(h.Path(p))
		return string(data), err
	}
}

// modeOf reports the mode and owner of root/rel without following links.
func modeOf(t *testing.T, root, rel string) string {
	t.Helper()
	fi, err := os.Lstat(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return fi.Mode().String() + " " + itoa(int(st.Uid))
}

func fileIs(rel, content string) func(t *testing.T, root, out string) {
	return func(t *testing.T, root, _ string) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil || string(b) != content {
			t.Errorf("%s = %q (%v), want %q", rel, b, err, content)
		}
	}
}

var symlinkCases = map[string]symlinkCase{
	// Reads: a link is followed as inside the root, never out of it.
	"read: final absolute link to an outside file is not followed out": {
		setup: func(t *testing.T, root, out string) {
			mklink(t, root, "etc/yum.repos.d/evil.repo", filepath.Join(out, "secret"))
		},
		op:      read("/etc/yum.repos.d/evil.repo"),
		wantErr: "no such file",
	},
	"read: final absolute link is taken inside the root": {
		setup: func(t *testing.T, root, out string) {
			mkfile(t, root, "usr/lib/os-release", "ID=rocky\n", 0o644)
			mklink(t, root, "etc/os-release", "/usr/lib/os-release")
		},
		op:   read("/etc/os-release"),
		want: "ID=rocky\n",
	},
	"read: final relative link climbing above the root stops at the root": {
		setup: func(t *testing.T, root, out string) {
			// ../ repeated far beyond the root's depth, then the outside
			// directory's absolute path: on the machine this is out/secret.
			mklink(t, root, "etc/modprobe.d/zfs.conf", strings.Repeat("../", 40)+strings.TrimPrefix(filepath.Join(out, "secret"), "/"))
		},
		op:      read("/etc/modprobe.d/zfs.conf"),
		wantErr: "no such file",
	},
	"read: relative link climbing above the root reads the root's file": {
		setup: func(t *testing.T, root, out string) {
			mkfile(t, root, "etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0o644)
			mklink(t, root, "etc/yum.repos.d/x.repo", "../../../../../../../etc/passwd")
		},
		op:   read("/etc/yum.repos.d/x.repo"),
		want: "root:x:0:0::/root:/bin/sh\n",
	},
	"read: directory link to an outside directory is not followed out": {
		setup: func(t *testing.T, root, out string) {
			mkfile(t, out, "dir/zfs.repo", secret, 0o600)
			mklink(t, root, "etc/yum.repos.d", filepath.Join(out, "dir"))
		},
		op:      read("/etc/yum.repos.d/zfs.repo"),
		wantErr: "no such file",
	},
	"read: chain of links ends inside the root": {
		setup: func(t *testing.T, root, out string) {
			mkfile(t, root, "real/zfs.conf", "options zfs zfs_arc_max=1\n", 0o644)
			mklink(t, root, "a", "/b/")
			mklink(t, root, "b", "real")
			mklink(t, root, "etc/modprobe.d", "../a")
		},
		op:   read("/etc/modprobe.d/zfs.conf"),
		want: "options zfs zfs_arc_max=1\n",
	},
	"read: symlink loop is refused": {
		setup: func(t *testing.T, root, out string) {
			mklink(t, root, "etc/loop", "/etc/loop")
		},
		op:      read("/etc/loop"),
		wantErr: "too many levels of symbolic links",
	},
	"read: a FIFO is refused, not waited on": {
		setup: func(t *testing.T, root, out string) {
			os.MkdirAll(filepath.Join(root, "etc"), 0o755)
			if err := syscall.Mkfifo(filepath.Join(root, "etc/os-release"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		op:      read("/etc/os-release"),
		wantErr: "not a regular file",
	},
	"read: a huge sparse file is refused, not allocated": {
		setup: func(t *testing.T, root, out string) {
			mkfile(t, root, "etc/yum.repos.d/huge.repo", "", 0o644)
			if err := os.Truncate(filepath.Join(root, "etc/yum.repos.d/huge.repo"), 100<<30); err != nil {
				t.Fatal(err)
			}
		},
		op:      read("/etc/yum.repos.d/huge.repo"),
		wantErr: "larger than 64 MiB",
	},
	"read: a directory is refused": {
		setup: func(t *testing.T, root, out string) {
			os.MkdirAll(filepath.Join(root, "etc/os-release"), 0o755)
		},
		op:      read("/etc/os-release"),
		wantErr: "is a directory",
	},
	"stat: link to an outside file does not exist": {
		setup: func(t *testing.T, root, out string) {
			mklink(t, root, "usr/sbin/grubby", filepath.Join(out, "secret"))
		},
		op: func(h *Real, _ string) (string, error) {
			_, err := h.Stat("/usr/sbin/grubby")
			return "", err
		},
		wantErr: "no such file",
	},
	"stat: link inside the root reports its target": {
		setup: func(t *testing.T, root, out string) {
			mkfile(t, root, "usr/bin/dnf-3", "#!/bin/sh\n", 0o755)
			mklink(t, root, "usr/bin/dnf", "/usr/bin/dnf-3")
		},
		op: func(h *Real, _ string) (string, error) {
			fi, err := h.Stat("/usr/bin/dnf")
			if err != nil {
				return "", err
			}
			return fi.Name() + " " + fi.Mode().String(), nil
		},
		want: "dnf -rwxr-xr-x",
	},
	"lstat and readlink: the link itself, target as stored": {
		setup: func(t *testing.T, root, out string) {
			mklink(t, root, "etc/systemd/system/zfs.target.wants/zfs-zed.service", "/usr/lib/systemd/system/zfs-zed.service")
		},
		op: func(h *Real, _ string) (string, error) {
			p := "/etc/systemd/system/zfs.target.wants/zfs-zed.service"
			fi, err := h.Lstat(p)
			if err != nil {
				return "", err
			}
			target, err := h.Readlink(p)
			return fi.Mode().Type().String() + " " + target, err
		},
		want: "L--------- /usr/lib/systemd/system/zfs-zed.service",
	},
	"glob: directory link to an outside directory lists nothing": {
		setup: func(t *testing.T, root, out string) {
			mkfile(t, out, "dir/outside.repo", secret, 0o600)
			mklink(t, root, "etc/yum.repos.d", filepath.Join(out, "dir"))
		},
		op:   glob("/etc/yum.repos.d/*.repo"),
		want: "",
	},
	"glob: directory link inside the root is listed there": {
		setup: func(t *testing.T, root, out string) {
			mkfile(t, root, "srv/repos/zfs.repo", "[zfs]\n", 0o644)
			mkfile(t, root, "srv/repos/epel.repo", "[epel]\n", 0o644)
			mklink(t, root, "etc/yum.repos.d", "/srv/repos")
		},
		op:   glob("/etc/yum.repos.d/*.repo"),
		want: "/etc/yum.repos.d/epel.repo /etc/yum.repos.d/zfs.repo",
	},
	"glob: wants links are matched, not followed out": {
		setup: func(t *testing.T, root, out string) {
			mklink(t, root, "etc/systemd/system/zfs.target.wants/zfs-zed.service", filepath.Join(out, "secret"))
			mklink(t, root, "etc/systemd/system/multi-user.target.wants/zfs.target", "/usr/lib/systemd/system/zfs.target")
		},
		op:   glob("/etc/systemd/system/*.wants/z*"),
		want: "/etc/systemd/system/multi-user.target.wants/zfs.target /etc/systemd/system/zfs.target.wants/zfs-zed.service",
	},

	// Writes: never through a link out of the root; a final link is
	// replaced, its target neither written nor copied.
	"write: directory link to an outside directory is refused, naming it": {
		setup: func(t *testing.T, root, out string) {
			os.MkdirAll(filepath.Join(out, "dir"), 0o755)
			mklink(t, root, "etc/modprobe.d", filepath.Join(out, "dir"))
		},
		op:      write("/etc/modprobe.d/zfs.conf", "options zfs zfs_arc_max=1\n"),
		wantErr: "/etc/modprobe.d is a symlink to ",
		check: func(t *testing.T, root, out string) {
			if _, err := os.Lstat(filepath.Join(root, strings.TrimPrefix(out, "/"))); err == nil {
				t.Errorf("the link's target was created inside the root")
			}
		},
	},
	"write: directory link climbing above the root is refused, naming it": {
		setup: func(t *testing.T, root, out string) {
			os.MkdirAll(filepath.Join(root, "tmp"), 0o755)
			mklink(t, root, "etc/modprobe.d", "../../../../../../../../../tmp")
		},
		op:      write("/etc/modprobe.d/zfs.conf", "x\n"),
		wantErr: "/etc/modprobe.d is a symlink to ../../../../../../../../../tmp, which climbs above the root",
		check: func(t *testing.T, root, out string) {
			if _, err := os.Lstat(filepath.Join(root, "tmp/zfs.conf")); err == nil {
				t.Errorf("written at the clamped target")
			}
		},
	},
	"write: directory link inside the root is written through": {
		setup: func(t *testing.T, root, out string) {
			os.MkdirAll(filepath.Join(root, "usr/lib/modprobe.d"), 0o755)
			mklink(t, root, "etc/modprobe.d", "/usr/lib/modprobe.d")
		},
		op:    write("/etc/modprobe.d/zfs.conf", "options zfs zfs_arc_max=1\n"),
		check: fileIs("usr/lib/modprobe.d/zfs.conf", "options zfs zfs_arc_max=1\n"),
	},
	"write: final link to an outside file is replaced, not written through": {
		setup: func(t *testing.T, root, out string) {
			mklink(t, root, "etc/modprobe.d/zfs.conf", filepath.Join(out, "secret"))
		},
		op: write("/etc/modprobe.d/zfs.conf", "options zfs zfs_arc_max=1\n"),
		check: func(t *testing.T, root, out string) {
			fileIs("etc/modprobe.d/zfs.conf", "options zfs zfs_arc_max=1\n")(t, root, out)
			// mode perm and zfsinstall's owner, not the target's 0600/4242
			if got := modeOf(t, root, "etc/modprobe.d/zfs.conf"); got != "-rw-r--r-- "+itoa(os.Getuid()) {
				t.Errorf("replaced link: mode and owner %s, want -rw-r--r-- %d", got, os.Getuid())
			}
		},
	},
	"write: final link inside the root is replaced, its target kept": {
		setup: func(t *testing.T, root, out string) {
			mkfile(t, root, "usr/lib/zfs.conf", "packaged\n", 0o600)
			mklink(t, root, "etc/modprobe.d/zfs.conf", "/usr/lib/zfs.conf")
		},
		op: write("/etc/modprobe.d/zfs.conf", "new\n"),
		check: func(t *testing.T, root, out string) {
			fileIs("etc/modprobe.d/zfs.conf", "new\n")(t, root, out)
			fileIs("usr/lib/zfs.conf", "packaged\n")(t, root, out)
			if got := modeOf(t, root, "etc/modprobe.d/zfs.conf"); !strings.HasPrefix(got, "-rw-r--r--") {
				t.Errorf("replaced link has mode %s, want 0644", got)
			}
		},
	},
	"write: an existing regular file keeps its mode": {
		setup: func(t *testing.T, root, out string) {
			mkfile(t, root, "etc/yum.repos.d/zfs.repo", "[zfs]\nenabled=1\n", 0o600)
		},
		op: write("/etc/yum.repos.d/zfs.repo", "[zfs]\nenabled=0\n"),
		check: func(t *testing.T, root, out string) {
			fileIs("etc/yum.repos.d/zfs.repo", "[zfs]\nenabled=0\n")(t, root, out)
			if got := modeOf(t, root, "etc/yum.repos.d/zfs.repo"); !strings.HasPrefix(got, "-rw-------") {
				t.Errorf("mode %s, want 0600 kept", got)
			}
		},
	},
	"write: directory component that is a file is refused": {
		setup: func(t *testing.T, root, out string) {
			mkfile(t, root, "etc/modprobe.d", "not a directory\n", 0o644)
		},
		op:      write("/etc/modprobe.d/zfs.conf", "x\n"),
		wantErr: "not a directory",
	},
	"mkdir: through a link to an outside directory is refused": {
		setup: func(t *testing.T, root, out string) {
			os.MkdirAll(filepath.Join(out, "dir"), 0o755)
			mklink(t, root, "etc/kernel", filepath.Join(out, "dir"))
		},
		op: func(h *Real, _ string) (string, error) {
			return "", h.MkdirAll("/etc/kernel/install.d", 0o755)
		},
		wantErr: "/etc/kernel is a symlink to ",
	},
	"mkdir: through a link inside the root creates there": {
		setup: func(t *testing.T, root, out string) {
			os.MkdirAll(filepath.Join(root, "usr/lib/kernel"), 0o755)
			mklink(t, root, "etc/kernel", "../usr/lib/kernel")
		},
		op: func(h *Real, _ string) (string, error) {
			return "", h.MkdirAll("/etc/kernel/install.d", 0o755)
		},
		check: func(t *testing.T, root, out string) {
			if fi, err := os.Lstat(filepath.Join(root, "usr/lib/kernel/install.d")); err != nil || !fi.IsDir() {
				t.Errorf("install.d not created at the link's target: %v", err)
			}
		},
	},
	"remove: a final link to an outside file removes the link only": {
		setup: func(t *testing.T, root, out string) {
			mklink(t, root, "etc/kernel/install.d/85-zfsinstall-guard.install", filepath.Join(out, "secret"))
		},
		op: func(h *Real, _ string) (string, error) {
			return "", h.Remove("/etc/kernel/install.d/85-zfsinstall-guard.install")
		},
		check: func(t *testing.T, root, out string) {
			if _, err := os.Lstat(filepath.Join(root, "etc/kernel/install.d/85-zfsinstall-guard.install")); err == nil {
				t.Errorf("link still there")
			}
		},
	},
	"remove: through a directory link to an outside directory finds nothing": {
		setup: func(t *testing.T, root, out string) {
			mkfile(t, out, "dir/zfs.conf", secret, 0o600)
			mklink(t, root, "etc/modprobe.d", filepath.Join(out, "dir"))
		},
		op: func(h *Real, _ string) (string, error) {
			return "", h.Remove("/etc/modprobe.d/zfs.conf")
		},
		wantErr: "no such file",
	},

	// The lock: never through a link, never into another file.
	"lock: lock file planted as a link to an outside file is refused": {
		setup: func(t *testing.T, root, out string) {
			mklink(t, root, "run/zfsinstall.lock", filepath.Join(out, "secret"))
		},
		op:      lock("/run/zfsinstall.lock"),
		wantErr: "is a symlink",
	},
	"lock: run directory linked to an outside directory is refused": {
		setup: func(t *testing.T, root, out string) {
			os.MkdirAll(filepath.Join(out, "dir"), 0o755)
			mklink(t, root, "run", filepath.Join(out, "dir"))
		},
		op:      lock("/run/zfsinstall.lock"),
		wantErr: "/run is a symlink to ",
	},
	"lock: lock file hard-linked to an outside file is refused": {
		setup: func(t *testing.T, root, out string) {
			os.MkdirAll(filepath.Join(root, "run"), 0o755)
			if err := os.Link(filepath.Join(out, "secret"), filepath.Join(root, "run/zfsinstall.lock")); err != nil {
				t.Fatal(err)
			}
		},
		op:      lock("/run/zfsinstall.lock"),
		wantErr: "hard links",
	},
	"lock: a FIFO is refused, not waited on": {
		setup: func(t *testing.T, root, out string) {
			os.MkdirAll(filepath.Join(root, "run"), 0o755)
			if err := syscall.Mkfifo(filepath.Join(root, "run/zfsinstall.lock"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		op:      lock("/run/zfsinstall.lock"),
		wantErr: "not a regular file",
	},
	"lock: an old lock file is truncated before the PID is written": {
		setup: func(t *testing.T, root, out string) {
			mkfile(t, root, "run/zfsinstall.lock", "123456789012345678901234567890\n", 0o600)
		},
		op:   lockedContent("/run/zfsinstall.lock"),
		want: itoa(os.Getpid()) + "\n",
		check: func(t *testing.T, root, out string) {
			if _, err := os.Lstat(filepath.Join(root, "run/zfsinstall.lock")); !os.IsNotExist(err) {
				t.Errorf("the lock file is still there after release (%v): an apply must leave nothing behind", err)
			}
		},
	},
}

func TestSymlinksStayInRoot(t *testing.T) {
	for name, c := range symlinkCases {
		t.Run(name, func(t *testing.T) {
			base := t.TempDir()
			root, out := filepath.Join(base, "root"), filepath.Join(base, "out")
			mkfile(t, out, "secret", secret, 0o600)
			if err := os.Chown(filepath.Join(out, "secret"), 4242, 4242); err != nil && os.Getuid() == 0 {
				t.Fatal(err)
			}
			os.MkdirAll(root, 0o755)
			c.setup(t, root, out)
			before := snapshot(t, out)
			got, err := c.op(NewReal(root, nil), out)
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("error: %v", err)
			case c.wantErr != "" && err == nil:
				t.Errorf("no error (observed %q), want one containing %q", got, c.wantErr)
			case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
				t.Errorf("error %q, want it to contain %q", err, c.wantErr)
			}
			if c.wantErr == "" {
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("observed (-want +got):\n%s", diff)
				}
			}
			if strings.Contains(got, "SECRET") {
				t.Errorf("returned content from outside the root: %q", got)
			}
			if c.check != nil {
				c.check(t, root, out)
			}
			if diff := cmp.Diff(before, snapshot(t, out)); diff != "" {
				t.Errorf("the directory outside the root changed (-before +after):\n%s", diff)
			}
			leftovers, _ := filepath.Glob(filepath.Join(root, "*/*/.*zfsinstall-*"))
			if len(leftovers) != 0 {
				t.Errorf("temporary files left: %v", leftovers)
			}
		})
	}
}
