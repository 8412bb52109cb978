package verify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host/hosttest"
)

// TestLoadable uses real modules and symvers made from Debian's kernel
// headers (backends/testdata/kabi/README.md): the kmod is the 6.1.0-47
// build installed for the 9.4 GA kernel; another bootable kernel carries
// 6.1.0-57's module_layout (openzfs/zfs#17924).
func TestLoadable(t *testing.T) {
	const other = "5.14.0-611.5.1.el9_7.x86_64"
	cases := map[string]struct {
		otherData string
		wantOK    bool
		want      string
	}{
		"the same ABI": {otherData: "6.1.0-47-amd64", wantOK: true, want: "loads on " + gEL94GA + ", " + other},
		"module_layout differs": {otherData: "6.1.0-57-amd64",
			want: other + ": /lib/modules/" + gEL94GA + "/extra/zfs/zfs.ko was built with module_layout 0x160c03af, and kernel " + other + " has 0x9060323f"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			put := func(dst, src string) {
				data, err := os.ReadFile(filepath.Join("../backends/testdata/kabi", src))
				if err != nil {
					t.Fatal(err)
				}
				os.MkdirAll(filepath.Dir(root+dst), 0o755)
				if err := os.WriteFile(root+dst, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			put("/lib/modules/"+gEL94GA+"/extra/zfs/zfs.ko", "ref-6.1.0-47-amd64.ko")
			for kver, data := range map[string]string{gEL94GA: "6.1.0-47-amd64", other: tc.otherData} {
				put("/lib/modules/"+kver+"/symvers.gz", "symvers-"+data+".gz")
				put("/lib/modules/"+kver+"/kernel/lib/ref.ko", "ref-"+data+".ko")
				os.WriteFile(root+"/lib/modules/"+kver+"/modules.dep", []byte("kernel/lib/ref.ko:\n"), 0o644)
			}
			// the real module's .modinfo says version 1.0: the kmod here is 1.0
			kmod := gKmodZFS
			kmod.Version = "1.0"
			f := guardFacts([]facts.Package{gZFS, kmod}, gKernel{gEL94GA, "kernel-core", kabi94}, gKernel{other, "kernel-core", kabi94})
			f.Kernel.Target = gEL94GA
			f.Kernel.Installed[1].BootEntry = true
			c, ok := Loadable(hosttest.New(t, root), f)
			if !ok || c.OK != tc.wantOK || !strings.Contains(c.Detail, tc.want) {
				t.Errorf("Loadable = %v %v %q; want %v and a detail containing %q", ok, c.OK, c.Detail, tc.wantOK, tc.want)
			}
		})
	}
}
