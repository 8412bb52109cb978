package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/apply"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/spec"
)

// TestRebootReasons plans fixture hosts and takes every step as done (or
// none, or all but the module reload), and checks that a reboot is
// required exactly when the module or its packages changed under a running
// system and the running kernel keeps the old state.
func TestRebootReasons(t *testing.T) {
	cases := map[string]struct {
		host, spec, kernel string
		notDone            string // a step ID left out of Done ("*": nothing done)
		want               []string
	}{
		"fresh stock host: installed and loaded now": {host: "rocky9.4-stock"},
		"fresh ELRepo host, DKMS built and loaded":   {host: "rocky9.3-elrepo-lt-6.1"},
		"kickstart chroot: first boot loads it":      {host: "ks-chroot-el9"},
		"converged host: nothing changed":            {host: "rhel9.4-converged"},
		"nothing done":                               {host: "rocky9.4-stock", notDone: "*"},
		"the module installed for a kernel that is not running": {host: "rocky9.4-two-kernels", kernel: "5.14.0-503.14.1.el9_5.x86_64",
			want: []string{"the zfs module was installed for kernel 5.14.0-503.14.1.el9_5.x86_64, which is not the running kernel 5.14.0-427.13.1.el9_4.x86_64"}},
		"loaded module replaced, pools imported": {host: "rocky9.4-mismatch-pools", spec: "zfs {\n  version = \"2.2.8\"\n}\n",
			want: []string{"the zfs module loaded now (2.2.6-1) was replaced on disk and not reloaded"}},
		"loaded module replaced and reloaded (no pool)": {host: "rocky9.4-mismatch", spec: "zfs {\n  version = \"2.2.8\"\n}\n"},
		"loaded module replaced, the reload failed": {host: "rocky9.4-mismatch", spec: "zfs {\n  version = \"2.2.8\"\n}\n", notDone: "module.zfs",
			want: []string{"the zfs module loaded now (2.2.6-1) was replaced on disk and not reloaded"}},
		"stale module, nothing changed (verify says it)": {host: "rocky9.4-mismatch-pools"},
		"Secure Boot: key enrolment pending": {host: "rocky9.4-secureboot",
			want: []string{"Secure Boot: the enrolment of DKMS's signing key was requested"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := readFacts("testdata/hosts/" + tc.host + "/facts.json")
			if err != nil {
				t.Fatal(err)
			}
			s, diags := spec.Parse("test.hcl", []byte(tc.spec))
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			p := planner.Make(s, f, planner.Options{Kernel: tc.kernel})
			if p.HasErrors() {
				t.Fatalf("the plan has errors: %+v", p.Diagnostics)
			}
			res := &apply.Result{}
			for _, st := range p.Steps {
				if tc.notDone != "*" && st.ID != tc.notDone {
					res.Done = append(res.Done, st.ID)
				}
			}
			got := rebootReasons(f, p, res)
			if len(got) != len(tc.want) {
				t.Fatalf("reasons %q, want %d starting %q", got, len(tc.want), tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("reason %d: %s", i, cmp.Diff(tc.want[i], got[i]))
				}
			}
		})
	}
}
