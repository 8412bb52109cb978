package verify

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
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
			"module-loaded", "autoload", "kernel-hold", "service:zfs-import-cache.service", "service:zfs-import.target", "service:zfs-mount.service",
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

// TestVerifyBootableKernels: every other kernel with a boot entry needs a
// zfs module of the userland's version; a DKMS host that built only for
// the running kernel is not healthy (zfs-dkms's %post builds for the
// running kernel only).
func TestVerifyBootableKernels(t *testing.T) {
	const older = "5.14.0-427.13.1.el9_4.x86_64"
	cases := map[string]struct {
		module  string
		entries bool
		wantOK  bool
		want    string
	}{
		"module of the userland's version": {module: "2.2.7-1", entries: true, wantOK: true, want: "zfs module 2.2.7-1"},
		"no module":                        {module: "", entries: true, want: "no zfs module"},
		"an older module":                  {module: "2.2.6-1", entries: true, want: "not the userland's 2.2.7-1"},
		"boot entries not read":            {module: "", entries: false, wantOK: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := guardFacts([]facts.Package{gZFS}, gKernel{older, "kernel-core", nil}, gKernel{gEL94Later, "kernel-core", nil})
			f.Kernel.Target, f.Kernel.Running = gEL94Later, gEL94Later
			f.Kernel.BootEntriesRead = tc.entries
			f.Kernel.Installed[0].BootEntry, f.Kernel.Installed[0].Module = true, tc.module
			f.ZFS = facts.ZFS{Userland: "2.2.7-1", ModuleOnDisk: "2.2.7-1", ModuleLoaded: "2.2.7-1"}
			var found *Check
			r := Verify(f, spec.Default())
			for i, c := range r.Checks {
				if c.ID == "module-bootable-kernels" {
					found = &r.Checks[i]
				}
			}
			switch {
			case !tc.entries && found != nil:
				t.Errorf("a check without boot entries read: %+v", found)
			case tc.entries && found == nil:
				t.Fatalf("no check for the bootable kernel %s", older)
			case tc.entries && (found.OK != tc.wantOK || !strings.Contains(found.Detail, tc.want)):
				t.Errorf("check = %v %q, want %v and %q", found.OK, found.Detail, tc.wantOK, tc.want)
			}
		})
	}
}
