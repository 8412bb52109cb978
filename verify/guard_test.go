package verify

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host/hosttest"
)

// Kernels the guard cases are about.
const (
	gEL94GA    = "5.14.0-427.13.1.el9_4.x86_64" // the kernel the installed kmod-zfs was built for
	gEL94Later = "5.14.0-427.42.1.el9_4.x86_64" // a later z-stream kernel of EL 9.4
	gEL95      = "5.14.0-503.14.1.el9_5.x86_64" // the first kernels of EL 9.5
	gLT61      = "6.1.80-1.el9.elrepo.x86_64"   // ELRepo kernel-lt
	gML615     = "6.15.2-1.el9.elrepo.x86_64"   // ELRepo kernel-ml, above 2.2.7's Linux-Maximum 6.12
)

// guardCheck is what every guard case asserts of each check, in order.
type guardCheck struct {
	Name string
	OK   bool
}

func guardPkg(name, version, release string) facts.Package {
	return facts.Package{Name: name, Version: version, Release: release, Arch: "x86_64"}
}

// guardFacts is a Rocky 9.4 host with these packages installed; the
// installed kernels are derived from them as gather does.
func guardFacts(pkgs ...facts.Package) *facts.Facts {
	return &facts.Facts{
		FormatVersion: facts.FormatVersion,
		Root:          "/",
		Arch:          "x86_64",
		Distro: facts.Distro{
			ID: "rocky", IDLike: "rhel centos fedora", Name: "Rocky Linux 9.4 (Blue Onyx)", VersionID: "9.4",
			Major: 9, Minor: 4, Family: "el", DistTag: ".el9", Releasever: "9",
		},
		Kernel:   facts.Kernel{Running: gEL94GA, Installed: facts.InstalledKernels(pkgs)},
		Packages: pkgs,
	}
}

// Package sets.
var (
	gStockKernel = guardPkg("kernel-core", "5.14.0", "427.13.1.el9_4")
	gLater94     = guardPkg("kernel-core", "5.14.0", "427.42.1.el9_4")
	gKernel95    = guardPkg("kernel-core", "5.14.0", "503.14.1.el9_5")
	gZFS         = guardPkg("zfs", "2.2.7", "1.el9")
	gKmodZFS     = guardPkg("kmod-zfs", "2.2.7", "1.el9")
	gDKMSZFS     = facts.Package{Name: "zfs-dkms", Version: "2.2.7", Release: "1.el9", Arch: "noarch"}
	gLTCore      = guardPkg("kernel-lt-core", "6.1.80", "1.el9.elrepo")
	gLTDevel     = guardPkg("kernel-lt-devel", "6.1.80", "1.el9.elrepo")
	gMLDevel     = guardPkg("kernel-ml-devel", "6.15.2", "1.el9.elrepo")
	gKmodHost    = []facts.Package{gStockKernel, gZFS, gKmodZFS}
	gDKMSHost    = []facts.Package{gStockKernel, guardPkg("kernel-devel", "5.14.0", "427.13.1.el9_4"), gZFS, gDKMSZFS}
)

func guardWith(base []facts.Package, more ...facts.Package) []facts.Package {
	return append(append([]facts.Package(nil), base...), more...)
}

// gKmodTree holds /lib/modules/<gEL94GA>/extra/zfs/zfs.ko: kmod-zfs 2.2.7 built for EL 9.4.
const gKmodTree = "../testdata/guard/el9.4-kmod"

const gModinfoNotFound = "modinfo: ERROR: Module zfs not found.\n"

func TestGuard(t *testing.T) {
	cases := []struct {
		name string
		tree string // fixture tree; "" is an empty one
		pkgs []facts.Package
		kver string
		// onDisk makes /lib/modules/<kver> and registers the answer of
		// `modinfo -k <kver> -F version zfs` (stdout; "" = module not found).
		// Without it the directory is absent. Guard must run modinfo exactly
		// when want has a "module on disk" check.
		onDisk *string
		wantOK bool
		want   []guardCheck
		// wantDetail lists, per check name, phrases its detail must contain:
		// for a failed check, the cause and the way out. Every failed check
		// must be listed.
		wantDetail map[string][]string
	}{
		{
			name:   "userland without a module package",
			pkgs:   []facts.Package{gStockKernel, gZFS},
			kver:   gEL94Later,
			wantOK: false,
			want:   []guardCheck{{"module package installed", false}},
			wantDetail: map[string][]string{
				"module package installed": {"neither kmod-zfs nor zfs-dkms", "zfsinstall apply"},
			},
		},
		{
			name:   "dkms, debug kernel with only the plain kernel-devel",
			pkgs:   guardWith(gDKMSHost, guardPkg("kernel-debug-core", "5.14.0", "427.13.1.el9_4")),
			kver:   gEL94GA + "+debug",
			wantOK: false,
			want: []guardCheck{
				{"OpenZFS 2.2.7 supports Linux 5.14", true},
				{"kernel-devel for " + gEL94GA + "+debug", false},
			},
			wantDetail: map[string][]string{
				"OpenZFS 2.2.7 supports Linux 5.14":      {"Linux-Minimum/Maximum"},
				"kernel-devel for " + gEL94GA + "+debug": {"kernel-debug-devel-5.14.0-427.13.1.el9_4.x86_64 is not installed"},
			},
		},
		{
			name:   "kmod package without modules on disk",
			pkgs:   gKmodHost,
			kver:   gEL94Later,
			wantOK: false,
			want: []guardCheck{
				{"kmod fits kernel", true},
				{"kmod published for EL 9.4", false},
			},
			wantDetail: map[string][]string{
				"kmod published for EL 9.4": {"no kmod-zfs module found under /lib/modules/*/extra"},
			},
		},
		{
			name:   "kmod 9.4, later 9.4 z-stream kernel installed",
			tree:   gKmodTree,
			pkgs:   guardWith(gKmodHost, gLater94),
			kver:   gEL94Later,
			onDisk: guardStr("2.2.7-1\n"),
			wantOK: true,
			want: []guardCheck{
				{"kmod fits kernel", true},
				{"kmod published for EL 9.4", true},
				{"module on disk for " + gEL94Later, true},
			},
			wantDetail: map[string][]string{
				"kmod fits kernel":                 {"stock EL 9.4 kernel"},
				"kmod published for EL 9.4":        {"built for EL 9.4", "kernel " + gEL94Later + " is EL 9.4"},
				"module on disk for " + gEL94Later: {"modinfo -k " + gEL94Later + " zfs: 2.2.7-1 (userland 2.2.7)"},
			},
		},
		{
			name:   "kmod 9.4, later 9.4 z-stream kernel not installed yet",
			tree:   gKmodTree,
			pkgs:   gKmodHost,
			kver:   gEL94Later,
			wantOK: true,
			want: []guardCheck{
				{"kmod fits kernel", true},
				{"kmod published for EL 9.4", true},
			},
		},
		{
			name:   "kmod 9.4, EL 9.5 kernel not installed yet",
			tree:   gKmodTree,
			pkgs:   gKmodHost,
			kver:   gEL95,
			wantOK: false,
			want: []guardCheck{
				{"kmod fits kernel", true},
				{"kmod published for EL 9.5", false},
			},
			wantDetail: map[string][]string{
				"kmod published for EL 9.5": {
					"built for EL 9.4", "kernel " + gEL95 + " is EL 9.5", "no kmod-zfs exists for this minor yet",
					"keep booting the current kernel", "versionlock", `packaging = "dkms"`,
				},
			},
		},
		{
			// dnf has installed the 9.5 kernel and weak-modules linked the
			// 9.4 module into it: the version matches, the kABI does not.
			name:   "kmod 9.4, EL 9.5 kernel installed with the 9.4 module linked in",
			tree:   gKmodTree,
			pkgs:   guardWith(gKmodHost, gKernel95),
			kver:   gEL95,
			onDisk: guardStr("2.2.7-1\n"),
			wantOK: false,
			want: []guardCheck{
				{"kmod fits kernel", true},
				{"kmod published for EL 9.5", false},
				{"module on disk for " + gEL95, true},
			},
			wantDetail: map[string][]string{
				"kmod published for EL 9.5": {"no kmod-zfs exists for this minor yet", "versionlock"},
			},
		},
		{
			name:   "kmod on an ELRepo kernel-lt",
			tree:   gKmodTree,
			pkgs:   gKmodHost,
			kver:   gLT61,
			wantOK: false,
			want:   []guardCheck{{"kmod fits kernel", false}},
			wantDetail: map[string][]string{
				"kmod fits kernel": {"ELRepo lt kernel", "distribution's kernel ABI", "Module zfs not found in directory /lib/modules/" + gLT61},
			},
		},
		{
			// Installed, so /lib/modules/<kver> exists: Guard stops at the
			// kmod check and does not ask modinfo.
			name:   "kmod on an installed ELRepo kernel-lt",
			tree:   gKmodTree,
			pkgs:   guardWith(gKmodHost, gLTCore),
			kver:   gLT61,
			onDisk: guardStr(""),
			wantOK: false,
			want:   []guardCheck{{"kmod fits kernel", false}},
			wantDetail: map[string][]string{
				"kmod fits kernel": {"ELRepo lt kernel", "Module zfs not found"},
			},
		},
		{
			name:   "dkms 2.2.7 on kernel-ml 6.15 without its devel",
			pkgs:   gDKMSHost,
			kver:   gML615,
			wantOK: false,
			want: []guardCheck{
				{"OpenZFS 2.2.7 supports Linux 6.15", false},
				{"kernel-devel for " + gML615, false},
			},
			wantDetail: map[string][]string{
				"OpenZFS 2.2.7 supports Linux 6.15": {
					"supports Linux 4.18 to 6.12", "Linux 6.15", "a DKMS build would fail",
					"releases from 2.2.8 (newest 2.4.4) support it", `zfs.repo = "2.4"`,
				},
				"kernel-devel for " + gML615: {"dkms cannot build", "kernel-devel-uname-r = " + gML615},
			},
		},
		{
			name:   "dkms 2.2.7 on kernel-ml 6.15 with kernel-ml-devel",
			pkgs:   guardWith(gDKMSHost, gMLDevel),
			kver:   gML615,
			wantOK: false,
			want: []guardCheck{
				{"OpenZFS 2.2.7 supports Linux 6.15", false},
				{"kernel-devel for " + gML615, true},
			},
			wantDetail: map[string][]string{
				"OpenZFS 2.2.7 supports Linux 6.15": {"supports Linux 4.18 to 6.12", "releases from 2.2.8 (newest 2.4.4) support it"},
			},
		},
		{
			name:   "dkms 2.2.7 on kernel-lt 6.1 with kernel-lt-devel, not installed yet",
			pkgs:   guardWith(gDKMSHost, gLTDevel),
			kver:   gLT61,
			wantOK: true,
			want: []guardCheck{
				{"OpenZFS 2.2.7 supports Linux 6.1", true},
				{"kernel-devel for " + gLT61, true},
			},
			wantDetail: map[string][]string{
				"OpenZFS 2.2.7 supports Linux 6.1": {"within the release's Linux-Minimum/Maximum"},
				"kernel-devel for " + gLT61:        {"installed: dkms can build"},
			},
		},
		{
			name:   "dkms 2.2.7 on kernel-lt 6.1 with kernel-lt-devel, installed and built",
			pkgs:   guardWith(gDKMSHost, gLTCore, gLTDevel),
			kver:   gLT61,
			onDisk: guardStr("2.2.7-1\n"),
			wantOK: true,
			want: []guardCheck{
				{"OpenZFS 2.2.7 supports Linux 6.1", true},
				{"kernel-devel for " + gLT61, true},
				{"module on disk for " + gLT61, true},
			},
		},
		{
			name:   "dkms 2.2.7 on kernel-lt 6.1 without kernel-lt-devel",
			pkgs:   gDKMSHost,
			kver:   gLT61,
			wantOK: false,
			want: []guardCheck{
				{"OpenZFS 2.2.7 supports Linux 6.1", true},
				{"kernel-devel for " + gLT61, false},
			},
			wantDetail: map[string][]string{
				"kernel-devel for " + gLT61: {"not installed", "dkms cannot build", "kernel-lt-devel-" + gLT61 + " is not installed", "kernel-devel-uname-r = " + gLT61},
			},
		},
		{
			// The kernel is installed but dkms did not build (no devel):
			// modinfo finds nothing.
			name:   "dkms 2.2.7 on installed kernel-lt 6.1 without devel, nothing built",
			pkgs:   guardWith(gDKMSHost, gLTCore),
			kver:   gLT61,
			onDisk: guardStr(""),
			wantOK: false,
			want: []guardCheck{
				{"OpenZFS 2.2.7 supports Linux 6.1", true},
				{"kernel-devel for " + gLT61, false},
				{"module on disk for " + gLT61, false},
			},
			wantDetail: map[string][]string{
				"kernel-devel for " + gLT61:   {"kernel-devel-uname-r = " + gLT61},
				"module on disk for " + gLT61: {"modinfo -k " + gLT61 + " zfs: none (userland 2.2.7)"},
			},
		},
		{
			name:   "zfs not installed",
			tree:   gKmodTree,
			pkgs:   []facts.Package{gStockKernel, gLater94},
			kver:   gEL94Later,
			wantOK: false,
			want:   []guardCheck{{"zfs installed", false}},
			wantDetail: map[string][]string{
				"zfs installed": {"zfs is not installed", "nothing to guard", "zfsinstall apply"},
			},
		},
		{
			// kmod-zfs is 2.2.7 but the module modinfo resolves for the
			// target kernel is a 2.2.6 left behind (a stale weak-updates link).
			name:   "kmod, module on disk for the kernel is the wrong version",
			tree:   gKmodTree,
			pkgs:   guardWith(gKmodHost, gLater94),
			kver:   gEL94Later,
			onDisk: guardStr("2.2.6-1\n"),
			wantOK: false,
			want: []guardCheck{
				{"kmod fits kernel", true},
				{"kmod published for EL 9.4", true},
				{"module on disk for " + gEL94Later, false},
			},
			wantDetail: map[string][]string{
				"module on disk for " + gEL94Later: {"modinfo -k " + gEL94Later + " zfs: 2.2.6-1 (userland 2.2.7)"},
			},
		},
		{
			name:   "dkms, module on disk for the kernel is the wrong version",
			pkgs:   guardWith(gDKMSHost, gLTCore, gLTDevel),
			kver:   gLT61,
			onDisk: guardStr("2.2.6-1\n"),
			wantOK: false,
			want: []guardCheck{
				{"OpenZFS 2.2.7 supports Linux 6.1", true},
				{"kernel-devel for " + gLT61, true},
				{"module on disk for " + gLT61, false},
			},
			wantDetail: map[string][]string{
				"module on disk for " + gLT61: {"2.2.6-1 (userland 2.2.7)"},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := hosttest.New(t, c.tree).Live()
			modinfo := "modinfo -k " + c.kver + " -F version zfs"
			var wantCalls []string
			if c.onDisk != nil {
				if err := os.MkdirAll(h.Path("/lib/modules/"+c.kver+"/kernel"), 0o755); err != nil {
					t.Fatal(err)
				}
				res := hosttest.FixtureResult{Stdout: *c.onDisk}
				if *c.onDisk == "" {
					res = hosttest.FixtureResult{Stderr: gModinfoNotFound, ExitCode: 1}
				}
				h.On(modinfo, res)
			}
			for _, w := range c.want {
				if strings.HasPrefix(w.Name, "module on disk for ") {
					wantCalls = append(wantCalls, modinfo)
				}
			}
			f := guardFacts(c.pkgs...)

			r := Guard(context.Background(), h, f, c.kver)

			if r.OK != c.wantOK {
				t.Errorf("Guard(%s).OK = %v, want %v", c.kver, r.OK, c.wantOK)
			}
			var got []guardCheck
			for _, ck := range r.Checks {
				got = append(got, guardCheck{ck.Name, ck.OK})
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("checks (-want +got):\n%s", diff)
			}
			for _, ck := range r.Checks {
				phrases, listed := c.wantDetail[ck.Name]
				if !ck.OK && !listed {
					t.Errorf("failed check %q has no expected detail in the case: %s", ck.Name, ck.Detail)
				}
				if ck.Detail == "" {
					t.Errorf("check %q has an empty detail", ck.Name)
				}
				for _, p := range phrases {
					if !strings.Contains(ck.Detail, p) {
						t.Errorf("check %q detail does not contain %q:\n%s", ck.Name, p, ck.Detail)
					}
				}
			}
			for name := range c.wantDetail {
				found := false
				for _, ck := range r.Checks {
					found = found || ck.Name == name
				}
				if !found {
					t.Errorf("wantDetail names check %q, which Guard did not make", name)
				}
			}
			if diff := cmp.Diff(wantCalls, h.CallKeys(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("commands run (-want +got):\n%s", diff)
			}
		})
	}
}

func guardStr(s string) *string { return &s }
