package apply

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/gather"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/host/hosttest"
	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/spec"
	"github.com/zfsinstall/zfsinstall/verify"
)

const kver = "5.14.0-427.13.1.el9_4.x86_64"

// liveHost is testdata/hosts-live/rocky9.4-kmod-unmanaged played as a running
// system. rpm, uname and modinfo answer from a table. Two fakes stand in for
// what cannot run here: systemctl (it makes the symlink systemctl would) and
// modprobe (it writes /sys/module/zfs/version as a loaded module would).
func liveHost(t *testing.T) *hosttest.Fixture {
	h := hosttest.New(t, "../testdata/hosts-live/rocky9.4-kmod-unmanaged").Live()
	installed := "@\tzfs-release\t(none)\t3\t0\tnoarch\n" +
		"@\tzfs\t(none)\t2.2.7\t1.el9\tx86_64\n" +
		"@\tkmod-zfs\t(none)\t2.2.7\t1.el9\tx86_64\n" +
		"@\tkernel-core\t(none)\t5.14.0\t427.13.1.el9_4\tx86_64\n" +
		"@\tgpg-pubkey\t(none)\t9db84141\t62d88994\t(none)\n"
	h.Handle("rpm -qa --qf", func(host.Cmd) hosttest.FixtureResult { return hosttest.FixtureResult{Stdout: installed} })
	h.Handle("rpm -q --qf", func(c host.Cmd) hosttest.FixtureResult {
		var out strings.Builder
		for _, name := range c.Argv[3:] {
			for _, l := range strings.Split(installed, "\n") {
				if strings.HasPrefix(l, "@\t"+name+"\t") {
					out.WriteString(l + "\n")
				}
			}
		}
		return hosttest.FixtureResult{Stdout: out.String()}
	})
	h.Handle("rpm -q gpg-pubkey-9db84141", func(host.Cmd) hosttest.FixtureResult {
		return hosttest.FixtureResult{Stdout: "gpg-pubkey-9db84141-62d88994\n"}
	})
	h.On("zpool list -H -o name", hosttest.FixtureResult{}) // no pool imported
	h.On("uname -r", hosttest.FixtureResult{Stdout: kver + "\n"})
	h.On("modinfo -k "+kver+" zfs", hosttest.FixtureResult{Stdout: "filename:       /lib/modules/" + kver + "/weak-updates/zfs/zfs.ko\nversion:        2.2.7-1\nvermagic:       5.14.0-427.13.1.el9_4.x86_64 SMP preempt mod_unload modversions\n"})
	h.Handle("systemctl enable ", func(c host.Cmd) hosttest.FixtureResult { // fake systemctl
		for _, unit := range c.Argv[2:] {
			link := h.Path("/etc/systemd/system/zfs.target.wants/" + unit)
			os.MkdirAll(filepath.Dir(link), 0o755)
			os.Symlink("/usr/lib/systemd/system/"+unit, link)
		}
		return hosttest.FixtureResult{}
	})
	h.Handle("modprobe zfs", func(host.Cmd) hosttest.FixtureResult { // fake modprobe
		os.MkdirAll(h.Path("/sys/module/zfs"), 0o755)
		os.WriteFile(h.Path("/sys/module/zfs/version"), []byte("2.2.7-1\n"), 0o444)
		return hosttest.FixtureResult{}
	})
	return h
}

func TestApplyLiveHost(t *testing.T) {
	h := liveHost(t)
	// kernel.hold is off: its evaluation runs dnf after apply (cmd), tested there.
	s, diags := spec.Parse("spec.hcl", []byte("module { options = { zfs_arc_max = 8589934592 } }\nkernel { hold = false }\n"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	ctx := context.Background()
	f, err := gather.Gather(ctx, h, gather.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := planner.Make(s, f, planner.Options{})
	var ids []string
	for _, st := range p.Steps {
		ids = append(ids, string(st.Action)+" "+st.ID)
	}
	wantSteps := []string{
		"~ repo.zfs", "~ repo.zfs-kmod",
		"+ file./etc/modules-load.d/zfs.conf", "+ file./etc/modprobe.d/zfs.conf", "+ file./etc/dnf/plugins/needs-restarting.d/zfs.conf",
		"+ service.zfs-import-cache.service", "+ service.zfs-import.target", "+ service.zfs-mount.service",
		"+ service.zfs-zed.service", "+ service.zfs.target",
		"+ module.zfs",
	}
	if diff := cmp.Diff(wantSteps, ids); diff != "" {
		t.Fatalf("plan steps (-want +got):\n%s", diff)
	}
	before, _ := os.ReadFile(h.Path("/etc/yum.repos.d/zfs.repo"))
	h.Calls = nil
	res, err := Apply(ctx, h, f, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Transactions != 0 {
		t.Errorf("dnf transactions = %d, want 0: every package is installed", res.Transactions)
	}
	wantCalls := []string{
		"systemctl enable zfs-import-cache.service zfs-import.target zfs-mount.service zfs-zed.service zfs.target", // one call
		"modprobe zfs", // the check before it reads /sys/module/zfs/version: absent

		"rpm -q --qf " + pkgmgr.QueryFormat + " zfs", // module step: verify (the userland version, read once)
		"modinfo -k " + kver + " zfs",
	}
	if diff := cmp.Diff(wantCalls, h.CallKeys()); diff != "" {
		t.Errorf("commands run (-want +got):\n%s", diff)
	}
	// zfs.repo: only the two enabled= lines changed, every other byte kept.
	after, _ := os.ReadFile(h.Path("/etc/yum.repos.d/zfs.repo"))
	if diff := cmp.Diff(lineDiff(string(before), string(after)), []string{
		"-enabled=1 +enabled=0", "-enabled=0 +enabled=1",
	}); diff != "" {
		t.Errorf("zfs.repo changes (-want +got):\n%s", diff)
	}
	for path, want := range map[string]string{
		"/etc/modules-load.d/zfs.conf":                 "# Managed by zfsinstall from the host spec; local edits are replaced on the next apply.\nzfs\n",
		"/etc/modprobe.d/zfs.conf":                     "# Managed by zfsinstall from the host spec; local edits are replaced on the next apply.\noptions zfs zfs_arc_max=8589934592\n",
		"/etc/dnf/plugins/needs-restarting.d/zfs.conf": "# Managed by zfsinstall from the host spec; local edits are replaced on the next apply.\nzfs\nkmod-zfs\nzfs-dkms\n",
	} {
		got, err := os.ReadFile(h.Path(path))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q (%v), want %q", path, got, err, want)
		}
	}
	// Idempotent: the host now matches, and verify agrees.
	f2, err := gather.Gather(ctx, h, gather.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p2 := planner.Make(s, f2, planner.Options{}); len(p2.Steps) != 0 {
		t.Errorf("second plan has %d steps, want none: %+v", len(p2.Steps), p2.Steps)
	}
	if r := verify.Verify(f2, s); !r.OK {
		t.Errorf("verify after apply: %+v", r)
	}
}

// lineDiff pairs changed lines of two files with the same number of lines.
func lineDiff(a, b string) []string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := range al {
		if i < len(bl) && al[i] != bl[i] {
			out = append(out, "-"+al[i]+" +"+bl[i])
		}
	}
	if len(al) != len(bl) {
		out = append(out, "line count changed")
	}
	return out
}

// TestApplyInterrupted: an interrupt (Ctrl-C, SIGTERM) stops apply where it
// is, saying so and that a re-run continues; a cancelled context starts
// nothing more.
func TestApplyInterrupted(t *testing.T) {
	h := liveHost(t)
	h.Handle("systemctl enable zfs-import-cache.service", func(host.Cmd) hosttest.FixtureResult {
		return hosttest.FixtureResult{Interrupted: true, ExitCode: 130}
	})
	s := spec.Default()
	ctx := context.Background()
	f, err := gather.Gather(ctx, h, gather.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := planner.Make(s, f, planner.Options{})
	_, err = Apply(ctx, h, f, p, Options{})
	if !errors.Is(err, host.ErrInterrupted) || !strings.Contains(err.Error(), "apply stopped during step service.zfs-import-cache.service") || !strings.Contains(err.Error(), "run zfsinstall apply again") {
		t.Errorf("interrupted step: err = %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	h.Calls = nil
	_, err = Apply(cancelled, h, f, p, Options{})
	if !errors.Is(err, host.ErrInterrupted) || !strings.Contains(err.Error(), "apply stopped before step") {
		t.Errorf("cancelled before: err = %v", err)
	}
	if len(h.CallKeys()) != 0 {
		t.Errorf("apply ran %v after the interrupt", h.CallKeys())
	}
}

// TestLibrariesStay: a branch switch that renames the libraries (libzfs5 ->
// libzfs6 for 2.3) is refused while another package requires the old ones.
func TestLibrariesStay(t *testing.T) {
	for name, tc := range map[string]struct {
		users string
		want  string
	}{
		"another package needs libzfs5": {users: "@\tsamba-vfs-zfs\t(none)\t4.19\t1.el9\tx86_64\n@\tzfs\t(none)\t2.2.7\t1.el9\tx86_64\n", want: "samba-vfs-zfs-4.19-1.el9.x86_64"},
		"only OpenZFS's own packages":   {users: "@\tzfs\t(none)\t2.2.7\t1.el9\tx86_64\n@\tlibzfs5-devel\t(none)\t2.2.7\t1.el9\tx86_64\n"},
	} {
		t.Run(name, func(t *testing.T) {
			h := hosttest.New(t, "").Live()
			h.On("rpm -q --qf "+pkgmgr.QueryFormat+" --whatrequires libzfs5", hosttest.FixtureResult{Stdout: tc.users})
			a := &applier{ctx: context.Background(), h: h, c: pkgmgr.New(h, nil)}
			installed := installedSet{all: []facts.Package{{Name: "libzfs5", Version: "2.2.7"}, {Name: "libnvpair3", Version: "2.2.7"}, {Name: "zfs", Version: "2.2.7"}}}
			err := a.librariesStay("2.3.4", installed)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected refusal: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "replaces libzfs5 with libzfs6")):
				t.Errorf("err = %v, want a refusal naming %s", err, tc.want)
			}
		})
	}
}
