package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/zfsinstall/zfsinstall/testbed"
)

// Attacks of issue 20 on the real test bed, each of which succeeded
// against the zfsinstall before it. The refusals that must come before any
// change are in TestIntegrationRefusalsChangeNothing.

// TestIntegrationToolLinksOutOfRoot: rpm and dnf open ROOT+PATH
// themselves, so a symlink planted in the root led them to this machine's
// files: rpm -q in every plan wrote the outside rpm database's index, and
// plan --refresh wrote dnf's logs and cache outside (issue 20 item 2).
// Each is refused naming the link, and nothing outside changes; Fedora's
// relative /var/lib/rpm -> ../../usr/lib/sysimage/rpm still works.
func TestIntegrationToolLinksOutOfRoot(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	b.writeSpec("")
	for name, tc := range map[string]struct {
		link string
		args []string
		want string // "" = the plan works
	}{
		"rpm database, plan":     {link: "var/lib/rpm", args: []string{"plan"}, want: "rpm would write /var/lib/rpm"},
		"dnf logs, plan":         {link: "var/log", args: []string{"plan", "--refresh"}, want: "dnf would write /var/log/dnf.log"},
		"dnf cache, plan":        {link: "var/cache/dnf", args: []string{"plan", "--refresh"}, want: "dnf would write /var/cache/dnf"},
		"dnf history, facts":     {link: "var/lib/dnf", args: []string{"facts", "--refresh"}, want: "dnf would write /var/lib/dnf"},
		"dnf's own config, plan": {link: "etc/yum.repos.d", args: []string{"plan", "--refresh"}, want: "dnf would read /etc/yum.repos.d"},
	} {
		t.Run(name, func(t *testing.T) {
			bt := *b
			bt.t = t
			out := t.TempDir()
			restore := bt.linkOut(t, tc.link, out)
			defer restore()
			outBefore := treeState(t, out, nil)
			got, code := bt.zi(tc.args...)
			if code != 1 || !strings.Contains(got, tc.want) || !strings.Contains(got, "/"+tc.link+" is a symlink to "+out) {
				t.Errorf("exit %d, want 1 saying %q and naming the link /%s", code, tc.want, tc.link)
			}
			if after := treeState(t, out, nil); after != outBefore {
				t.Errorf("files outside the root changed:\n%s", lineDiff(outBefore, after))
			}
		})
	}
	t.Run("Fedora's relative rpmdb link", func(t *testing.T) {
		bt := *b
		bt.t = t
		db, moved := filepath.Join(b.r.Dir, "var/lib/rpm"), filepath.Join(b.r.Dir, "usr/lib/sysimage/rpm")
		os.MkdirAll(filepath.Dir(moved), 0o755)
		if msg, err := exec.Command("mv", db, moved).CombinedOutput(); err != nil {
			t.Fatalf("mv: %v %s", err, msg)
		}
		os.Symlink("../../usr/lib/sysimage/rpm", db)
		defer func() {
			os.Remove(db)
			exec.Command("mv", moved, db).Run()
		}()
		if got, code := bt.zi("plan", "--refresh"); code != 0 || !strings.Contains(got, "zfs-release") {
			t.Errorf("plan through a relative rpmdb link inside the root: exit %d, want 0", code)
		}
	})
}

// signedRelease builds a zfs-release like the bed's, whose zfs.repo is
// changed by edit, signed with a key of its own (a private mirror's, given
// with --release-key), and returns the package and the public key file.
func signedRelease(t *testing.T, b *bedRoot, edit func(repo string) string) (rpmFile, keyFile string) {
	t.Helper()
	for _, tool := range []string{"rpmbuild", "rpmsign", "gpg", "rpm2cpio", "cpio"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	dir := t.TempDir()
	src, top, home := filepath.Join(dir, "src"), filepath.Join(dir, "top"), filepath.Join(dir, "home")
	gnupg, err := os.MkdirTemp("", "zig") // short: gpg-agent's socket path
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "HOME="+home, "GNUPGHOME="+gnupg)
	t.Cleanup(func() {
		c := exec.Command("gpgconf", "--kill", "gpg-agent")
		c.Env = env
		c.Run()
		os.RemoveAll(gnupg)
	})
	run := func(dir string, argv ...string) string {
		t.Helper()
		c := exec.Command(argv[0], argv[1:]...)
		c.Dir, c.Env = dir, env
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
		}
		return string(out)
	}
	for _, d := range []string{src, top, home} {
		os.MkdirAll(d, 0o755)
	}
	// The bed's package's files: its zfs.repo (edited) and its keys.
	run(src, "sh", "-c", `rpm2cpio "$1" | cpio -idm --quiet`, "sh", b.p.ZFSRelease)
	repo, err := os.ReadFile(filepath.Join(src, "etc/yum.repos.d/zfs.repo"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(src, "zfs.repo"), []byte(edit(string(repo))), 0o644)
	for _, k := range []string{"RPM-GPG-KEY-openzfs-2013", "RPM-GPG-KEY-openzfs-2022"} {
		data, _ := os.ReadFile(filepath.Join(src, "etc/pki/rpm-gpg", k))
		os.WriteFile(filepath.Join(src, k), data, 0o644)
	}
	spec := filepath.Join(dir, "zfs-release.spec")
	specData, err := os.ReadFile("testbed/specs/zfs-release.spec")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(spec, specData, 0o644)
	run(dir, "rpmbuild", "-bb", "--quiet", "--define", "_topdir "+top, "--define", "_rpmdir "+dir,
		"--define", "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm", "--define", "_buildshell /bin/bash",
		"--define", "dist .el9", "--define", "srcdir "+src, spec)
	rpmFile = filepath.Join(dir, "zfs-release-3-0.el9.noarch.rpm")
	uid := "Private Mirror <mirror@example.invalid>"
	run(dir, "gpg", "--batch", "--passphrase", "", "--quick-gen-key", uid, "rsa2048", "sign", "never")
	fpr := regexp.MustCompile(`(?m)^fpr:+([0-9A-F]{40}):`).FindStringSubmatch(run(dir, "gpg", "--batch", "--with-colons", "--list-keys", uid))
	if fpr == nil {
		t.Fatal("no fingerprint for the mirror's key")
	}
	run(dir, "rpmsign", "--define", "__gpg /usr/bin/gpg", "--define", "_gpg_name "+fpr[1], "--addsign", rpmFile)
	keyFile = filepath.Join(dir, "RPM-GPG-KEY-mirror")
	os.WriteFile(keyFile, []byte(run(dir, "gpg", "--batch", "--armor", "--export", fpr[1])), 0o644)
	return rpmFile, keyFile
}

// TestIntegrationUnsignedThroughTrustedRelease: a zfs-release signed by the
// key given with --release-key (a private mirror) whose zfs.repo says
// gpgcheck=0 let apply install an unsigned kmod-zfs from that repository,
// exit 0, and verify said healthy (issue 20 item 1). The plan now reads the
// zfs.repo inside the package and turns GPG checks back on before any
// package is installed from it: dnf refuses the unsigned packages, nothing
// unsigned is installed, and once they are gone apply installs the signed
// release with gpgcheck=1 in place.
func TestIntegrationUnsignedThroughTrustedRelease(t *testing.T) {
	b := newBed(t, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"))
	release, key := signedRelease(t, b, func(repo string) string { return strings.ReplaceAll(repo, "gpgcheck=1", "gpgcheck=0") })
	b.spec = filepath.Join(t.TempDir(), "zfsinstall.hcl")
	os.WriteFile(b.spec, []byte("zfs {\n  release_rpm = \""+release+"\"\n  packaging = \"kmod\"\n}\n"), 0o644)
	zi := func(t *testing.T, args ...string) (string, int) {
		full := append([]string{args[0], "--root", b.r.Dir, "-f", b.spec, "--release-key", key}, args[1:]...)
		for _, a := range b.r.DNFArgs() {
			if strings.HasPrefix(a, "--disableplugin") {
				full = append(full, "--dnf-arg", a)
			}
		}
		out, code := runCLI(t, full...)
		t.Logf("%s", out)
		return out, code
	}
	out, code := zi(t, "plan")
	if code != 0 || !strings.Contains(out, "repo zfs-kmod: gpgcheck=0 -> 1") {
		t.Errorf("plan: exit %d, want the zfs.repo inside the package read and [zfs-kmod]'s gpgcheck=0 planned back to 1", code)
	}
	t.Run("unsigned packages in the repository", func(t *testing.T) {
		b.p.AddUnsigned(t, "zfs-kmod", "zfs", "zfs_version=2.2.9")
		b.p.AddUnsigned(t, "zfs-kmod", "kmod-zfs", "zfs_version=2.2.9")
		out, code := zi(t, "apply", "--auto-approve")
		if code != 1 || !strings.Contains(out, "failed its signature check") {
			t.Errorf("apply: exit %d, want 1 with dnf's signature check failing", code)
		}
		bt := *b
		bt.t = t
		bt.wantNotInstalled("zfs-2.2.9", "kmod-zfs")
	})
	if _, code := zi(t, "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply once the unsigned packages are gone: exit %d", code)
	}
	b.wantInstalled("zfs-release-3-0", "kmod-zfs-"+testbed.ZFSNew)
	for _, p := range b.r.Installed(t) {
		if !strings.HasPrefix(p, "kmod-zfs-") && !strings.HasPrefix(p, "zfs-2") {
			continue
		}
		if sig := b.r.RPM(t, "-q", "--qf", "%{SIGPGP:pgpsig}%{RSAHEADER:pgpsig}", strings.TrimSuffix(p, ".x86_64")); strings.Contains(sig, "(none)(none)") {
			t.Errorf("%s is installed unsigned", p)
		}
	}
	repo := b.r.ReadFile(t, "/etc/yum.repos.d/zfs.repo")
	if m := regexp.MustCompile(`(?s)\[zfs-kmod\][^\[]*?gpgcheck=(\d)`).FindStringSubmatch(repo); m == nil || m[1] != "1" {
		t.Errorf("[zfs-kmod] in zfs.repo: gpgcheck=%v, want 1", m)
	}
}
