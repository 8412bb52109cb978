package verify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/host/hosttest"
)

// Kernels the guard cases are about.
const (
	gEL94GA    = "5.14.0-427.13.1.el9_4.x86_64" // the kernel the installed kmod-zfs was built against
	gEL94Later = "5.14.0-427.42.1.el9_4.x86_64" // a later 9.4 z-stream kernel with the same kABI values
	gEL94Break = "5.14.0-427.16.1.el9_4.x86_64" // the 9.4 z-stream of openzfs/zfs#16219: one symbol changed
	gEL95      = "5.14.0-503.14.1.el9_5.x86_64" // EL 9.5
	gEL96      = "5.14.0-570.17.1.el9_6.x86_64" // EL 9.6
	gLT61      = "6.1.80-1.el9.elrepo.x86_64"   // ELRepo kernel-lt
	gML615     = "6.15.2-1.el9.elrepo.x86_64"   // ELRepo kernel-ml, above 2.2.7's Linux-Maximum 6.12
)

// kABI stand-ins, as in the test bed: the kmod requires two symbols.
var (
	kabi94 = map[string]string{"__alloc_pages": "0x721dbc2e", "write_cache_pages": "0x30a4cdde"}
	// 427.16.1 changed one hash inside the minor (openzfs/zfs#16219).
	kabi94Break = map[string]string{"__alloc_pages": "0x5a1f00d2", "write_cache_pages": "0x30a4cdde"}
	// A next minor that kept every hash the kmod needs (openzfs/zfs#16271: 8.9 kmods worked on 8.10).
	kabi95Same = kabi94
	kmodReqs   = []string{"kernel(__alloc_pages) = 0x721dbc2e", "kernel(write_cache_pages) = 0x30a4cdde"}
)

func gPkg(name, version, release string) facts.Package {
	return facts.Package{Name: name, Version: version, Release: release, Arch: "x86_64"}
}

var (
	gZFS      = gPkg("zfs", "2.2.7", "1.el9")
	gKmodZFS  = facts.Package{Name: "kmod-zfs", Version: "2.2.7", Release: "1.el9", Arch: "x86_64", Requires: kmodReqs}
	gDKMSZFS  = facts.Package{Name: "zfs-dkms", Version: "2.2.7", Release: "1.el9", Arch: "noarch"}
	gDKMS2115 = facts.Package{Name: "zfs-dkms", Version: "2.1.15", Release: "1.el9", Arch: "noarch"}
	gZFS2115  = gPkg("zfs", "2.1.15", "1.el9")
)

// gKernel is an installed kernel: its core package and, when syms is not
// nil, the kABI symbols gather read for it.
type gKernel struct {
	release, owner string
	syms           map[string]string
}

// guardFacts is a Rocky 9.4 host with these packages and kernels.
func guardFacts(pkgs []facts.Package, kernels ...gKernel) *facts.Facts {
	f := &facts.Facts{
		FormatVersion: facts.FormatVersion, Root: "/", Arch: "x86_64",
		Distro: facts.Distro{ID: "rocky", IDLike: "rhel centos fedora", Name: "Rocky Linux 9.4 (Blue Onyx)", VersionID: "9.4",
			Major: 9, Minor: 4, Family: facts.FamilyEL, DistTag: ".el9", Releasever: "9"},
		Kernel:   facts.Kernel{Running: gEL94GA},
		Packages: append([]facts.Package(nil), pkgs...),
	}
	for _, k := range kernels {
		vr, _, _ := strings.Cut(k.release, ".x86_64")
		v, r, _ := strings.Cut(vr, "-")
		f.Packages = append(f.Packages, gPkg(k.owner, v, r))
		f.Kernel.Installed = append(f.Kernel.Installed, facts.InstalledKernel{Release: k.release, Package: k.owner, Symbols: k.syms, SymbolsRead: k.syms != nil})
	}
	return f
}

func devel(name, kver string) facts.Package {
	vr, _, _ := strings.Cut(kver, ".x86_64")
	v, r, _ := strings.Cut(vr, "-")
	return gPkg(name, v, r)
}

// modinfo is what `modinfo -k KVER zfs` prints for a module file.
func modinfo(file, version, vermagic string) string {
	return "filename:       " + file + "\nversion:        " + version + "\nvermagic:       " + vermagic + " SMP preempt mod_unload modversions\n"
}

type guardCheck struct {
	Name string
	OK   bool
}

// loadChecks are the loadability checks of a kmod whose module file is not
// on the fixture's disk: listed, not made (skipped), so they pass.
func loadChecks(kver string) []guardCheck {
	return []guardCheck{{"kmod built for " + kver + " or older", true}, {"module_layout of " + kver, true}, {"struct module of " + kver, true}}
}

func TestGuard(t *testing.T) {
	stock94 := gKernel{gEL94GA, "kernel-core", kabi94}
	cases := map[string]struct {
		pkgs    []facts.Package
		kernels []gKernel
		kver    string
		// onDisk makes /lib/modules/<kver> and is what modinfo answers
		// ("" = module not found). Without it the directory is absent.
		onDisk *string
		want   []guardCheck
		// wantDetail: phrases the detail of a check must contain; every
		// failed check must be listed (cause and way out).
		wantDetail map[string][]string
	}{
		"zfs not installed": {
			kernels: []gKernel{stock94}, kver: gEL94GA,
			want:       []guardCheck{{"zfs installed", false}},
			wantDetail: map[string][]string{"zfs installed": {"nothing to guard", "zfsinstall apply"}},
		},
		"userland without a module package": {
			pkgs: []facts.Package{gZFS}, kernels: []gKernel{stock94}, kver: gEL94GA,
			want:       []guardCheck{{"module package installed", false}},
			wantDetail: map[string][]string{"module package installed": {"neither kmod-zfs nor zfs-dkms", "zfsinstall apply"}},
		},
		"kernel not installed: nothing can be read": {
			pkgs: []facts.Package{gZFS, gKmodZFS}, kernels: []gKernel{stock94}, kver: gEL95,
			want:       []guardCheck{{"kernel installed", false}},
			wantDetail: map[string][]string{"kernel installed": {"not in the rpm database", "kernel-install plugin"}},
		},
		"kmod 9.4 on a later 9.4 z-stream with the same kABI": {
			pkgs: []facts.Package{gZFS, gKmodZFS}, kernels: []gKernel{stock94, {gEL94Later, "kernel-core", kabi94}}, kver: gEL94Later,
			onDisk: ptr(modinfo("/lib/modules/"+gEL94Later+"/weak-updates/zfs/zfs.ko", "2.2.7-1", gEL94GA)),
			want: []guardCheck{{"kmod packaging fits " + gEL94Later, true}, {"kmod-zfs 2.2.7 fits the kABI of " + gEL94Later, true}, loadChecks(gEL94Later)[0], loadChecks(gEL94Later)[1], loadChecks(gEL94Later)[2],
				{"module on disk for " + gEL94Later, true}},
		},
		// openzfs/zfs#16219: a z-stream update inside 9.4 changed a symbol
		// the kmod uses; "same minor" is not enough.
		"kmod 9.4 on the 9.4 z-stream that changed a symbol": {
			pkgs: []facts.Package{gZFS, gKmodZFS}, kernels: []gKernel{stock94, {gEL94Break, "kernel-core", kabi94Break}}, kver: gEL94Break,
			want: []guardCheck{{"kmod packaging fits " + gEL94Break, true}, {"kmod-zfs 2.2.7 fits the kABI of " + gEL94Break, false},
				loadChecks(gEL94Break)[0], loadChecks(gEL94Break)[1], loadChecks(gEL94Break)[2]},
			wantDetail: map[string][]string{"kmod-zfs 2.2.7 fits the kABI of " + gEL94Break: {
				"does not provide 1 of them", "__alloc_pages", "openzfs/zfs#16219", "packaging = \"dkms\""}},
		},
		// openzfs/zfs#16271: a minor's kmod can fit the next minor.
		"kmod 9.4 on a 9.5 kernel that kept its symbols": {
			pkgs: []facts.Package{gZFS, gKmodZFS}, kernels: []gKernel{stock94, {gEL95, "kernel-core", kabi95Same}}, kver: gEL95,
			want: []guardCheck{{"kmod packaging fits " + gEL95, true}, {"kmod-zfs 2.2.7 fits the kABI of " + gEL95, true}, loadChecks(gEL95)[0], loadChecks(gEL95)[1], loadChecks(gEL95)[2]},
		},
		// 2.1 kmods lay their modules out in extra/zfs/zfs/ (rpm/redhat
		// zfs-kmod.spec.in at zfs-2.1.16; #14724): modinfo resolves them,
		// the guard does not look for paths.
		"kmod 2.1 layout on a later z-stream": {
			pkgs:    []facts.Package{gZFS2115, {Name: "kmod-zfs", Version: "2.1.15", Release: "1.el9", Arch: "x86_64", Requires: kmodReqs}},
			kernels: []gKernel{stock94, {gEL94Later, "kernel-core", kabi94}}, kver: gEL94Later,
			onDisk: ptr(modinfo("/lib/modules/"+gEL94Later+"/weak-updates/zfs/zfs/zfs.ko", "2.1.15-1", gEL94GA)),
			want: []guardCheck{{"kmod packaging fits " + gEL94Later, true}, {"kmod-zfs 2.1.15 fits the kABI of " + gEL94Later, true}, loadChecks(gEL94Later)[0], loadChecks(gEL94Later)[1], loadChecks(gEL94Later)[2],
				{"module on disk for " + gEL94Later, true}},
		},
		"kmod on an ELRepo kernel-lt": {
			pkgs: []facts.Package{gZFS, gKmodZFS}, kernels: []gKernel{stock94, {gLT61, "kernel-lt-core", map[string]string{}}}, kver: gLT61,
			want:       []guardCheck{{"kmod packaging fits " + gLT61, false}},
			wantDetail: map[string][]string{"kmod packaging fits " + gLT61: {"ELRepo lt kernel", "Module zfs not found"}},
		},
		"kmod, the module on disk is another version": {
			pkgs: []facts.Package{gZFS, gKmodZFS}, kernels: []gKernel{stock94, {gEL94Later, "kernel-core", kabi94}}, kver: gEL94Later,
			onDisk: ptr(modinfo("/lib/modules/"+gEL94Later+"/weak-updates/zfs/zfs.ko", "2.2.6-1", gEL94GA)),
			want: []guardCheck{{"kmod packaging fits " + gEL94Later, true}, {"kmod-zfs 2.2.7 fits the kABI of " + gEL94Later, true}, loadChecks(gEL94Later)[0], loadChecks(gEL94Later)[1], loadChecks(gEL94Later)[2],
				{"module on disk for " + gEL94Later, false}},
			wantDetail: map[string][]string{"module on disk for " + gEL94Later: {"2.2.6-1 (userland 2.2.7)"}},
		},
		"dkms 2.2.7 on kernel-ml 6.15: above META's maximum": {
			pkgs: []facts.Package{gZFS, gDKMSZFS, devel("kernel-ml-devel", gML615)}, kernels: []gKernel{stock94, {gML615, "kernel-ml-core", nil}}, kver: gML615,
			want:       []guardCheck{{"OpenZFS 2.2.7 builds for " + gML615, false}, {"kernel-devel for " + gML615, true}},
			wantDetail: map[string][]string{"OpenZFS 2.2.7 builds for " + gML615: {"supports Linux 4.18 to 6.12", "2.2.8"}},
		},
		// openzfs/zfs#16746: 2.1.15 fails to build on 9.5 although 5.14 is in its range.
		"dkms 2.1.15 on EL 9.5: a known build break": {
			pkgs: []facts.Package{gZFS2115, gDKMS2115, devel("kernel-devel", gEL95)}, kernels: []gKernel{stock94, {gEL95, "kernel-core", nil}}, kver: gEL95,
			want:       []guardCheck{{"OpenZFS 2.1.15 builds for " + gEL95, false}, {"kernel-devel for " + gEL95, true}},
			wantDetail: map[string][]string{"OpenZFS 2.1.15 builds for " + gEL95: {"does not build on EL 9.5 kernels", "openzfs/zfs#16746", "2.1.16"}},
		},
		// openzfs/zfs#17364: 2.2.7 builds and loads on 9.6 with a kernel warning.
		"dkms 2.2.7 on EL 9.6: builds, warns at load": {
			pkgs: []facts.Package{gZFS, gDKMSZFS, devel("kernel-devel", gEL96)}, kernels: []gKernel{stock94, {gEL96, "kernel-core", nil}}, kver: gEL96,
			onDisk:     ptr(modinfo("/lib/modules/"+gEL96+"/extra/zfs.ko.xz", "2.2.7-1", gEL96)),
			want:       []guardCheck{{"OpenZFS 2.2.7 builds for " + gEL96, true}, {"kernel-devel for " + gEL96, true}, {"module on disk for " + gEL96, true}},
			wantDetail: map[string][]string{"OpenZFS 2.2.7 builds for " + gEL96: {"kernel warning", "openzfs/zfs#17364", "2.2.8"}},
		},
		"dkms on kernel-lt 6.1, built for it": {
			pkgs: []facts.Package{gZFS, gDKMSZFS, devel("kernel-lt-devel", gLT61)}, kernels: []gKernel{stock94, {gLT61, "kernel-lt-core", nil}}, kver: gLT61,
			onDisk: ptr(modinfo("/lib/modules/"+gLT61+"/extra/zfs.ko.xz", "2.2.7-1", gLT61)),
			want:   []guardCheck{{"OpenZFS 2.2.7 builds for " + gLT61, true}, {"kernel-devel for " + gLT61, true}, {"module on disk for " + gLT61, true}},
		},
		// weak-modules links every other kernel's extra/ into a new kernel,
		// DKMS builds included, and 40-dkms.install exits 0 on failure: a
		// module modinfo finds is not proof dkms built for the kernel.
		"dkms, the module found is another kernel's build": {
			pkgs: []facts.Package{gZFS, gDKMSZFS, devel("kernel-devel", gEL94Later)}, kernels: []gKernel{stock94, {gEL94Later, "kernel-core", nil}}, kver: gEL94Later,
			onDisk:     ptr(modinfo("/lib/modules/"+gEL94Later+"/weak-updates/zfs.ko.xz", "2.2.7-1", gEL94GA)),
			want:       []guardCheck{{"OpenZFS 2.2.7 builds for " + gEL94Later, true}, {"kernel-devel for " + gEL94Later, true}, {"module on disk for " + gEL94Later, false}},
			wantDetail: map[string][]string{"module on disk for " + gEL94Later: {"was built for " + gEL94GA, "weak-modules", "dkms autoinstall -k " + gEL94Later}},
		},
		"dkms, debug kernel with only the plain kernel-devel": {
			pkgs:    []facts.Package{gZFS, gDKMSZFS, devel("kernel-devel", gEL94GA)},
			kernels: []gKernel{stock94, {gEL94GA + "+debug", "kernel-debug-core", nil}}, kver: gEL94GA + "+debug",
			want:       []guardCheck{{"OpenZFS 2.2.7 builds for " + gEL94GA + "+debug", true}, {"kernel-devel for " + gEL94GA + "+debug", false}},
			wantDetail: map[string][]string{"kernel-devel for " + gEL94GA + "+debug": {"kernel-debug-devel-5.14.0-427.13.1.el9_4.x86_64 is not installed"}},
		},
		"dkms, no module built for the kernel": {
			pkgs: []facts.Package{gZFS, gDKMSZFS, devel("kernel-lt-devel", gLT61)}, kernels: []gKernel{stock94, {gLT61, "kernel-lt-core", nil}}, kver: gLT61,
			onDisk:     ptr(""),
			want:       []guardCheck{{"OpenZFS 2.2.7 builds for " + gLT61, true}, {"kernel-devel for " + gLT61, true}, {"module on disk for " + gLT61, false}},
			wantDetail: map[string][]string{"module on disk for " + gLT61: {"modinfo -k " + gLT61 + " zfs: none (userland 2.2.7)"}},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h := hosttest.New(t, "").Live()
			if c.onDisk != nil {
				if err := os.MkdirAll(h.Path("/lib/modules/"+c.kver), 0o755); err != nil {
					t.Fatal(err)
				}
				res := hosttest.FixtureResult{Stdout: *c.onDisk}
				if *c.onDisk == "" {
					res = hosttest.FixtureResult{Stderr: "modinfo: ERROR: Module zfs not found.\n", ExitCode: 1}
				}
				h.On("modinfo -k "+c.kver+" zfs", res)
			}
			r := Guard(context.Background(), h, guardFacts(c.pkgs, c.kernels...), c.kver)
			var got []guardCheck
			wantOK := true
			for _, w := range c.want {
				wantOK = wantOK && w.OK
			}
			for _, ck := range r.Checks {
				got = append(got, guardCheck{ck.Name, ck.OK})
				if ck.Detail == "" {
					t.Errorf("check %q has an empty detail", ck.Name)
				}
				if _, listed := c.wantDetail[ck.Name]; !ck.OK && !listed {
					t.Errorf("failed check %q has no expected detail in the case: %s", ck.Name, ck.Detail)
				}
				for _, p := range c.wantDetail[ck.Name] {
					if !strings.Contains(ck.Detail, p) {
						t.Errorf("check %q detail does not contain %q:\n%s", ck.Name, p, ck.Detail)
					}
				}
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("checks (-want +got):\n%s", diff)
			}
			if r.OK != wantOK {
				t.Errorf("Guard(%s).OK = %v, want %v", c.kver, r.OK, wantOK)
			}
		})
	}
}

func ptr(s string) *string { return &s }

// TestHoldDefault: a kernel on which ZFS would not work, which
// 20-grub.install has made the default, gives the default back to the
// newest kernel ZFS works on. grubby is a named fake here (it edits
// grubenv's saved_entry as the BLS grubby of EL8+ does); the rest is real.
func TestHoldDefault(t *testing.T) {
	good, bad := gKernel{gEL94GA, "kernel-core", kabi94}, gKernel{gEL94Break, "kernel-core", kabi94Break}
	entry := func(k string) string { return "0123456789abcdef0123456789abcdef-" + k }
	cases := map[string]struct {
		kernels     []gKernel
		defaultK    string
		grubbyFails bool
		tmpSaved    bool
		wantOK      bool
		wantSaved   string
		wantCalls   []string
		wantDetail  string
	}{
		"the broken kernel is the default: the previous one gets it back": {
			kernels: []gKernel{good, bad}, defaultK: gEL94Break, wantOK: true, wantSaved: entry(gEL94GA),
			wantCalls:  []string{"modinfo -k " + gEL94GA + " zfs", "grubby --set-default /boot/vmlinuz-" + gEL94GA},
			wantDetail: gEL94GA + " is the default boot entry again",
		},
		"a set-boot-entry tmp_saved_entry is unset too": {
			kernels: []gKernel{good, bad}, defaultK: gEL94Break, tmpSaved: true, wantOK: true, wantSaved: entry(gEL94GA),
			wantCalls: []string{"modinfo -k " + gEL94GA + " zfs", "grubby --set-default /boot/vmlinuz-" + gEL94GA, "grub2-editenv - unset tmp_saved_entry"},
		},
		"another kernel is the default: nothing to do": {
			kernels: []gKernel{good, bad}, defaultK: gEL94GA, wantOK: true, wantSaved: entry(gEL94GA),
			wantDetail: "nothing to hold back",
		},
		"no kernel with a working ZFS to fall back to": {
			kernels: []gKernel{bad}, defaultK: gEL94Break, wantSaved: entry(gEL94Break),
			wantDetail: "no other installed kernel has a working ZFS",
		},
		"grubby fails": {
			kernels: []gKernel{good, bad}, defaultK: gEL94Break, grubbyFails: true, wantSaved: entry(gEL94Break),
			wantCalls:  []string{"modinfo -k " + gEL94GA + " zfs", "grubby --set-default /boot/vmlinuz-" + gEL94GA},
			wantDetail: "set it by hand",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h := hosttest.New(t, "").Live()
			write := func(p, content string) {
				os.MkdirAll(filepath.Dir(h.Path(p)), 0o755)
				if err := os.WriteFile(h.Path(p), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			env := "# GRUB Environment Block\nsaved_entry=" + entry(c.defaultK) + "\n"
			if c.tmpSaved {
				env += "tmp_saved_entry=" + entry(c.defaultK) + "\n"
			}
			write("/boot/grub2/grubenv", env)
			write("/lib/modules/"+gEL94GA+"/modules.dep", "extra/zfs/zfs.ko: extra/zfs/spl.ko\n") // the file is not there: modinfo answers
			h.On("modinfo -k "+gEL94GA+" zfs", hosttest.FixtureResult{Stdout: modinfo("/lib/modules/"+gEL94GA+"/extra/zfs/zfs.ko", "2.2.7-1", gEL94GA)})
			h.Handle("grubby --set-default /boot/vmlinuz-", func(cmd host.Cmd) hosttest.FixtureResult { // fake grubby
				if c.grubbyFails {
					return hosttest.FixtureResult{ExitCode: 1, Stderr: "grubby: no entry for the kernel\n"}
				}
				k := strings.TrimPrefix(cmd.Argv[2], "/boot/vmlinuz-")
				write("/boot/grub2/grubenv", strings.Replace(env, "saved_entry="+entry(c.defaultK), "saved_entry="+entry(k), 1))
				return hosttest.FixtureResult{}
			})
			h.On("grub2-editenv - unset tmp_saved_entry", hosttest.FixtureResult{})
			f := guardFacts([]facts.Package{gZFS, gKmodZFS}, c.kernels...)
			f.Kernel.Default = c.defaultK

			ck := HoldDefault(context.Background(), h, f, gEL94Break)

			if ck.OK != c.wantOK || !strings.Contains(ck.Detail, c.wantDetail) {
				t.Errorf("HoldDefault = %v %q, want %v and a detail containing %q", ck.OK, ck.Detail, c.wantOK, c.wantDetail)
			}
			envAfter, _ := os.ReadFile(h.Path("/boot/grub2/grubenv"))
			if got := savedEntry(envAfter); got != c.wantSaved {
				t.Errorf("saved_entry = %q, want %q", got, c.wantSaved)
			}
			if diff := cmp.Diff(c.wantCalls, h.CallKeys()); diff != "" && len(c.wantCalls)+len(h.CallKeys()) > 0 {
				t.Errorf("commands (-want +got):\n%s", diff)
			}
		})
	}
}
