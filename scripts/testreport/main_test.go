package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// events are `go test -json` lines in test2json's form (Go 1.26): a deploy test skipped for a
// missing program (after a log line), a slow test, a fast one, a failure, and the packages.
const events = `{"Action":"start","Package":"github.com/zfsinstall/zfsinstall/deploy"}
{"Action":"run","Package":"github.com/zfsinstall/zfsinstall/deploy","Test":"TestAnsibleModule"}
{"Action":"output","Package":"github.com/zfsinstall/zfsinstall/deploy","Test":"TestAnsibleModule","Output":"=== RUN   TestAnsibleModule\n"}
{"Action":"output","Package":"github.com/zfsinstall/zfsinstall/deploy","Test":"TestAnsibleModule","Output":"    ansible_test.go:90: testbed: built 71 RPMs in 8s\n"}
{"Action":"output","Package":"github.com/zfsinstall/zfsinstall/deploy","Test":"TestAnsibleModule","Output":"    main_test.go:44: ansible-playbook is not installed (apt-get install --no-install-recommends ansible-core)\n"}
{"Action":"output","Package":"github.com/zfsinstall/zfsinstall/deploy","Test":"TestAnsibleModule","Output":"--- SKIP: TestAnsibleModule (8.10s)\n"}
{"Action":"skip","Package":"github.com/zfsinstall/zfsinstall/deploy","Test":"TestAnsibleModule","Elapsed":8.1}
{"Action":"run","Package":"github.com/zfsinstall/zfsinstall/deploy","Test":"TestAnsiblePlaybook"}
{"Action":"output","Package":"github.com/zfsinstall/zfsinstall/deploy","Test":"TestAnsiblePlaybook","Output":"    main_test.go:44: ansible-playbook is not installed (apt-get install --no-install-recommends ansible-core)\n"}
{"Action":"skip","Package":"github.com/zfsinstall/zfsinstall/deploy","Test":"TestAnsiblePlaybook","Elapsed":0}
{"Action":"run","Package":"github.com/zfsinstall/zfsinstall/deploy","Test":"TestRPM"}
{"Action":"pass","Package":"github.com/zfsinstall/zfsinstall/deploy","Test":"TestRPM","Elapsed":3.5}
{"Action":"run","Package":"github.com/zfsinstall/zfsinstall/deploy","Test":"TestManPage"}
{"Action":"pass","Package":"github.com/zfsinstall/zfsinstall/deploy","Test":"TestManPage","Elapsed":0.2}
{"Action":"run","Package":"github.com/zfsinstall/zfsinstall/deploy","Test":"TestKickstart/chroot"}
{"Action":"output","Package":"github.com/zfsinstall/zfsinstall/deploy","Test":"TestKickstart/chroot","Output":"    kickstart_test.go:12: exit 1, want 0\n"}
{"Action":"fail","Package":"github.com/zfsinstall/zfsinstall/deploy","Test":"TestKickstart/chroot","Elapsed":1.2}
{"Action":"output","Package":"github.com/zfsinstall/zfsinstall/deploy","Output":"FAIL\n"}
{"Action":"fail","Package":"github.com/zfsinstall/zfsinstall/deploy","Elapsed":14.2}
{"Action":"skip","Package":"github.com/zfsinstall/zfsinstall/demo"}
`

// TestReport: progress lines as packages and slow tests finish, failures with their output,
// then the skips by reason, the deploy warning outside CI, and the closing counts.
func TestReport(t *testing.T) {
	cases := map[string]struct {
		ci   bool
		want string
	}{
		"outside CI": {false, `     deploy TestRPM (3.5s)
--- FAIL: github.com/zfsinstall/zfsinstall/deploy TestKickstart/chroot (1.2s)
    kickstart_test.go:12: exit 1, want 0
FAIL
FAIL github.com/zfsinstall/zfsinstall/deploy 14.2s
?    github.com/zfsinstall/zfsinstall/demo [no test files]

Skipped (2 tests), by reason:
  ansible-playbook is not installed (apt-get install --no-install-recommends ansible-core)
      deploy TestAnsibleModule, deploy TestAnsiblePlaybook

NOT TESTED: some deploy entry points (deploy/: RPM, Ansible, Packer, kickstart) were skipped, see above; ` +
			"`sudo make deploy-deps packer` installs and builds what they run (CI does, and there a skip is a failure).\n" + `
Tests and subtests, in 3s:
2 passed, 1 failed, 2 skipped
`},
		"in CI (a skip fails the test there)": {true, `     deploy TestRPM (3.5s)
--- FAIL: github.com/zfsinstall/zfsinstall/deploy TestKickstart/chroot (1.2s)
    kickstart_test.go:12: exit 1, want 0
FAIL
FAIL github.com/zfsinstall/zfsinstall/deploy 14.2s
?    github.com/zfsinstall/zfsinstall/demo [no test files]

Skipped (2 tests), by reason:
  ansible-playbook is not installed (apt-get install --no-install-recommends ansible-core)
      deploy TestAnsibleModule, deploy TestAnsiblePlaybook

Tests and subtests, in 3s:
2 passed, 1 failed, 2 skipped
`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			r := newReport(&b, tc.ci)
			for _, l := range strings.Split(strings.TrimSpace(events), "\n") {
				var e event
				if err := json.Unmarshal([]byte(l), &e); err != nil {
					t.Fatal(err)
				}
				r.add(e)
			}
			r.summary(3 * time.Second)
			if diff := cmp.Diff(tc.want, b.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
