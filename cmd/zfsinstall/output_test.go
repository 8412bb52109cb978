package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/apply"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/host/hosttest"
	"github.com/zfsinstall/zfsinstall/update"
	"github.com/zfsinstall/zfsinstall/views"
)

// TestApplyJSON: apply --json prints nothing but one JSON object at the
// end: every step with its status, the IDs done and skipped, the packages
// installed, the dnf transactions, and on failure the failed step and the
// error.
func TestApplyJSON(t *testing.T) {
	t.Run("success", func(t *testing.T) {
		h := unmanagedHost(t)
		// The autoload file is already right: that step is skipped.
		os.MkdirAll(h.Path("/etc/modules-load.d"), 0o755)
		os.WriteFile(h.Path("/etc/modules-load.d/zfs.conf"), []byte("# Managed by zfsinstall from the host spec; local edits are replaced on the next apply.\nzfs\n"), 0o644)
		stdout, stderr, code := runOn(t, []func(*env){onHost(h)}, "apply", "--json", "--auto-approve", "--root", h.Root(), "-f", "testdata/specs/good-empty.hcl")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var r views.ApplyReport
		dec := json.NewDecoder(strings.NewReader(stdout))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("standard output is not one apply report: %v\n%s", err, stdout)
		}
		if dec.More() {
			t.Errorf("standard output holds more than one JSON value")
		}
		var statuses []string
		for _, s := range r.Steps {
			statuses = append(statuses, s.ID+" "+s.Status)
		}
		want := []string{"repo.zfs done", "repo.zfs-kmod done", "file./etc/dnf/plugins/needs-restarting.d/zfs.conf done"}
		for _, f := range facts.KernelHoldUnitFiles {
			want = append(want, "file."+f+" done")
		}
		want = append(want, "service.zfs-import-cache.service done", "service.zfs-import.target done", "service.zfs-mount.service done",
			"service.zfs-zed.service done", "service.zfs.target done", "service.zfsinstall-kernel-hold.timer done")
		if diff := cmp.Diff(want, statuses); diff != "" {
			t.Errorf("steps (-want +got):\n%s", diff)
		}
		// --root: no running system to reboot (rebootReasons has the cases).
		if !r.OK || r.FormatVersion != "1" || r.Packaging != "kmod" || r.Error != nil || len(r.Done) != len(want) || len(r.Skipped) != 0 || r.Transactions != 0 ||
			r.RebootRequired || r.RebootReasons == nil || !strings.Contains(stdout, `"reboot_required": false`) {
			t.Errorf("report: %+v", r)
		}
		// After the steps the kernel hold was evaluated: nothing offered, nothing held.
		if r.KernelHold == nil || len(r.KernelHold.Held) != 0 || !r.KernelHold.Changed {
			t.Errorf("kernel_hold = %+v, want a first evaluation holding nothing", r.KernelHold)
		}
	})
	t.Run("a failed step", func(t *testing.T) {
		h := unmanagedHost(t)
		// As systemctl does: a call naming a missing unit file fails whole.
		fake := h.Handler("systemctl --root " + h.Root() + " enable ")
		h.Handle("systemctl --root "+h.Root()+" enable ", func(c host.Cmd) hosttest.FixtureResult {
			if slices.Contains(c.Argv, "zfs-mount.service") {
				return hosttest.FixtureResult{ExitCode: 1, Stderr: "Failed to enable unit: Unit file zfs-mount.service does not exist.\n"}
			}
			return fake(c)
		})
		stdout, _, code := runOn(t, []func(*env){onHost(h)}, "apply", "--json", "--auto-approve", "--root", h.Root(), "-f", "testdata/specs/good-empty.hcl")
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		var r views.ApplyReport
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("%v\n%s", err, stdout)
		}
		status := map[string]string{}
		for _, s := range r.Steps {
			status[s.ID] = s.Status
		}
		if r.OK || r.Error == nil || r.Error.Step != "service.zfs-mount.service" || !strings.Contains(r.Error.Message, "Unit file zfs-mount.service does not exist") ||
			status["service.zfs-import.target"] != "done" || status["service.zfs-mount.service"] != "failed" || status["service.zfs.target"] != "not-run" {
			t.Errorf("report of a failed apply: %+v %v", r.Error, status)
		}
	})
	t.Run("before any step", func(t *testing.T) {
		stdout, stderr, code := runOn(t, nil, "apply", "--json", "--auto-approve", "-f", "testdata/specs/bad-packaging.hcl", "--root", t.TempDir())
		var r views.ApplyReport
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("%v\n%s", err, stdout)
		}
		if code != 1 || r.OK || r.Error == nil || r.Error.Step != "" || !strings.Contains(r.Error.Message, "has errors") || !strings.Contains(stderr, "error:") {
			t.Errorf("exit %d, report %+v", code, r.Error)
		}
	})
	t.Run("human: the versions installed in the final line", func(t *testing.T) {
		h := unmanagedHost(t)
		stdout, _, code := runOn(t, []func(*env){onHost(h)}, "apply", "--auto-approve", "--root", h.Root(), "-f", "testdata/specs/good-empty.hcl")
		if code != 0 || !regexp.MustCompile(`\nApply complete! Steps: 13 added, 2 changed, 0 removed \(0 already in place; 0 dnf transactions\)\.\nKernel hold: no kernel held\.\n$`).MatchString(stdout) {
			t.Errorf("exit %d; the last lines are not the summary and the kernel hold", code)
		}
	})
}

// TestVerifyExitCodesAndTextfile: verify exits 0 healthy, 1 unhealthy, 3
// could not check (a missing spec too: verify never checks against
// defaults it was not given), and --textfile writes the same result for
// node_exporter each time, atomically, into a directory that must exist.
func TestVerifyExitCodesAndTextfile(t *testing.T) {
	dir := t.TempDir()
	prom := filepath.Join(dir, "zfsinstall.prom")
	cases := map[string]struct {
		args     []string
		setup    func(h *hosttest.Fixture)
		wantCode int
		wantProm []string
		wantErr  string
	}{
		"unhealthy: services not enabled": {
			args:     []string{"-f", "testdata/specs/good-empty.hcl"},
			wantCode: 1,
			wantProm: []string{"zfsinstall_verify_ok 0", "zfsinstall_verify_checked 1", `zfsinstall_verify_check{id="userland-installed"} 1`,
				`zfsinstall_verify_check{id="module-loaded"} 1`, `zfsinstall_verify_check_skipped{id="module-loaded"} 1`,
				`zfsinstall_verify_check{id="autoload"} 0`, `zfsinstall_verify_check{id="service:zfs-zed.service"} 0`},
		},
		"healthy": {
			setup: func(h *hosttest.Fixture) {
				os.MkdirAll(h.Path("/etc/modules-load.d"), 0o755)
				os.WriteFile(h.Path("/etc/modules-load.d/zfs.conf"), []byte("zfs\n"), 0o644)
				os.MkdirAll(h.Path("/etc/systemd/system/zfs.target.wants"), 0o755)
				for _, u := range []string{"zfs-import-cache.service", "zfs-import.target", "zfs-mount.service", "zfs-zed.service", "zfs.target"} {
					os.Symlink("/usr/lib/systemd/system/"+u, h.Path("/etc/systemd/system/zfs.target.wants/"+u))
				}
				// the kernel hold, evaluated, holding nothing, its timer enabled
				os.MkdirAll(h.Path("/etc/zfsinstall"), 0o755)
				os.WriteFile(h.Path(update.HoldFile), update.HoldRecord{}.Bytes(), 0o644)
				os.MkdirAll(h.Path("/etc/systemd/system/timers.target.wants"), 0o755)
				os.Symlink("/etc/systemd/system/"+facts.KernelHoldTimer, h.Path("/etc/systemd/system/timers.target.wants/"+facts.KernelHoldTimer))
			},
			args:     []string{"-f", "testdata/specs/good-empty.hcl"},
			wantCode: 0,
			wantProm: []string{"zfsinstall_verify_ok 1", "zfsinstall_verify_checked 1", `zfsinstall_verify_check{id="service:zfs.target"} 1`,
				`zfsinstall_verify_check{id="kernel-hold"} 1`},
		},
		"a broken spec": {
			args:     []string{"-f", "testdata/specs/bad-packaging.hcl"},
			wantCode: 3,
			wantProm: []string{"zfsinstall_verify_ok 0", "zfsinstall_verify_checked 0"},
		},
		"a missing spec named with -f": {
			args:     []string{"-f", filepath.Join(dir, "nope.hcl")},
			wantCode: 3,
			wantProm: []string{"zfsinstall_verify_ok 0", "zfsinstall_verify_checked 0"},
			wantErr:  "reading the spec " + filepath.Join(dir, "nope.hcl") + ": stat " + filepath.Join(dir, "nope.hcl") + ": no such file or directory; nothing was checked",
		},
		"no -f and no ./zfsinstall.hcl": {
			wantCode: 3,
			wantProm: []string{"zfsinstall_verify_ok 0", "zfsinstall_verify_checked 0"},
			wantErr:  "reading the spec zfsinstall.hcl: stat zfsinstall.hcl: no such file or directory; write a host spec at ./zfsinstall.hcl or pass -f SPEC",
		},
		"facts that cannot be gathered": {
			args:     []string{"-f", "testdata/specs/good-empty.hcl"},
			setup:    func(h *hosttest.Fixture) { os.Remove(h.Path("/etc/os-release")) },
			wantCode: 3,
			wantProm: []string{"zfsinstall_verify_ok 0", "zfsinstall_verify_checked 0"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := unmanagedHost(t)
			if tc.setup != nil {
				tc.setup(h)
			}
			args := append([]string{"verify", "--root", h.Root(), "--textfile", prom, "--json"}, tc.args...)
			stdout, _, code := runOn(t, []func(*env){onHost(h)}, args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d", code, tc.wantCode)
			}
			var doc views.ReportDocument
			if err := json.Unmarshal([]byte(stdout), &doc); err != nil || doc.FormatVersion != "1" || doc.ExitCode != code || doc.Command != "verify" {
				t.Errorf("verify --json: %v %+v", err, doc)
			}
			if !strings.Contains(doc.Error, tc.wantErr) {
				t.Errorf("error %q, want it to contain %q", doc.Error, tc.wantErr)
			}
			for _, c := range doc.Checks {
				if c.ID == "" {
					t.Errorf("check %q has no ID", c.Name)
				}
			}
			data, err := os.ReadFile(prom)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range append(tc.wantProm, "# TYPE zfsinstall_verify_ok gauge", "zfsinstall_verify_timestamp_seconds ") {
				if !strings.Contains(string(data), w+"\n") && !strings.Contains(string(data), w) {
					t.Errorf("%s has no line %q:\n%s", prom, w, data)
				}
			}
			if fi, _ := os.Stat(prom); fi.Mode().Perm() != 0o644 {
				t.Errorf("%s mode %v, want 0644 (node_exporter reads it)", prom, fi.Mode())
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
				t.Errorf("temporary files left beside the textfile: %v", left)
			}
		})
	}
}

// TestVerifyTextfileDirectory: --textfile into a directory that does not
// exist is an error (exit 3) and creates nothing: node_exporter reads only
// the directory it was given, so a missing one is a wrong path.
func TestVerifyTextfileDirectory(t *testing.T) {
	h := unmanagedHost(t)
	missing := filepath.Join(t.TempDir(), "textfile_collector")
	_, stderr, code := runOn(t, []func(*env){onHost(h)}, "verify", "--root", h.Root(), "-f", "testdata/specs/good-empty.hcl", "--textfile", filepath.Join(missing, "zfsinstall.prom"))
	if code != 3 || !strings.Contains(stderr, "Error: writing --textfile "+filepath.Join(missing, "zfsinstall.prom")+": the directory "+missing+" does not exist") {
		t.Errorf("exit %d, want 3 and the error on standard error:\n%s", code, stderr)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("verify created %s (%v)", missing, err)
	}
}

// TestGuardJSON: guard --json carries the format version, the exit code
// and check IDs; a kernel that is not installed is "could not check".
func TestGuardJSON(t *testing.T) {
	h := unmanagedHost(t)
	stdout, _, code := runOn(t, []func(*env){onHost(h)}, "guard", "--root", h.Root(), "--kernel", "5.14.0-503.14.1.el9_5.x86_64", "--json")
	var doc views.ReportDocument
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	want := views.ReportDocument{FormatVersion: "1", Command: "guard", Kernel: "5.14.0-503.14.1.el9_5.x86_64", ExitCode: 3, Checks: doc.Checks}
	if diff := cmp.Diff(want, doc); diff != "" || code != 3 || len(doc.Checks) != 1 || doc.Checks[0].ID != "kernel-installed" {
		t.Errorf("exit %d; document (-want +got):\n%s\n%+v", code, diff, doc.Checks)
	}
	_, stderr, code := runOn(t, []func(*env){onHost(h)}, "guard", "--root", h.Root(), "--kernel", "5.14.0-503.14.1.el9_5.x86_64")
	if code != 3 || !strings.Contains(stderr, "Error: could not tell whether ZFS would work after booting 5.14.0-503.14.1.el9_5.x86_64") {
		t.Errorf("exit %d, stderr: %s", code, stderr)
	}
}

// TestVersion: version and --version report the release and commit make
// build stamps with -ldflags -X (main.version, main.commit, ...), never
// "(devel)"; --json the same as an object.
func TestVersion(t *testing.T) {
	saved := []string{version, commit, commitTime, modified}
	t.Cleanup(func() { version, commit, commitTime, modified = saved[0], saved[1], saved[2], saved[3] })
	version, commit, commitTime, modified = "9.8.7", "0123456789abcdef0123456789abcdef01234567", "2026-12-07T14:00:00Z", "true"
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		stdout, _, code := runOn(t, nil, args...)
		lines := strings.Split(stdout, "\n")
		if code != 0 || len(lines) != 5 || lines[0] != "zfsinstall 9.8.7" || !strings.HasPrefix(lines[1], "module github.com/zfsinstall/zfsinstall") ||
			lines[2] != "commit 0123456789abcdef0123456789abcdef01234567 (2026-12-07T14:00:00Z), with uncommitted changes" || strings.Contains(stdout, "(devel)") {
			t.Errorf("%v: exit %d\n%s", args, code, stdout)
		}
	}
	stdout, _, _ := runOn(t, nil, "version", "--json")
	var v views.VersionInfo
	if err := json.Unmarshal([]byte(stdout), &v); err != nil || v.FormatVersion != "1" || v.Version != "9.8.7" || v.Module != "github.com/zfsinstall/zfsinstall" ||
		!strings.HasPrefix(v.Go, "go") || v.Commit != commit || v.CommitTime != commitTime || !v.Modified {
		t.Errorf("version --json: %v %+v", err, v)
	}
}

// TestVerifyDuringApply: verify while an apply holds the lock says so and
// checks nothing (exit 3), instead of reporting the half-done change as
// FAILED (issue 20 item 5).
func TestVerifyDuringApply(t *testing.T) {
	h := unmanagedHost(t)
	release, err := h.Lock(apply.LockPath)
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runOn(t, []func(*env){onHost(h)}, "verify", "--root", h.Root(), "-f", "testdata/specs/good-empty.hcl")
	if want := fmt.Sprintf("zfsinstall apply (PID %d) is changing this host", os.Getpid()); code != 3 || !strings.Contains(stdout+stderr, want) {
		t.Errorf("verify during an apply: exit %d, want 3 saying %q", code, want)
	}
	release()
	if _, _, code := runOn(t, []func(*env){onHost(h)}, "verify", "--root", h.Root(), "-f", "testdata/specs/good-empty.hcl"); code != 1 {
		t.Errorf("verify after the apply: exit %d, want 1 (the fixture host is unhealthy)", code)
	}
}
