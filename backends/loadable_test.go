package backends

import (
	"debug/elf"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/host/hosttest"
)

// kabiHost is a fixture host with real modules and symvers (testdata/kabi):
// the "kmod" built against 6.1.0-47 under its build kernel's extra/, and,
// for each kernel, its symvers.gz and one of its own modules under kernel/
// named by modules.dep.
func kabiHost(t *testing.T, kernels map[string]string) *hosttest.Fixture {
	t.Helper()
	root := t.TempDir()
	put := func(dst, src string) {
		data, err := os.ReadFile(filepath.Join("testdata/kabi", src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(root+dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(root+dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("/lib/modules/"+kmodBuild+"/extra/zfs/zfs.ko", "ref-6.1.0-47-amd64.ko")
	for kver, data := range kernels {
		put("/lib/modules/"+kver+"/symvers.gz", "symvers-"+data+".gz")
		put("/lib/modules/"+kver+"/kernel/lib/ref.ko", "ref-"+data+".ko")
		if err := os.WriteFile(root+"/lib/modules/"+kver+"/modules.dep", []byte("kernel/lib/ref.ko:\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return hosttest.New(t, root)
}

const kmodBuild = "5.14.0-427.13.1.el9_4.x86_64"

func TestModuleVersionsReadsRealModules(t *testing.T) {
	f, err := elf.Open("testdata/kabi/ref-6.1.0-47-amd64.ko")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ModuleVersions(f)
	if err != nil {
		t.Fatal(err)
	}
	// modprobe --dump-modversions testdata/kabi/ref-6.1.0-47-amd64.ko
	want := map[string]string{
		"__x86_return_thunk": "0x5b8239ca", "__fentry__": "0xbdfb6dbb", "kmalloc_caches": "0xc80d0404",
		"kmalloc_trace": "0x52dd86bf", "kfree": "0x037a0cba", "_printk": "0x92997ed8", "module_layout": "0x160c03af",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("__versions (-modprobe +ours):\n%s", diff)
	}
}

// TestCheckLoadable runs the three checks on real modules and symvers: the
// kmod is the 6.1.0-47 build, installed as kmod-zfs for the 9.4 GA kernel.
func TestCheckLoadable(t *testing.T) {
	cases := map[string]struct {
		kver, data string
		wantFail   []string // IDs of the findings that fail
		wantMade   []string // IDs of the findings made
	}{
		"the kernel it was built against": {
			kver: kmodBuild, data: "6.1.0-47-amd64",
			wantMade: []string{"kmod-build-kernel", "kmod-module-layout", "kmod-struct-module"},
		},
		"a later z-stream with the same ABI": {
			kver: "5.14.0-427.16.1.el9_4.x86_64", data: "6.1.0-47-amd64",
			wantMade: []string{"kmod-build-kernel", "kmod-module-layout", "kmod-struct-module"},
		},
		"module_layout differs (#17924: 6.1.0-57's symvers)": {
			kver: "5.14.0-611.5.1.el9_7.x86_64", data: "6.1.0-57-amd64",
			wantFail: []string{"kmod-module-layout"},
			wantMade: []string{"kmod-build-kernel", "kmod-module-layout", "kmod-struct-module"},
		},
		"struct module differs (#17165: 6.12's struct module)": {
			kver: "5.14.0-503.33.1.el9_5.x86_64", data: "6.12.107+deb12-amd64",
			wantFail: []string{"kmod-module-layout", "kmod-struct-module"},
			wantMade: []string{"kmod-build-kernel", "kmod-module-layout", "kmod-struct-module"},
		},
		"an older z-stream than the build kernel (#14411)": {
			kver: "5.14.0-427.3.1.el9_4.x86_64", data: "6.1.0-47-amd64",
			wantFail: []string{"kmod-build-kernel"},
			wantMade: []string{"kmod-build-kernel", "kmod-module-layout", "kmod-struct-module"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := kabiHost(t, map[string]string{tc.kver: tc.data})
			m, err := ReadModuleABI(h, "/lib/modules/"+kmodBuild+"/extra/zfs/zfs.ko")
			if err != nil {
				t.Fatal(err)
			}
			if m.Vermagic != "6.1.0-47-amd64" || m.StructModuleSize != 0x380 || m.ModuleLayout != "0x160c03af" {
				t.Fatalf("module ABI: %+v", m)
			}
			// The real module's vermagic names Debian's release; the kmod's
			// build kernel is the EL kernel it is installed for.
			m.Vermagic = kmodBuild
			l := CheckLoadable(m, tc.kver, ReadKernelABI(h, tc.kver))
			var fail, made []string
			for _, f := range l.Findings {
				if !f.OK {
					fail = append(fail, f.ID)
				}
				if f.Made {
					made = append(made, f.ID)
				}
			}
			if diff := cmp.Diff(tc.wantFail, fail); diff != "" {
				t.Errorf("failed findings (-want +got):\n%s\n%+v", diff, l.Findings)
			}
			if diff := cmp.Diff(tc.wantMade, made); diff != "" {
				t.Errorf("findings made (-want +got):\n%s", diff)
			}
			if l.OK() != (len(tc.wantFail) == 0) {
				t.Errorf("OK() = %v with failures %v", l.OK(), fail)
			}
		})
	}
}

// TestCheckLoadableWithoutKernelFiles: a kernel whose files are not on the
// disk (the pre-flight judges kernels from repository metadata) makes only
// the build-kernel check, and says the others were not made.
func TestCheckLoadableWithoutKernelFiles(t *testing.T) {
	h := kabiHost(t, nil)
	m, err := ReadModuleABI(h, "/lib/modules/"+kmodBuild+"/extra/zfs/zfs.ko")
	if err != nil {
		t.Fatal(err)
	}
	m.Vermagic = kmodBuild
	l := CheckLoadable(m, "5.14.0-570.17.1.el9_6.x86_64", ReadKernelABI(h, "5.14.0-570.17.1.el9_6.x86_64"))
	for _, f := range l.Findings {
		if made := f.ID == "kmod-build-kernel"; f.Made != made || !f.OK {
			t.Errorf("%s: made %v ok %v (%s)", f.ID, f.Made, f.OK, f.Detail)
		}
	}
}

func TestCheckBuildKernel(t *testing.T) {
	cases := map[string]struct {
		build, kver string
		ok          bool
	}{
		"same":                           {kmodBuild, kmodBuild, true},
		"newer z-stream target":          {kmodBuild, "5.14.0-427.16.1.el9_4.x86_64", true},
		"next minor target":              {kmodBuild, "5.14.0-503.14.1.el9_5.x86_64", true},
		"older z-stream target (#14411)": {"4.18.0-425.10.1.el8_7.x86_64", "4.18.0-425.3.1.el8_7.x86_64", false},
		"older minor target":             {"5.14.0-503.14.1.el9_5.x86_64", kmodBuild, false},
		"another architecture":           {"5.14.0-503.14.1.el9_5.aarch64", kmodBuild, true},
		"another series (ELRepo)":        {kmodBuild, "6.1.80-1.el9.elrepo.x86_64", true},
		"unknown build kernel":           {"", kmodBuild, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if f := CheckBuildKernel(tc.build, tc.kver); f.OK != tc.ok {
				t.Errorf("CheckBuildKernel(%s, %s) = %v (%s), want %v", tc.build, tc.kver, f.OK, f.Detail, tc.ok)
			}
		})
	}
}
