package verify

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/spec"
)

// TestVerifyCheckIDs: every check verify makes has a stable ID, unique
// within the report, with no version or kernel release in it (machines
// key on it: verify --json, the textfile's id label).
func TestVerifyCheckIDs(t *testing.T) {
	cases := map[string]struct {
		host string
		spec string
		want []string
	}{
		"converged kmod host": {"rhel9.4-converged", "", []string{"userland-installed", "no-known-bad-release", "one-packaging", "module-on-disk",
			"module-loaded", "autoload", "service:zfs-import-cache.service", "service:zfs-import.target", "service:zfs-mount.service",
			"service:zfs-zed.service", "service:zfs.target"}},
		"fresh host, scan import, no autoload": {"rocky9.4-stock", "module {\n  autoload = false\n}\nservices {\n  import = \"scan\"\n  zed = false\n}\n",
			[]string{"userland-installed", "one-packaging", "module-on-disk", "module-loaded", "service:zfs-import-scan.service",
				"service:zfs-import.target", "service:zfs-mount.service", "service:zfs.target"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile("../testdata/hosts/" + tc.host + "/facts.json")
			if err != nil {
				t.Fatal(err)
			}
			var f facts.Facts
			if err := json.Unmarshal(data, &f); err != nil {
				t.Fatal(err)
			}
			s, diags := spec.Parse("spec.hcl", []byte(tc.spec))
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			var ids []string
			for _, c := range Verify(&f, s).Checks {
				ids = append(ids, c.ID)
				if !regexp.MustCompile(`^[a-z-]+(:[a-z0-9@.-]+)?$`).MatchString(c.ID) {
					t.Errorf("check %q has ID %q, not a stable lower-case name", c.Name, c.ID)
				}
			}
			if diff := cmp.Diff(tc.want, ids); diff != "" {
				t.Errorf("check IDs (-want +got):\n%s", diff)
			}
		})
	}
}
