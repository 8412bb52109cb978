package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/recipes"
)

// kickstartDir holds the %post snippets.
var kickstartDir = filepath.Join(repo, "deploy", "kickstart")

// ksSection is one %post section of a kickstart file: its header line and its script.
type ksSection struct {
	header, script string
}

// postSection returns the one %post section of a kickstart file; anything but exactly one
// %post ... %end pair, or other sections, fails the test.
func postSection(t *testing.T, file string) ksSection {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var sections []ksSection
	var cur *ksSection
	for i, line := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "%post"):
			cur = &ksSection{header: line}
		case cur == nil && strings.HasPrefix(line, "%"):
			t.Fatalf("%s:%d: %s: only one %%post section belongs in a snippet", file, i+1, line)
		case cur == nil && strings.TrimSpace(line) != "" && !strings.HasPrefix(line, "#"):
			t.Fatalf("%s:%d: a kickstart command outside %%post: %s", file, i+1, line)
		case cur != nil && line == "%end":
			sections = append(sections, *cur)
			cur = nil
		case cur != nil && strings.HasPrefix(line, "%"):
			t.Fatalf("%s:%d: %s inside %%post (no %%end before it)", file, i+1, line)
		case cur != nil:
			cur.script += line + "\n"
		}
	}
	if cur != nil || len(sections) != 1 {
		t.Fatalf("%s: want exactly one %%post ... %%end section, found %d (unterminated: %v)", file, len(sections), cur != nil)
	}
	return sections[0]
}

// TestKickstartSnippets checks the snippets' form: one %post section with the options
// Anaconda documents for them, and a script shellcheck passes as POSIX sh (Anaconda runs
// %post with /bin/sh; pykickstart, which could validate the whole file, is not in Debian).
func TestKickstartSnippets(t *testing.T) {
	tests := map[string]struct {
		file, header string
	}{
		"chroot":   {"zfsinstall-post.ks", "%post --erroronfail --log=/root/zfsinstall-ks.log"},
		"nochroot": {"zfsinstall-post-nochroot.ks", "%post --nochroot --erroronfail --log=/mnt/sysimage/root/zfsinstall-ks.log"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sec := postSection(t, filepath.Join(kickstartDir, tc.file))
			if sec.header != tc.header {
				t.Errorf("header %q, want %q", sec.header, tc.header)
			}
			shellcheck := need(t, "shellcheck", "apt-get install shellcheck")
			script := filepath.Join(t.TempDir(), "post.sh")
			writeFile(t, script, "#!/bin/sh\n"+sec.script, 0o644)
			if out, code := run(t, exec.Command(shellcheck, "-s", "sh", script)); code != 0 {
				t.Errorf("shellcheck: exit %d\n%s", code, out)
			}
		})
	}
}

// bind is one of the machine's files or directories made visible in a test-bed root.
type bind struct{ src, dst string }

// machineTools are what zfsinstall needs to find in a root it runs chrooted in, as it would
// on an EL system: rpm (and rpmkeys, which rpm --import runs), dnf, modinfo, systemctl, and
// what they load. A test-bed root's /usr is an overlay over the machine's (testbed/overlay.go),
// so they are there already and chrooted binds only what is missing (nothing, today).
func machineTools(t *testing.T) []bind {
	t.Helper()
	real := func(p string) string {
		r, err := filepath.EvalSymlinks(p)
		if err != nil {
			t.Fatalf("the kickstart chroot needs the machine's %s: %v", p, err)
		}
		return r
	}
	python := real("/usr/bin/python3")
	pythonLib := "/usr/lib/" + filepath.Base(python)
	return []bind{
		{real("/lib64/ld-linux-x86-64.so.2"), "/usr/lib64/ld-linux-x86-64.so.2"},
		{"/usr/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"},
		{"/usr/lib/rpm", "/usr/lib/rpm"},
		{real("/usr/bin/rpm"), "/usr/bin/rpm"},
		{real("/usr/bin/rpmkeys"), "/usr/bin/rpmkeys"},
		{real("/usr/bin/dnf"), "/usr/bin/dnf"},
		{python, "/usr/bin/python3"},
		{"/usr/lib/python3", "/usr/lib/python3"},
		{pythonLib, pythonLib},
		{real("/usr/sbin/modinfo"), "/usr/sbin/modinfo"}, // kmod, which acts by the name it runs as
		{real("/usr/bin/systemctl"), "/usr/bin/systemctl"},
	}
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// chrooted runs argv chrooted into the host's root, the way Anaconda runs a %post script
// in /mnt/sysroot: in a private mount and PID namespace without network, the machine's
// tools bound in read-only (machineTools), /proc and /dev mounted, and the bed's mirror
// bound at its own path (on a real install it is reached over the network). PID 1 of the
// namespace stays outside the chroot, as the installer's processes do, so zfsinstall's
// chroot detection (/ against /proc/1/root) sees a chroot. What the machine's programs need
// in the root besides is added for the run and removed after it: /root/.rpmmacros with
// EL's %_dbpath (Debian's rpm defaults to ~/.rpmdb) and the machine's dnf plugin
// configuration (without it Debian's versionlock plugin fails with "Locklist not set").
// The mounts vanish with the namespace; placeholders for them are removed after.
func (h *bedHost) chrooted(t *testing.T, env []string, argv ...string) (string, int) {
	t.Helper()
	root := h.r.Dir
	var created []string // in creation order; removed in reverse
	mkdirs := func(dir string) {
		var missing []string
		for d := dir; ; d = filepath.Dir(d) {
			if _, err := os.Lstat(d); err == nil {
				break
			}
			missing = append([]string{d}, missing...)
		}
		for _, d := range missing {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
			created = append(created, d)
		}
	}
	placeholder := func(src, dst string) bool {
		if _, err := os.Lstat(dst); err == nil {
			// The bed root's /usr is an overlay over the machine's /usr (testbed/overlay.go):
			// the machine's program is already there.
			return false
		}
		fi, err := os.Stat(src)
		if err != nil {
			t.Fatal(err)
		}
		if fi.IsDir() {
			mkdirs(dst)
			return true
		}
		mkdirs(filepath.Dir(dst))
		writeFile(t, dst, "", 0o644)
		created = append(created, dst)
		return true
	}
	defer func() {
		for i := len(created) - 1; i >= 0; i-- {
			os.Remove(created[i]) // a directory something was written into stays
		}
	}()

	var script strings.Builder
	script.WriteString("set -eu\nmount --make-rprivate /\n")
	fmt.Fprintf(&script, "mount -t proc proc %s\nmount --rbind /dev %s\n", shellQuote(root+"/proc"), shellQuote(root+"/dev"))
	for _, b := range append(machineTools(t), bind{h.p.Dir, h.p.Dir}) {
		dst := filepath.Join(root, b.dst)
		if !placeholder(b.src, dst) {
			continue
		}
		fmt.Fprintf(&script, "mount --bind %s %s\nmount -o remount,bind,ro %s\n", shellQuote(b.src), shellQuote(dst), shellQuote(dst))
	}
	for _, f := range []struct{ path, content string }{{"/root/.rpmmacros", "%_dbpath /var/lib/rpm\n"}} {
		dst := filepath.Join(root, f.path)
		if placeholder(os.DevNull, dst) {
			writeFile(t, dst, f.content, 0o644)
		}
	}
	confs, _ := filepath.Glob("/etc/dnf/plugins/*.conf")
	lists, _ := filepath.Glob("/etc/dnf/plugins/*.list")
	for _, c := range append(confs, lists...) {
		dst := filepath.Join(root, c)
		if _, err := os.Lstat(dst); err == nil {
			continue
		}
		b, err := os.ReadFile(c)
		if err != nil {
			t.Fatal(err)
		}
		mkdirs(filepath.Dir(dst))
		writeFile(t, dst, string(b), 0o644)
		created = append(created, dst)
	}
	// Not exec: PID 1 (this shell) keeps the machine's root.
	script.WriteString("chroot " + shellQuote(root))
	for _, a := range argv {
		script.WriteString(" " + shellQuote(a))
	}
	script.WriteString("\n")
	cmd := exec.Command("unshare", "--mount", "--pid", "--fork", "--net", "--", "/bin/sh", "-c", script.String())
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LC_ALL=C"}, env...)
	return run(t, cmd)
}

// wantFirstBoot checks what a kickstart leaves for the first boot: the verify unit, enabled,
// with the spec copy it reads and the binary it runs present in the root; then it runs the
// unit's ExecStart chrooted into the root (as close to the first boot as this machine can
// get: the module-loaded check is skipped in a chroot) and wants it to pass.
func (h *bedHost) wantFirstBoot(t *testing.T, spec string) {
	t.Helper()
	unit := h.r.ReadFile(t, "/etc/systemd/system/zfsinstall-verify.service")
	if !h.r.Exists("/etc/systemd/system/multi-user.target.wants/zfsinstall-verify.service") {
		t.Error("zfsinstall-verify.service is not enabled (no multi-user.target.wants link)")
	}
	if got := h.r.ReadFile(t, "/etc/zfsinstall/host.hcl"); got != spec {
		t.Errorf("/etc/zfsinstall/host.hcl is not the spec the kickstart applied:\n%s", cmp.Diff(spec, got))
	}
	m := regexp.MustCompile(`(?m)^ExecStart=(.+)$`).FindStringSubmatch(unit)
	if m == nil {
		t.Fatalf("the verify unit has no ExecStart:\n%s", unit)
	}
	argv := strings.Fields(m[1])
	if _, err := os.Stat(resolveInRoot(t, h.r.Dir, argv[0])); err != nil {
		t.Fatalf("the verify unit runs %s, which is not in the new system: %v", argv[0], err)
	}
	out, code := h.chrooted(t, nil, argv...)
	if code != 0 || !strings.Contains(out, "Verify: OK.") {
		t.Errorf("the verify unit's ExecStart in the new system: exit %d, want 0 and Verify: OK.", code)
	}
}

// resolveInRoot follows a path's symlinks inside root (an absolute link target is taken
// relative to root, as it would be after booting).
func resolveInRoot(t *testing.T, root, path string) string {
	t.Helper()
	for range 40 {
		full := filepath.Join(root, path)
		target, err := os.Readlink(full)
		if err != nil { // not a symlink (or missing: the caller's Stat says so)
			return full
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	t.Fatalf("%s: too many symlinks in %s", path, root)
	return ""
}

// TestKickstartChroot runs zfsinstall-post.ks as Anaconda runs a %post: the script written
// into the new system's /tmp and started with /bin/sh chrooted in it. zfsinstall is in the
// new system from its RPM (what %packages zfsinstall would do). The first run has no spec,
// so the snippet writes the built-in kickstart recipe, which names the real zfs-release URL:
// without network that apply must fail, saying so. With a spec naming the bed's zfs-release,
// the run installs ZFS, and a second run changes nothing.
func TestKickstartChroot(t *testing.T) {
	h := newBedHost(t, stockKernel)
	h.r.RPM(t, "-i", zfsinstallRPM(t))
	sec := postSection(t, filepath.Join(kickstartDir, "zfsinstall-post.ks"))
	writeFile(t, filepath.Join(h.r.Dir, "tmp/ks-script-zfsinstall"), sec.script, 0o700)
	defer os.Remove(filepath.Join(h.r.Dir, "tmp/ks-script-zfsinstall"))
	env := []string{"ZFSINSTALL_ARGS=--release-key " + h.p.KeyFile, "ZFSINSTALL_DNF_ARGS=" + h.dnfArg()}
	recipe, err := recipes.Get("kickstart")
	if err != nil {
		t.Fatal(err)
	}

	out, code := h.chrooted(t, env, "/bin/sh", "/tmp/ks-script-zfsinstall")
	if code == 0 || !strings.Contains(out, "fetching zfs-release from https://zfsonlinux.org/") {
		t.Errorf("without a spec and without network: exit %d; want the recipe's zfs-release download to fail, saying so", code)
	}
	if got := h.r.ReadFile(t, "/etc/zfsinstall.hcl"); got != string(recipe) {
		t.Errorf("the snippet did not write the kickstart recipe as the spec:\n%s", cmp.Diff(string(recipe), got))
	}
	h.wantNoZFS()

	spec := h.spec(string(recipe))
	writeFile(t, filepath.Join(h.r.Dir, "etc/zfsinstall.hcl"), spec, 0o644)
	if out, code = h.chrooted(t, env, "/bin/sh", "/tmp/ks-script-zfsinstall"); code != 0 || !strings.Contains(out, "Apply complete!") {
		t.Fatalf("the %%post snippet: exit %d, want 0 and Apply complete!", code)
	}
	h.wantInstalled("zfs-2.2.8", "kmod-zfs-2.2.8")
	if target, err := os.Readlink(filepath.Join(h.r.Dir, "usr/local/sbin/zfsinstall")); err != nil || target != "../../sbin/zfsinstall" {
		t.Errorf("/usr/local/sbin/zfsinstall: %q, %v; want a link to the RPM's /usr/sbin/zfsinstall", target, err)
	}
	// zfsinstall detects the chroot (/ is not /proc/1/root) as in a real %post.
	if facts, _ := h.chrooted(t, nil, "/usr/local/sbin/zfsinstall", "facts"); !regexp.MustCompile(`(?m)^chroot:\s+true$`).MatchString(facts) {
		t.Errorf("zfsinstall facts in the chroot does not say chroot: true")
	}
	h.wantFirstBoot(t, spec)

	if out, code = h.chrooted(t, env, "/bin/sh", "/tmp/ks-script-zfsinstall"); code != 0 || !strings.Contains(out, "No changes") {
		t.Errorf("the snippet run again: exit %d, want 0 and No changes", code)
	}
	// The machine's programs are in the bed root's /usr overlay already; what the runs
	// created for themselves must be gone.
	for _, p := range []string{"/root/.rpmmacros"} {
		if h.r.Exists(p) {
			t.Errorf("%s was left in the root after the chroot runs", p)
		}
	}
}

// TestKickstartNoChroot runs zfsinstall-post-nochroot.ks as Anaconda runs a %post
// --nochroot: with /bin/sh in the installer's environment, here the machine itself, in a
// private mount namespace where /mnt is a tmpfs and the test-bed root is mounted at
// /mnt/sysimage (nothing is created on the machine's /mnt). The machine's rpm and dnf play
// the installer's. The binary comes from ZFSINSTALL_URL (curl, a file:// URL here).
func TestKickstartNoChroot(t *testing.T) {
	need(t, "curl", "apt-get install curl")
	h := newBedHost(t, stockKernel)
	sec := postSection(t, filepath.Join(kickstartDir, "zfsinstall-post-nochroot.ks"))
	script := filepath.Join(t.TempDir(), "ks-script-zfsinstall")
	writeFile(t, script, sec.script, 0o700)
	recipe, err := recipes.Get("kickstart")
	if err != nil {
		t.Fatal(err)
	}
	spec := h.spec(string(recipe))
	writeFile(t, filepath.Join(h.r.Dir, "etc/zfsinstall.hcl"), spec, 0o644)
	if _, err := os.Stat("/mnt"); err != nil {
		t.Fatalf("the machine has no /mnt to mount a tmpfs on: %v", err)
	}

	runPost := func() (string, int) {
		t.Helper()
		sh := "set -eu\nmount --make-rprivate /\nmount -t tmpfs tmpfs /mnt\nmkdir /mnt/sysimage\n" +
			"mount --rbind " + shellQuote(h.r.Dir) + " /mnt/sysimage\nexec /bin/sh " + shellQuote(script) + "\n"
		cmd := exec.Command("unshare", "--mount", "--net", "--", "/bin/sh", "-c", sh)
		cmd.Env = append(h.r.Env(), // HOME whose .rpmmacros gives Debian's rpm EL's %_dbpath
			"ZFSINSTALL_URL=file://"+zfsinstall(t),
			"ZFSINSTALL_ARGS=--release-key "+h.p.KeyFile,
			"ZFSINSTALL_DNF_ARGS="+h.dnfArg())
		return run(t, cmd)
	}
	out, code := runPost()
	if code != 0 || !strings.Contains(out, "Apply complete!") {
		t.Fatalf("the %%post --nochroot snippet: exit %d, want 0 and Apply complete!", code)
	}
	h.wantInstalled("zfs-2.2.8", "kmod-zfs-2.2.8")
	if fi, err := os.Lstat(filepath.Join(h.r.Dir, "usr/local/sbin/zfsinstall")); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o755 {
		t.Errorf("the binary was not put at /usr/local/sbin/zfsinstall (mode 0755) in the new system: %v", err)
	}
	h.wantFirstBoot(t, spec)
	if out, code = runPost(); code != 0 || !strings.Contains(out, "No changes") {
		t.Errorf("the snippet run again: exit %d, want 0 and No changes", code)
	}
}
