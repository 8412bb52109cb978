package apply

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host/hosttest"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/spec"
)

// TestRefusedPlansChangeNothing: for every fixture host and spec whose plan
// has errors, apply runs no command and writes no file (the fixture host
// fails the test on any command; its tree is compared before and after).
func TestRefusedPlansChangeNothing(t *testing.T) {
	hosts, _ := filepath.Glob("../testdata/hosts/*/facts.json")
	refused := 0
	for _, factsFile := range hosts {
		data, err := os.ReadFile(factsFile)
		if err != nil {
			t.Fatal(err)
		}
		var f facts.Facts
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		specs, _ := filepath.Glob(filepath.Join(filepath.Dir(factsFile), "*.hcl"))
		for _, specFile := range specs {
			src, _ := os.ReadFile(specFile)
			s, diags := spec.Parse(specFile, src)
			if diags.HasErrors() {
				t.Fatalf("%s: %v", specFile, diags)
			}
			var opts planner.Options
			if k, err := os.ReadFile(strings.TrimSuffix(specFile, ".hcl") + ".kernel"); err == nil {
				opts.Kernel = strings.TrimSpace(string(k))
			}
			p := planner.Make(s, &f, opts)
			if !p.HasErrors() {
				continue
			}
			refused++
			t.Run(strings.TrimPrefix(specFile, "../testdata/hosts/"), func(t *testing.T) {
				h := hosttest.New(t, "../testdata/hosts-live/rocky9.4-kmod-unmanaged")
				before := tree(t, h.Root())
				if _, err := Apply(context.Background(), h, &f, p, Options{}); err == nil {
					t.Error("apply of a plan with errors did not refuse")
				}
				if calls := h.CallKeys(); len(calls) > 0 {
					t.Errorf("apply ran %v", calls)
				}
				if after := tree(t, h.Root()); after != before {
					t.Errorf("apply changed the host's files:\nbefore %s\nafter  %s", before, after)
				}
			})
		}
	}
	if refused < 10 {
		t.Errorf("only %d refused fixture plans: the property is barely tested", refused)
	}
}

// tree lists every path under dir with its size and mode.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		b.WriteString(strings.TrimPrefix(p, dir) + " " + fi.Mode().String())
		if fi.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			b.WriteString(" " + string(data))
		}
		b.WriteString("\n")
		return nil
	})
	return b.String()
}

// TestPreflightRefusalsChangeNothing: the refusals apply makes before its
// first change (issue 20) run no command and leave the whole root, and a
// directory outside it, as they were: a step's file under a directory
// linked out of the root (issue 20 item 4: a symlinked /etc/modprobe.d was
// refused only after the package transaction), rpm's database or
// systemd's unit directory linked out (item 2), an immutable repo file,
// and a --dnf-arg that makes dnf read another configuration (item 5). The
// fixture host fails the test on any command.
func TestPreflightRefusalsChangeNothing(t *testing.T) {
	fileStep := planner.Step{ID: "file./etc/modprobe.d/zfs.conf", Action: planner.Create, Kind: planner.KindFile, Summary: "write /etc/modprobe.d/zfs.conf",
		File: &planner.FileStep{Path: "/etc/modprobe.d/zfs.conf", Content: "options zfs zfs_arc_max=8589934592\n"}}
	serviceStep := planner.Step{ID: "service.zfs.target", Action: planner.Create, Kind: planner.KindService, Summary: "enable zfs.target",
		Service: &planner.ServiceStep{Unit: "zfs.target", Enabled: true}}
	keyStep := planner.Step{ID: "key.RPM-GPG-KEY-openzfs-2022", Action: planner.Create, Kind: planner.KindKey, Summary: "import the key",
		Key: &planner.KeyStep{Name: "RPM-GPG-KEY-openzfs-2022"}}
	repoStep := planner.Step{ID: "repo.zfs", Action: planner.Update, Kind: planner.KindRepo, Summary: "repo zfs: enabled 1 -> 0",
		Repo: &planner.RepoStep{Path: "/etc/yum.repos.d/zfs.repo", Section: "zfs", Enabled: false}}
	linkOut := func(rel string) func(t *testing.T, root, out string) {
		return func(t *testing.T, root, out string) {
			os.RemoveAll(filepath.Join(root, rel))
			os.MkdirAll(filepath.Dir(filepath.Join(root, rel)), 0o755)
			if err := os.Symlink(out, filepath.Join(root, rel)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, tc := range map[string]struct {
		steps   []planner.Step
		dnfArgs []string
		setup   func(t *testing.T, root, out string)
		want    string
	}{
		"modprobe.d linked out": {steps: []planner.Step{repoStep, fileStep}, setup: linkOut("etc/modprobe.d"),
			want: "step file./etc/modprobe.d/zfs.conf (+ write /etc/modprobe.d/zfs.conf) would write /etc/modprobe.d/zfs.conf"},
		"systemd's unit directory linked out": {steps: []planner.Step{fileStep, serviceStep}, setup: linkOut("etc/systemd/system"),
			want: "systemctl would write /etc/systemd/system"},
		"rpm's database linked out": {steps: []planner.Step{keyStep, fileStep}, setup: linkOut("var/lib/rpm"),
			want: "rpm would write /var/lib/rpm"},
		"an immutable zfs.repo": {steps: []planner.Step{repoStep, fileStep},
			setup: func(t *testing.T, root, out string) {
				p := filepath.Join(root, "etc/yum.repos.d/zfs.repo")
				if msg, err := exec.Command("chattr", "+i", p).CombinedOutput(); err != nil {
					t.Skipf("chattr: %v %s", err, msg)
				}
				t.Cleanup(func() { exec.Command("chattr", "-i", p).Run() })
			},
			want: "immutable"},
		"--dnf-arg -c": {steps: []planner.Step{fileStep}, dnfArgs: []string{"-c/tmp/dnf.conf"}, want: `refusing --dnf-arg "-c/tmp/dnf.conf"`},
		// the real dkms, run chrooted, needs /proc (the fixture root has none)
		"a DKMS build in a root without /proc": {steps: []planner.Step{fileStep, {ID: "dkms.5.14.0-427.13.1.el9_4.x86_64", Action: planner.Create,
			Kind: planner.KindDKMS, Summary: "build zfs", DKMS: &planner.DKMSStep{Kernel: "5.14.0-427.13.1.el9_4.x86_64"}}},
			want: "needs /proc mounted there"},
	} {
		t.Run(name, func(t *testing.T) {
			h := hosttest.New(t, "../testdata/hosts-live/rocky9.4-kmod-unmanaged")
			out := t.TempDir()
			os.WriteFile(filepath.Join(out, "secret"), []byte("outside the root"), 0o600)
			if tc.setup != nil {
				tc.setup(t, h.Root(), out)
			}
			before, outBefore := tree(t, h.Root()), tree(t, out)
			f := &facts.Facts{Root: h.Root()}
			_, err := Apply(context.Background(), h, f, &planner.Plan{Steps: tc.steps}, Options{DNFArgs: tc.dnfArgs})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("apply: %v, want a refusal saying %q", err, tc.want)
			}
			if calls := h.CallKeys(); len(calls) > 0 {
				t.Errorf("apply ran %v before refusing", calls)
			}
			if after := tree(t, h.Root()); after != before {
				t.Errorf("a refused apply changed the root")
			}
			if after := tree(t, out); after != outBefore {
				t.Errorf("a refused apply changed files outside the root")
			}
		})
	}
}
