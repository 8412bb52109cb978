package host

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckTool: a program that opens ROOT+PATH itself (rpm --root, dnf
// --installroot, systemctl --root) follows a symlink planted in the root as
// this machine's kernel does. Before such a program runs, every path it
// writes must resolve inside the root, or CheckTool refuses naming the
// link (issue 20 item 2). out is a directory beside the root.
func TestCheckTool(t *testing.T) {
	cases := map[string]struct {
		setup    func(t *testing.T, root, out string)
		path     ToolPath
		wantLink string // the link the refusal names; "" = accepted
	}{
		"a plain directory": {
			setup: func(t *testing.T, root, out string) { mkfile(t, root, "var/lib/rpm/rpmdb.sqlite", "db", 0o644) },
			path:  ToolPath{Path: "/var/lib/rpm", Tree: true, Writable: true},
		},
		"absent: created inside": {
			setup: func(t *testing.T, root, out string) { os.MkdirAll(filepath.Join(root, "var"), 0o755) },
			path:  ToolPath{Path: "/var/cache/dnf", Tree: true, Writable: true},
		},
		"rpmdb -> /outside": {
			setup:    func(t *testing.T, root, out string) { mklink(t, root, "var/lib/rpm", filepath.Join(out)) },
			path:     ToolPath{Path: "/var/lib/rpm", Tree: true},
			wantLink: "/var/lib/rpm",
		},
		"rpmdb -> an absolute path that exists inside the root only as a root path": {
			// Inside a chroot this would be the root's own directory; rpm
			// --root is not chrooted when it opens the database.
			setup: func(t *testing.T, root, out string) {
				os.MkdirAll(filepath.Join(root, "usr/lib/sysimage/rpm"), 0o755)
				mklink(t, root, "var/lib/rpm", "/usr/lib/sysimage/rpm")
			},
			path:     ToolPath{Path: "/var/lib/rpm", Tree: true},
			wantLink: "/var/lib/rpm",
		},
		"Fedora's relative rpmdb link stays inside": {
			setup: func(t *testing.T, root, out string) {
				mkfile(t, root, "usr/lib/sysimage/rpm/rpmdb.sqlite", "db", 0o644)
				mklink(t, root, "var/lib/rpm", "../../usr/lib/sysimage/rpm")
			},
			path: ToolPath{Path: "/var/lib/rpm", Tree: true, Writable: true},
		},
		"a relative link climbing out": {
			setup: func(t *testing.T, root, out string) {
				mklink(t, root, "var/lib/rpm", "../../../out")
			},
			path:     ToolPath{Path: "/var/lib/rpm", Tree: true},
			wantLink: "/var/lib/rpm",
		},
		"var -> /outside": {
			setup:    func(t *testing.T, root, out string) { mklink(t, root, "var", out) },
			path:     ToolPath{Path: "/var/log/dnf.log"},
			wantLink: "/var",
		},
		"var/log -> /outside": {
			setup:    func(t *testing.T, root, out string) { mklink(t, root, "var/log", out) },
			path:     ToolPath{Path: "/var/log/dnf.log"},
			wantLink: "/var/log",
		},
		"dnf.log -> a file outside": {
			setup:    func(t *testing.T, root, out string) { mklink(t, root, "var/log/dnf.log", filepath.Join(out, "secret")) },
			path:     ToolPath{Path: "/var/log/dnf.log"},
			wantLink: "/var/log/dnf.log",
		},
		"a link deep in the dnf cache": {
			setup: func(t *testing.T, root, out string) {
				os.MkdirAll(filepath.Join(root, "var/cache/dnf/zfs-1234/packages"), 0o755)
				mklink(t, root, "var/cache/dnf/zfs-1234/repodata", out)
			},
			path:     ToolPath{Path: "/var/cache/dnf", Tree: true},
			wantLink: "/var/cache/dnf/zfs-1234/repodata",
		},
		"a dangling link in the rpm database": {
			setup: func(t *testing.T, root, out string) {
				mklink(t, root, "var/lib/rpm/rpmdb.sqlite-wal", filepath.Join(out, "new-wal"))
			},
			path:     ToolPath{Path: "/var/lib/rpm", Tree: true},
			wantLink: "/var/lib/rpm/rpmdb.sqlite-wal",
		},
		"etc/systemd/system -> /outside": {
			setup:    func(t *testing.T, root, out string) { mklink(t, root, "etc/systemd/system", out) },
			path:     ToolPath{Path: "/etc/systemd/system", Dirs: true},
			wantLink: "/etc/systemd/system",
		},
		"a .wants directory -> /outside": {
			setup: func(t *testing.T, root, out string) {
				os.MkdirAll(filepath.Join(root, "etc/systemd/system"), 0o755)
				mklink(t, root, "etc/systemd/system/zfs.target.wants", out)
			},
			path:     ToolPath{Path: "/etc/systemd/system", Dirs: true},
			wantLink: "/etc/systemd/system/zfs.target.wants",
		},
		"a dangling .wants link": {
			setup: func(t *testing.T, root, out string) {
				os.MkdirAll(filepath.Join(root, "etc/systemd/system"), 0o755)
				mklink(t, root, "etc/systemd/system/zfs.target.wants", filepath.Join(out, "new"))
			},
			path:     ToolPath{Path: "/etc/systemd/system", Dirs: true},
			wantLink: "/etc/systemd/system/zfs.target.wants",
		},
		"unit links and masks are not written through": {
			setup: func(t *testing.T, root, out string) {
				mklink(t, root, "etc/systemd/system/multi-user.target.wants/sshd.service", "/usr/lib/systemd/system/sshd.service")
				mklink(t, root, "etc/systemd/system/zfs-share.service", "/dev/null")
				mklink(t, root, "etc/systemd/system/default.target", "/usr/lib/systemd/system/multi-user.target")
			},
			path: ToolPath{Path: "/etc/systemd/system", Dirs: true, Writable: true},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			base := t.TempDir()
			root, out := filepath.Join(base, "root"), filepath.Join(base, "out")
			mkfile(t, out, "secret", secret, 0o600)
			os.MkdirAll(root, 0o755)
			c.setup(t, root, out)
			before := snapshot(t, out)
			err := NewReal(root, nil).CheckTool("dnf", c.path)
			var le *LinkError
			switch {
			case c.wantLink == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.wantLink != "" && !errors.As(err, &le):
				t.Errorf("err = %v, want a refusal naming %s", err, c.wantLink)
			case c.wantLink != "" && le.Link != c.wantLink:
				t.Errorf("the refusal names %s, want %s: %v", le.Link, c.wantLink, err)
			case c.wantLink != "" && (!errors.Is(err, ErrLinkOutOfRoot) || !strings.Contains(err.Error(), "dnf would write")):
				t.Errorf("err = %v, want it to say what dnf would write", err)
			}
			if diff := snapshot(t, out); len(diff) != len(before) {
				t.Errorf("checking changed the directory outside the root")
			}
		})
	}
}

// TestCheckWrite: a write zfsinstall will make is checked before the first
// change, as the write itself would be refused or fail (issue 20 item 4: a
// symlinked /etc/modprobe.d was refused only after the package transaction
// had run).
func TestCheckWrite(t *testing.T) {
	cases := map[string]struct {
		setup   func(t *testing.T, root, out string)
		path    string
		wantErr error
	}{
		"an existing file":      {setup: func(t *testing.T, root, out string) { mkfile(t, root, "etc/modprobe.d/zfs.conf", "x", 0o644) }, path: "/etc/modprobe.d/zfs.conf"},
		"a directory to create": {setup: func(t *testing.T, root, out string) { os.MkdirAll(filepath.Join(root, "etc"), 0o755) }, path: "/etc/modprobe.d/zfs.conf"},
		"nothing there at all":  {setup: func(t *testing.T, root, out string) {}, path: "/etc/modprobe.d/zfs.conf"},
		"a link inside the root": {setup: func(t *testing.T, root, out string) {
			os.MkdirAll(filepath.Join(root, "usr/etc/modprobe.d"), 0o755)
			mklink(t, root, "etc/modprobe.d", "/usr/etc/modprobe.d")
		}, path: "/etc/modprobe.d/zfs.conf"},
		"modprobe.d -> /outside": {setup: func(t *testing.T, root, out string) { mklink(t, root, "etc/modprobe.d", out) }, path: "/etc/modprobe.d/zfs.conf", wantErr: ErrLinkOutOfRoot},
		"modprobe.d climbs out":  {setup: func(t *testing.T, root, out string) { mklink(t, root, "etc/modprobe.d", "../../../out") }, path: "/etc/modprobe.d/zfs.conf", wantErr: ErrLinkOutOfRoot},
		"the file itself a link": {setup: func(t *testing.T, root, out string) {
			mklink(t, root, "etc/modprobe.d/zfs.conf", filepath.Join(out, "secret"))
		}, path: "/etc/modprobe.d/zfs.conf"},
		"an immutable file": {setup: func(t *testing.T, root, out string) {
			mkfile(t, root, "etc/yum.repos.d/zfs.repo", "x", 0o644)
			chattr(t, "+i", filepath.Join(root, "etc/yum.repos.d/zfs.repo"))
		}, path: "/etc/yum.repos.d/zfs.repo", wantErr: ErrNotWritable},
		"an immutable directory": {setup: func(t *testing.T, root, out string) {
			os.MkdirAll(filepath.Join(root, "etc"), 0o755)
			chattr(t, "+i", filepath.Join(root, "etc"))
		}, path: "/etc/modprobe.d/zfs.conf", wantErr: ErrNotWritable},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			base := t.TempDir()
			root, out := filepath.Join(base, "root"), filepath.Join(base, "out")
			mkfile(t, out, "secret", secret, 0o600)
			os.MkdirAll(root, 0o755)
			c.setup(t, root, out)
			rootBefore, outBefore := snapshot(t, root), snapshot(t, out)
			err := NewReal(root, nil).CheckWrite(c.path)
			if c.wantErr == nil && err != nil || c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("CheckWrite(%s) = %v, want %v", c.path, err, c.wantErr)
			}
			if len(snapshot(t, root)) != len(rootBefore) || len(snapshot(t, out)) != len(outBefore) {
				t.Errorf("checking a write changed the tree")
			}
			// The write itself agrees with the check.
			if c.wantErr != nil {
				if werr := NewReal(root, nil).WriteFile(c.path, []byte("y"), 0o644); werr == nil {
					t.Errorf("CheckWrite refused, but WriteFile succeeded")
				}
			}
		})
	}
}

// chattr sets a file attribute, skipping the test where the file system
// has none (tmpfs before Linux 6.0).
func chattr(t *testing.T, flag, p string) {
	t.Helper()
	if out, err := exec.Command("chattr", flag, p).CombinedOutput(); err != nil {
		t.Skipf("chattr %s %s: %v %s", flag, p, err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", p).Run() })
}
