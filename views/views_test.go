package views

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/apply"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/verify"
)

func TestTextfile(t *testing.T) {
	now := time.Unix(1764165600, 250e6)
	r := &verify.Report{OK: false, Checks: []verify.Check{
		{ID: "userland-installed", OK: true},
		{ID: "module-loaded", Skipped: true},
		{ID: `service:odd"name\`, OK: false},
	}, HeldKernels: []string{"5.14.0-570.17.1.el9_6.x86_64"}}
	cases := map[string]struct {
		r    *verify.Report
		want string
	}{
		"checked": {r, `# HELP zfsinstall_verify_ok 1 when the last zfsinstall verify found the host healthy, 0 when not or when it could not check.
# TYPE zfsinstall_verify_ok gauge
zfsinstall_verify_ok 0
# HELP zfsinstall_verify_checked 1 when the last zfsinstall verify could check the host, 0 when it could not (exit 3).
# TYPE zfsinstall_verify_checked gauge
zfsinstall_verify_checked 1
# HELP zfsinstall_verify_check Result of one zfsinstall verify check by ID: 1 passed or skipped, 0 failed.
# TYPE zfsinstall_verify_check gauge
zfsinstall_verify_check{id="userland-installed"} 1
zfsinstall_verify_check{id="module-loaded"} 1
zfsinstall_verify_check{id="service:odd\"name\\"} 0
# HELP zfsinstall_verify_check_skipped 1 when a zfsinstall verify check was not made (a chroot, a target kernel not running).
# TYPE zfsinstall_verify_check_skipped gauge
zfsinstall_verify_check_skipped{id="userland-installed"} 0
zfsinstall_verify_check_skipped{id="module-loaded"} 1
zfsinstall_verify_check_skipped{id="service:odd\"name\\"} 0
# HELP zfsinstall_kernels_held Kernels the zfsinstall kernel hold keeps from dnf because ZFS would not work on them (kernel updates waiting for OpenZFS).
# TYPE zfsinstall_kernels_held gauge
zfsinstall_kernels_held 1
# HELP zfsinstall_verify_timestamp_seconds When the last zfsinstall verify ran, in seconds since the Unix epoch.
# TYPE zfsinstall_verify_timestamp_seconds gauge
zfsinstall_verify_timestamp_seconds 1764165600.25
`},
		"could not check": {nil, `# HELP zfsinstall_verify_ok 1 when the last zfsinstall verify found the host healthy, 0 when not or when it could not check.
# TYPE zfsinstall_verify_ok gauge
zfsinstall_verify_ok 0
# HELP zfsinstall_verify_checked 1 when the last zfsinstall verify could check the host, 0 when it could not (exit 3).
# TYPE zfsinstall_verify_checked gauge
zfsinstall_verify_checked 0
# HELP zfsinstall_verify_timestamp_seconds When the last zfsinstall verify ran, in seconds since the Unix epoch.
# TYPE zfsinstall_verify_timestamp_seconds gauge
zfsinstall_verify_timestamp_seconds 1764165600.25
`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Textfile(&b, tc.r, now); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, b.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyHumanOutcome(t *testing.T) {
	p := &planner.Plan{Steps: []planner.Step{
		{ID: "package.zfs", Action: planner.Create}, {ID: "package.kmod-zfs", Action: planner.Create},
		{ID: "repo.zfs", Action: planner.Update}, {ID: "file.x", Action: planner.Delete},
	}}
	cases := map[string]struct {
		o       ApplyOutcome
		out     string
		errText string
	}{
		"done, with the versions installed": {
			o: ApplyOutcome{Plan: p, Result: &apply.Result{Done: []string{"package.zfs", "package.kmod-zfs", "file.x"}, Skipped: []string{"repo.zfs"},
				Transactions: 1, Installed: []string{"zfs-2.2.8-1.el9.x86_64", "kmod-zfs-2.2.8-1.el9.x86_64"}}},
			out: "\nApply complete! Steps: 2 added, 0 changed, 1 removed (1 already in place; 1 dnf transactions). Installed zfs-2.2.8-1.el9.x86_64, kmod-zfs-2.2.8-1.el9.x86_64.\n",
		},
		"a step failed": {
			o:       ApplyOutcome{Plan: p, Result: &apply.Result{}, Err: &apply.StepError{Step: p.Steps[0], Err: errors.New("boom")}},
			errText: "\nError: step package.zfs (+ ) failed: boom\n\nSteps finished before the failure stay done",
		},
		"refused before any step": {
			o:       ApplyOutcome{Err: errors.New("saved plan is stale")},
			errText: "Error: saved plan is stale\n",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			NewApply(false, Streams{Out: &out, Err: &errb}).Outcome(tc.o)
			if out.String() != tc.out {
				t.Errorf("stdout = %q, want %q", out.String(), tc.out)
			}
			if !strings.HasPrefix(errb.String(), tc.errText) {
				t.Errorf("stderr = %q, want it to start with %q", errb.String(), tc.errText)
			}
		})
	}
}
