package backends

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/host/hosttest"
)

// module builds a real (empty) kernel module with a .modinfo section, the
// way the test bed does: as, objcopy, and xz for .ko.xz.
func module(t *testing.T, dst, version, vermagic string, compress bool) {
	t.Helper()
	for _, tool := range []string{"as", "objcopy", "xz"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing (make deps installs binutils and xz-utils)", tool)
			}
			t.Skipf("%s is missing (make deps installs binutils and xz-utils)", tool)
		}
	}
	dir := t.TempDir()
	empty, info := filepath.Join(dir, "empty.o"), filepath.Join(dir, "modinfo")
	os.WriteFile(info, []byte("version="+version+"\x00license=CDDL\x00name=zfs\x00vermagic="+vermagic+" SMP preempt mod_unload modversions \x00"), 0o644)
	os.MkdirAll(filepath.Dir(dst), 0o755)
	for _, argv := range [][]string{
		{"as", "--64", "-o", empty, "/dev/null"},
		{"objcopy", "--add-section", ".modinfo=" + info, "--set-section-flags", ".modinfo=alloc,readonly", empty, dst},
	} {
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", argv, err, out)
		}
	}
	if compress {
		if out, err := exec.Command("xz", "-f", "--check=crc32", dst).CombinedOutput(); err != nil {
			t.Fatalf("xz: %v\n%s", err, out)
		}
	}
}

// TestModuleInfoReadsModules reads the zfs module modules.dep names, in the
// layouts the field has, without modinfo: the fixture host fails the test
// on any command.
func TestModuleInfoReadsModules(t *testing.T) {
	const kver, build = "5.14.0-427.42.1.el9_4.x86_64", "5.14.0-427.13.1.el9_4.x86_64"
	cases := map[string]struct {
		setup func(root string)
		dep   string
		want  ModInfo
	}{
		"DKMS on EL: extra/zfs.ko.xz": {
			setup: func(root string) {
				module(t, root+"/lib/modules/"+kver+"/extra/zfs.ko", "2.2.7-1", kver, true)
			},
			dep:  "extra/spl.ko.xz:\nextra/zfs.ko.xz: extra/spl.ko.xz\n",
			want: ModInfo{Filename: "/lib/modules/" + kver + "/extra/zfs.ko.xz", Version: "2.2.7-1", Vermagic: kver},
		},
		// A kmod reaches a later kernel through weak-modules: an absolute
		// link to the build kernel's module, resolved inside the root.
		"kmod 2.2 weak-updates link": {
			setup: func(root string) {
				module(t, root+"/lib/modules/"+build+"/extra/zfs/zfs.ko", "2.2.7-1", build, false)
				os.MkdirAll(root+"/lib/modules/"+kver+"/weak-updates/zfs", 0o755)
				os.Symlink("/lib/modules/"+build+"/extra/zfs/zfs.ko", root+"/lib/modules/"+kver+"/weak-updates/zfs/zfs.ko")
			},
			dep:  "weak-updates/zfs/zfs.ko: weak-updates/zfs/spl.ko\n",
			want: ModInfo{Filename: "/lib/modules/" + kver + "/weak-updates/zfs/zfs.ko", Version: "2.2.7-1", Vermagic: build},
		},
		"kmod 2.1 layout: extra/zfs/zfs/zfs.ko": {
			setup: func(root string) {
				module(t, root+"/lib/modules/"+kver+"/extra/zfs/zfs/zfs.ko", "2.1.15-1", kver, false)
			},
			dep:  "extra/zfs/avl/zavl.ko:\nextra/zfs/zfs/zfs.ko: extra/zfs/spl/spl.ko\n",
			want: ModInfo{Filename: "/lib/modules/" + kver + "/extra/zfs/zfs/zfs.ko", Version: "2.1.15-1", Vermagic: kver},
		},
		"no zfs in modules.dep": {
			setup: func(string) {},
			dep:   "kernel/fs/xfs/xfs.ko.xz:\n",
			want:  ModInfo{},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := hosttest.New(t, "")
			tc.setup(h.Root())
			os.MkdirAll(h.Path("/lib/modules/"+kver), 0o755)
			os.WriteFile(h.Path("/lib/modules/"+kver+"/modules.dep"), []byte(tc.dep), 0o644)
			if diff := cmp.Diff(tc.want, ModuleInfo(context.Background(), h, kver)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestModuleInfoFallsBackToModinfo asks modinfo where there is no
// modules.dep to read.
func TestModuleInfoFallsBackToModinfo(t *testing.T) {
	const kver = "6.1.80-1.el9.elrepo.x86_64"
	h := hosttest.New(t, "").Live()
	h.On("modinfo -k "+kver+" zfs", hosttest.FixtureResult{Stdout: "filename:       /lib/modules/" + kver + "/extra/zfs.ko.zst\nversion:        2.2.8-1\nvermagic:       " + kver + " SMP\n"})
	want := ModInfo{Filename: "/lib/modules/" + kver + "/extra/zfs.ko.zst", Version: "2.2.8-1", Vermagic: kver}
	if diff := cmp.Diff(want, ModuleInfo(context.Background(), h, kver)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
