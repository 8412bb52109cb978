package verify

import (
	"strings"
	"testing"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/spec"
)

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
				if strings.HasPrefix(c.Name, "module for bootable kernel ") {
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
