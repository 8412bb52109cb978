package testbed

import (
	"compress/gzip"
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The models of issue 10: each test shows, with plain dnf, rpm, modinfo and the bed's dkms, a
// failure (or a success) administrators met, the way they met it.

// kmodRoot is a Rocky 9.4 root with the given packages, zfs-release installed from its file and
// the OpenZFS key imported; zfs-kmod is enabled and zfs disabled, as for a kmod install.
func kmodRoot(t *testing.T, p *Packages, install ...string) *Root {
	t.Helper()
	r := NewRoot(t, p, install...)
	r.DNF(t, "install", p.ZFSRelease)
	r.ImportKey(t, "/etc/pki/rpm-gpg/RPM-GPG-KEY-openzfs-el-9")
	r.DNF(t, "config-manager", "--disable", "zfs")
	r.DNF(t, "config-manager", "--enable", "zfs-kmod")
	return r
}

// dkmsRootFor is a root with the given packages, epel-release and zfs-release, both keys imported.
func dkmsRootFor(t *testing.T, p *Packages, install ...string) *Root {
	t.Helper()
	r := NewRoot(t, p, append(append([]string{}, install...), "epel-release", p.ZFSRelease)...)
	r.ImportKey(t, "/etc/pki/rpm-gpg/RPM-GPG-KEY-openzfs-el-9")
	r.ImportKey(t, "/etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-9")
	return r
}

// dnfPlan returns the packages a dnf transaction summary lists under "Installing:" and
// "Installing dependencies:" as "name version repo" lines.
func dnfPlan(out string) []string {
	var l []string
	in := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "Installing"):
			in = true
			continue
		case strings.HasPrefix(line, "Transaction Summary"), strings.HasPrefix(line, "Upgrading"):
			in = false
		}
		if f := strings.Fields(line); in && len(f) >= 4 {
			l = append(l, f[0]+" "+f[2]+" "+f[3])
		}
	}
	return l
}

// Model 1 (openzfs/zfs#16219): kmod-zfs-2.1.15-2, built for 5.14.0-427.13.1.el9_4, does not fit
// the later 9.4 z-stream kernel 427.16.1. dnf installs it (the older kernel still provides its
// symbols), the kernel update's weak-modules links nothing, and on 427.16.1 "modinfo: ERROR:
// Module zfs not found." -- the report's own words.
func TestModelZStreamBreaksKmod(t *testing.T) {
	t.Parallel()
	p := Build(t)
	var r *Root
	timed(t, "NewRoot 9.4 GA kernel + kmod-zfs-2.1.15", func() {
		r = kmodRoot(t, p, "kernel-5.14.0-427.13.1.el9_4")
		r.DNF(t, "install", "kmod-zfs-2.1.15")
	})
	need := "kernel(write_cache_pages) = " + citedCRCs["write_cache_pages"]
	mustContain(t, "rpm -q --requires kmod-zfs", r.RPM(t, "-q", "--requires", "kmod-zfs"), need, "kernel(__alloc_pages) = "+citedCRCs["__alloc_pages"])
	var out string
	timed(t, "dnf install kernel-5.14.0-427.16.1.el9_4 (the z-stream update)", func() {
		out = r.DNF(t, "install", "kernel-5.14.0-427.16.1.el9_4")
	})
	if strings.Contains(out, "kmod-zfs") {
		t.Errorf("the kernel update touched kmod-zfs:\n%s", out)
	}
	// Same minor, other kABI: the new kernel-core lacks one CRC the kmod requires.
	provides := r.RPM(t, "-q", "--provides", "kernel-core-5.14.0-427.16.1.el9_4")
	if strings.Contains(provides, need) {
		t.Errorf("kernel-core 427.16.1 provides %q:\n%s", need, provides)
	}
	mustContain(t, "provides of 427.16.1", provides, "kernel(write_cache_pages) = 0x", "kernel(__alloc_pages) = 0x", "kernel(module_layout) = 0x")
	if strings.Contains(provides, "kernel(__alloc_pages) = "+citedCRCs["__alloc_pages"]) {
		t.Errorf("427.16.1 provides 427.13.1's __alloc_pages CRC")
	}
	// rpm -q --whatprovides takes a name only ("no package provides NAME = CRC"); dnf
	// repoquery takes the versioned dependency.
	if got := r.DNF(t, "repoquery", "-q", "--installed", "--whatprovides", need); got != "kernel-core-0:5.14.0-427.13.1.el9_4.x86_64\n" {
		t.Errorf("installed providers of %s = %q, want the 427.13.1 kernel-core only", need, got)
	}
	mustContain(t, "weak-modules.log", r.ReadFile(t, "/var/lib/zfs-test/weak-modules.log"),
		"weak-modules --add-kernel "+Kernel94Z,
		Kernel94Z+": /lib/modules/"+Kernel94+"/extra/zfs/zfs/zfs.ko not compatible: disagrees about version of symbol ")
	if r.Exists("/lib/modules/" + Kernel94Z + "/weak-updates/zfs") {
		t.Errorf("weak-modules linked the kmod into %s", Kernel94Z)
	}
	if v, err := r.TryModinfo(Kernel94, "version", "zfs"); err != nil || v != "2.1.15-2" {
		t.Errorf("modinfo -k %s = %q, %v; want 2.1.15-2", Kernel94, v, err)
	}
	v, err := r.TryModinfo(Kernel94Z, "version", "zfs")
	if err == nil {
		t.Fatalf("modinfo -k %s found zfs %q", Kernel94Z, v)
	}
	mustContain(t, "modinfo on the z-stream kernel", v, "modinfo: ERROR: Module zfs not found.")
}

// Model 2 (the openzfs/zfs#16271 case, 8.9 kmods on 8.10, here on EL9 names with the synthetic
// Kernel95Fit): a kernel of the next minor that provides every CRC the kmod requires. dnf
// installs the kmod without another kernel and weak-modules links it: modinfo finds it.
func TestModelNextMinorKernelFits(t *testing.T) {
	t.Parallel()
	p := Build(t)
	var r *Root
	timed(t, "NewRoot with only "+Kernel95Fit+" (from its RPM files)", func() {
		r = kmodRoot(t, p, p.KernelRPMs(t, Kernel95Fit)...)
	})
	out, err := r.TryDNF("--assumeno", "install", "kmod-zfs-2.2.8")
	if err == nil || !strings.Contains(out, "Operation aborted") {
		t.Fatalf("dnf --assumeno: %v\n%s", err, out)
	}
	plan := strings.Join(dnfPlan(out), "\n")
	mustContain(t, "plan", plan, "kmod-zfs 2.2.8-1.el9 zfs-kmod", "zfs 2.2.8-1.el9 zfs-kmod")
	if strings.Contains(plan, "kernel") {
		t.Errorf("dnf wants another kernel for the kmod although %s provides its symbols:\n%s", Kernel95Fit, plan)
	}
	timed(t, "dnf install kmod-zfs-2.2.8", func() { r.DNF(t, "install", "kmod-zfs-2.2.8") })
	mustContain(t, "weak-modules.log", r.ReadFile(t, "/var/lib/zfs-test/weak-modules.log"),
		Kernel95Fit+": linked weak-updates/zfs/zfs.ko -> /lib/modules/"+Kernel94+"/extra/zfs/zfs.ko")
	f, err := r.TryModinfo(Kernel95Fit, "filename", "zfs")
	if err != nil || f != filepath.Join(r.Dir, "lib/modules", Kernel95Fit, "weak-updates/zfs/zfs.ko") {
		t.Errorf("modinfo -k %s -F filename zfs = %q, %v", Kernel95Fit, f, err)
	}
	if v, err := r.TryModinfo(Kernel95Fit, "version", "zfs"); err != nil || v != "2.2.8-1" {
		t.Errorf("modinfo -k %s -F version zfs = %q, %v", Kernel95Fit, v, err)
	}
	// Every kernel(SYMBOL) = CRC the kmod requires (generated from its real modules) is provided
	// by the 9.5 kernel-core, module_layout included.
	provides := r.RPM(t, "-q", "--provides", "kernel-core-5.14.0-503.999.1.el9_5")
	n := 0
	for _, req := range strings.Split(r.RPM(t, "-q", "--requires", "kmod-zfs"), "\n") {
		if strings.HasPrefix(req, "kernel(") {
			n++
			mustContain(t, "provides of "+Kernel95Fit, provides, req+"\n")
		}
	}
	if n < 50 {
		t.Errorf("kmod-zfs requires %d kernel symbols, want the realistic set (>= 50)", n)
	}
}

// Model 3 (openzfs/zfs#17987): the newest installed kernel does not provide the kmod's
// symbols, an older kernel-core in the repositories does, so `dnf install kmod-zfs` resolves by
// installing that OLDER kernel-core.
func TestModelKmodPullsOlderKernel(t *testing.T) {
	t.Parallel()
	p := Build(t)
	var r *Root
	timed(t, "NewRoot with only the z-stream kernel 427.16.1", func() { r = kmodRoot(t, p, "kernel-5.14.0-427.16.1.el9_4") })
	out, err := r.TryDNF("--assumeno", "install", "kmod-zfs")
	if err == nil || !strings.Contains(out, "Operation aborted") {
		t.Fatalf("dnf --assumeno: %v\n%s", err, out)
	}
	t.Logf("dnf --assumeno install kmod-zfs:\n%s", out)
	plan := dnfPlan(out)
	want := "kernel-core 5.14.0-427.13.1.el9_4 baseos"
	if !contains(plan, want) {
		t.Errorf("plan %q lacks %q", plan, want)
	}
	if got := r.RPM(t, "-q", "kernel-core"); strings.TrimSpace(got) != "kernel-core-5.14.0-427.16.1.el9_4.x86_64" {
		t.Errorf("installed kernel-core = %q, want only 427.16.1 (the newer one)", got)
	}
}

// Model 4: an ELRepo-only host (kernel-lt, no stock kernel-core). zfs-dkms 2.2.8 requires
// kernel-uname-r in [4.18, 6.15.999] (rpm/generic/zfs-dkms.spec.in at zfs-2.2.8); kernel-lt-core
// provides kernel-lt-uname-r instead (kernel-lt-6.1.spec), so dnf pulls a stock kernel-core nobody
// asked for. zfs-dkms 2.2.7 has no such requirement.
func TestModelELRepoHostPullsStockKernel(t *testing.T) {
	t.Parallel()
	p := Build(t)
	var r *Root
	timed(t, "NewRoot with kernel-lt and its headers only", func() {
		r = dkmsRootFor(t, p, "kernel-lt-6.1.80-1.el9.elrepo", "kernel-lt-devel-6.1.80-1.el9.elrepo")
	})
	ltProvides := r.RPM(t, "-q", "--provides", "kernel-lt-core")
	mustContain(t, "kernel-lt-core provides", ltProvides, "kernel-lt-uname-r = "+KernelLT)
	for _, line := range strings.Split(ltProvides, "\n") {
		if strings.HasPrefix(line, "kernel-uname-r") {
			t.Errorf("kernel-lt-core provides %q", line)
		}
	}
	mustContain(t, "zfs-dkms 2.2.8 requires", r.DNF(t, "repoquery", "-q", "--requires", "zfs-dkms-2.2.8"),
		"kernel-uname-r <= 6.15.999", "kernel-uname-r >= 4.18")

	out, _ := r.TryDNF("--assumeno", "install", "zfs-dkms-2.2.8")
	t.Logf("dnf --assumeno install zfs-dkms-2.2.8:\n%s", out)
	plan := strings.Join(dnfPlan(out), "\n")
	if !regexp.MustCompile(`(?m)^kernel-core 5\.14\.0-\S+ baseos$`).MatchString(plan) {
		t.Errorf("zfs-dkms 2.2.8 on an ELRepo-only host: dnf does not pull a stock kernel-core:\n%s", plan)
	}
	out, _ = r.TryDNF("--assumeno", "install", "zfs-dkms-2.2.7")
	if plan := strings.Join(dnfPlan(out), "\n"); strings.Contains(plan, "kernel-core ") {
		t.Errorf("zfs-dkms 2.2.7 pulls a stock kernel-core:\n%s", plan)
	}
}

// Model 5 (openzfs/zfs#17349, #17448): on the stock 9.6 kernel 5.14.0-570.17.1.el9_6, inside
// META's range 3.10 - 6.7, zfs-dkms 2.1.16's build fails with the configure error the reports
// show; 2.2.8 builds. The failing pairs are dkmsBuildFailures in catalog.go.
func TestModelDKMSFailsOnEL96(t *testing.T) {
	t.Parallel()
	p := Build(t)
	var r *Root
	timed(t, "NewRoot 9.6 kernel + headers + zfs-dkms-2.1.16", func() {
		r = dkmsRootFor(t, p, "kernel-5.14.0-570.17.1.el9_6", "kernel-devel-matched-5.14.0-570.17.1.el9_6")
		r.DNF(t, "install", "zfs-"+ZFS21DKMS, "zfs-dkms-"+ZFS21DKMS)
	})
	mustContain(t, "META", r.ReadFile(t, "/usr/src/zfs-2.1.16/META"), "Linux-Maximum: 6.7", "Linux-Minimum: 3.10")
	out, err := r.TryChroot("dkms", "install", "-m", "zfs", "-v", ZFS21DKMS, "-k", Kernel96)
	if ExitCode(err) != 10 {
		t.Fatalf("dkms install 2.1.16 on 9.6: exit %d, want 10\n%s", ExitCode(err), out)
	}
	mustContain(t, "dkms output", out, "Bad return status for module build on kernel: "+Kernel96+" (x86_64)",
		"Consult /var/lib/dkms/zfs/2.1.16/build/make.log")
	mustContain(t, "make.log", r.ReadFile(t, "/var/lib/dkms/zfs/2.1.16/build/make.log"),
		`*** None of the expected "blk_queue_max_hw_sectors" interfaces were detected.`,
		"*** ZFS Version: zfs-2.1.16-1", "*** Compatible Kernels: 3.10 - 6.7")
	if _, err := r.TryModinfo(Kernel96, "version", "zfs"); err == nil {
		t.Error("modinfo finds zfs after the failed build")
	}
	timed(t, "dnf upgrade to 2.2.8 + dkms install", func() {
		r.DNF(t, "upgrade", "zfs-"+ZFSNew, "zfs-dkms-"+ZFSNew)
		r.Chroot(t, "dkms", "install", "-m", "zfs", "-v", ZFSNew, "-k", Kernel96)
	})
	if v, err := r.TryModinfo(Kernel96, "version", "zfs"); err != nil || v != ZFSNew+"-1" {
		t.Errorf("modinfo -k %s after 2.2.8 = %q, %v", Kernel96, v, err)
	}
	if st := r.Chroot(t, "dkms", "status"); st != "zfs/"+ZFSNew+", "+Kernel96+", x86_64: installed\n" {
		t.Errorf("dkms status = %q (2.2.8's %%pre removes 2.1.16)", st)
	}
}

// Model 5 as met in #16746 (there 2.1.15 from 9.4 to 9.5): zfs-dkms 2.1.16 works on 9.4, then
// the kernel update to 9.6 runs DKMS's kernel-install plugin, whose autoinstall fails; dnf
// reports a posttrans error and still succeeds, and the new kernel has no zfs.
func TestModelKernelUpdateBreaksDKMS(t *testing.T) {
	t.Parallel()
	p := Build(t)
	var r *Root
	timed(t, "NewRoot 9.4 + headers + zfs-dkms-2.1.16 built for 9.4", func() {
		r = dkmsRootFor(t, p, "kernel-5.14.0-427.13.1.el9_4", "kernel-devel-matched-5.14.0-427.13.1.el9_4")
		r.DNF(t, "install", "zfs-"+ZFS21DKMS, "zfs-dkms-"+ZFS21DKMS)
		r.Chroot(t, "dkms", "install", "-m", "zfs", "-v", ZFS21DKMS, "-k", Kernel94)
	})
	var out string
	timed(t, "dnf install the 9.6 kernel and headers", func() {
		out = r.DNF(t, "install", "kernel-5.14.0-570.17.1.el9_6", "kernel-devel-matched-5.14.0-570.17.1.el9_6")
	})
	mustContain(t, "dnf output", out, "Error! Bad return status for module build on kernel: "+Kernel96+" (x86_64)",
		"Error! One or more modules failed to install during autoinstall.",
		"%posttrans(kernel-core-5.14.0-570.17.1.el9_6.x86_64) scriptlet failed, exit status 11",
		"Error in POSTTRANS scriptlet in rpm package kernel-core", "Complete!")
	// systemd 252's kernel-install stops at the first plugin that fails and exits with its
	// status ([ $err -ne 0 ] && exit $err): 50-depmod.install, after 40-dkms.install, never ran.
	if r.Exists("/lib/modules/" + Kernel96 + "/modules.dep.bin") {
		t.Error("depmod ran for the 9.6 kernel although 40-dkms.install failed before 50-depmod.install")
	}
	if _, err := r.TryModinfo(Kernel96, "version", "zfs"); err == nil {
		t.Error("the 9.6 kernel has zfs")
	}
	if v, err := r.TryModinfo(Kernel94, "version", "zfs"); err != nil || v != "2.1.16-1" {
		t.Errorf("modinfo -k %s = %q, %v", Kernel94, v, err)
	}
}

// The other row of the failure table (openzfs/zfs#16746): zfs-dkms 2.1.15 on a 9.5 kernel, added
// to the mirror for this test (it changes the shared mirror: not parallel).
func TestModelDKMSFailureTable2115(t *testing.T) {
	p := Build(t)
	p.AddSigned(t, "zfs", "openzfs", "zfs-dkms", "zfs_version=2.1.15", "zfs_release=3", "kmin=3.10", "kmax=6.7")
	r := dkmsRootFor(t, p, "kernel-5.14.0-503.14.1.el9_5", "kernel-devel-matched-5.14.0-503.14.1.el9_5")
	r.DNF(t, "install", "zfs-dkms-2.1.15")
	out, err := r.TryChroot("dkms", "install", "-m", "zfs", "-v", "2.1.15", "-k", Kernel95)
	if ExitCode(err) != 10 {
		t.Fatalf("dkms install 2.1.15 on 9.5: exit %d, want 10\n%s", ExitCode(err), out)
	}
	mustContain(t, "make.log", r.ReadFile(t, "/var/lib/dkms/zfs/2.1.15/build/make.log"),
		`*** None of the expected "blkdev_get_by_path()" interfaces were detected.`, "*** Compatible Kernels: 3.10 - 6.7")
}

// Model 6: zfs-dkms's real scriptlets (rpm/generic/zfs-dkms.spec.in at zfs-2.2.7) and EPEL dkms
// 3.2.0's settings: %post builds for the running kernel, modprobe_on_install loads what
// modules-load.d lists, post_transaction regenerates every initramfs, an upgrade's %pre removes
// the old version from all kernels, and a new kernel gets zfs built by 40-dkms.install.
func TestModelDKMSScriptlets(t *testing.T) {
	t.Parallel()
	p := Build(t)
	var r *Root
	timed(t, "NewRoot 9.4 + headers", func() {
		r = dkmsRootFor(t, p, "kernel-5.14.0-427.13.1.el9_4", "kernel-devel-matched-5.14.0-427.13.1.el9_4")
	})
	r.SetRunningKernel(t, Kernel94)
	// What an installer writes so that zfs loads at boot.
	if err := os.MkdirAll(filepath.Join(r.Dir, "etc/modules-load.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.Dir, "etc/modules-load.d/zfs.conf"), []byte("zfs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out string
	timed(t, "dnf install zfs-2.2.7 zfs-dkms-2.2.7", func() { out = r.DNF(t, "install", "zfs-2.2.7", "zfs-dkms-2.2.7") })
	mustContain(t, "dnf output", out, "Installing zfs dkms modules version 2.2.7 for the current kernel.")
	mustContain(t, "framework.conf", r.ReadFile(t, "/etc/dkms/framework.conf"),
		"\nmodprobe_on_install=\"true\"\n", "\npost_transaction=\"dracut --regenerate-all --force\"\n")
	// %post's dkms install without -k built for the running kernel (uname -r in the root).
	if st := r.Chroot(t, "dkms", "status"); st != "zfs/2.2.7, "+Kernel94+", x86_64: installed\n" {
		t.Errorf("dkms status after %%post = %q", st)
	}
	// modprobe_on_install (dkms 3.0.10 honours it): modprobe of the devices' modaliases, which
	// the bed's modprobe turns into a dry run and records.
	mustContain(t, "modprobe.log", r.ReadFile(t, "/var/lib/zfs-test/modprobe.log"), "modprobe -a -b -q")

	// An upgrade: 2.2.8's %pre removes 2.2.7 from all kernels, its %post installs 2.2.8.
	timed(t, "dnf upgrade zfs zfs-dkms", func() { out = r.DNF(t, "upgrade", "zfs", "zfs-dkms") })
	mustContain(t, "upgrade output", out, "Removing old zfs dkms modules version 2.2.7 from all kernels.",
		"This is an upgrade. Skipping pre uninstall action.")
	if st := r.Chroot(t, "dkms", "status"); st != "zfs/2.2.8, "+Kernel94+", x86_64: installed\n" {
		t.Errorf("dkms status after the upgrade = %q", st)
	}

	// A new kernel: kernel-core's posttrans runs kernel-install, whose 40-dkms.install builds
	// zfs for it, then 50-depmod.install indexes it.
	timed(t, "dnf install the 427.16.1 kernel and its headers", func() {
		r.DNF(t, "install", "kernel-5.14.0-427.16.1.el9_4", "kernel-devel-matched-5.14.0-427.16.1.el9_4")
	})
	mustContain(t, "dkms status", r.Chroot(t, "dkms", "status"), "zfs/2.2.8, "+Kernel94Z+", x86_64: installed")
	if v, err := r.TryModinfo(Kernel94Z, "version", "zfs"); err != nil || v != "2.2.8-1" {
		t.Errorf("modinfo -k %s = %q, %v", Kernel94Z, v, err)
	}

	// Erase: %preun removes the module from every kernel.
	timed(t, "dnf remove zfs-dkms", func() { out = r.DNF(t, "remove", "zfs-dkms") })
	mustContain(t, "remove output", out, "Removing zfs dkms modules version 2.2.8 from all kernels.")
	// clean_requirements_on_remove=True took dkms along: what is left is what %preun did.
	if r.Exists("/var/lib/dkms/zfs") || r.Exists("/lib/modules/"+Kernel94+"/extra/zfs.ko") {
		t.Error("zfs is still in the DKMS tree or /lib/modules after dnf remove zfs-dkms")
	}
}

// dkms 3.0.13 (the older EPEL build the bed keeps): the kernel-install plugin is in /etc and
// runs autoinstall; no post_transaction; framework.conf as upstream ships it.
func TestModelDKMSOld(t *testing.T) {
	t.Parallel()
	p := Build(t)
	r := dkmsRootFor(t, p, "kernel-5.14.0-427.13.1.el9_4", "kernel-devel-matched-5.14.0-427.13.1.el9_4")
	r.DNF(t, "install", "dkms-"+DKMSOld, "zfs-2.2.8", "zfs-dkms-2.2.8")
	// The package is EPEL's 3.0.13; what runs is Debian's dkms 3.0.10 (the bed's dkms).
	if got := strings.TrimSpace(r.Chroot(t, "dkms", "--version")); got != "dkms-3.0.10" {
		t.Errorf("dkms --version = %q", got)
	}
	if !r.Exists("/etc/kernel/install.d/40-dkms.install") || r.Exists("/usr/lib/kernel/install.d/40-dkms.install") {
		t.Error("dkms 3.0.13's kernel-install plugin is not in /etc/kernel/install.d")
	}
	r.Chroot(t, "dkms", "install", "-m", "zfs", "-v", "2.2.8", "-k", Kernel94)
	r.DNF(t, "install", "kernel-5.14.0-427.16.1.el9_4", "kernel-devel-matched-5.14.0-427.16.1.el9_4")
	// /etc/kernel/install.d/40-dkms.install -> postinst.d/dkms -> dkms_autoinstaller built it.
	mustContain(t, "dkms status", r.Chroot(t, "dkms", "status"), "zfs/2.2.8, "+Kernel94Z+", x86_64: installed")
	if r.Exists("/var/lib/zfs-test/modprobe.log") {
		t.Errorf("modprobe_on_install ran with 3.0.13's framework.conf:\n%s", r.ReadFile(t, "/var/lib/zfs-test/modprobe.log"))
	}
	// dkms 3.0.10 has no kernel_postinst action (3.2.0's plugin calls it; the bed's runs
	// autoinstall instead, specs/files/40-dkms.install-3.2).
	if out, err := r.TryChroot("dkms", "kernel_postinst", "--kernelver", Kernel94); strings.Contains(out, "Building module") {
		t.Errorf("dkms 3.0.10 kernel_postinst built something (exit %d):\n%s", ExitCode(err), out)
	}
}

// Model 7: kmod-zfs 2.1 puts each module in its own directory (extra/zfs/zfs/zfs.ko,
// rpm/redhat/zfs-kmod.spec.in at zfs-2.1.15); a check that only knows 2.2's extra/zfs/zfs.ko
// finds nothing.
func TestModelKmod21Layout(t *testing.T) {
	t.Parallel()
	p := Build(t)
	r := kmodRoot(t, p, "kernel-5.14.0-427.13.1.el9_4")
	r.DNF(t, "install", "kmod-zfs-"+ZFS21)
	files := r.RPM(t, "-ql", "kmod-zfs")
	for _, m := range kmod21Modules {
		mustContain(t, "rpm -ql kmod-zfs", files, "/lib/modules/"+Kernel94+"/extra/zfs/"+m+".ko\n")
	}
	if r.Exists("/lib/modules/" + Kernel94 + "/extra/zfs/zfs.ko") {
		t.Error("2.2's path exists for a 2.1 kmod")
	}
	f, err := r.TryModinfo(Kernel94, "filename", "zfs")
	if err != nil || f != filepath.Join(r.Dir, "lib/modules", Kernel94, "extra/zfs/zfs/zfs.ko") {
		t.Errorf("modinfo filename = %q, %v", f, err)
	}
	if d, _ := r.TryModinfo(Kernel94, "depends", "zfs"); !strings.Contains(d, "znvpair") {
		t.Errorf("modinfo depends = %q", d)
	}
	// An upgrade to 2.2 moves the modules.
	r.DNF(t, "install", "kmod-zfs-"+ZFSNew)
	if f, err := r.TryModinfo(Kernel94, "filename", "zfs"); err != nil || f != filepath.Join(r.Dir, "lib/modules", Kernel94, "extra/zfs/zfs.ko") {
		t.Errorf("modinfo filename after the upgrade = %q, %v", f, err)
	}
}

// Model 8: an aarch64 root (openzfs/zfs#13266, #14511, #11089, #12463: OpenZFS publishes EL
// packages for x86_64 only). The rpm database says aarch64; dnf resolves $basearch to aarch64
// from the root's dnf.conf; Rocky and EPEL have aarch64 trees, OpenZFS none.
func TestModelAarch64Root(t *testing.T) {
	t.Parallel()
	p := Build(t)
	var r *Root
	timed(t, "NewRootArch aarch64", func() { r = NewRootArch(t, p, "aarch64", "kernel-5.14.0-427.13.1.el9_4") })
	if got := r.RPM(t, "-q", "--qf", "%{ARCH}\n", "kernel-core", "bash", "kmod"); got != "aarch64\naarch64\naarch64\n" {
		t.Errorf("architectures in the rpm database = %q", got)
	}
	if !r.Exists("/lib/modules/" + Kernel94Aarch64 + "/vmlinuz") {
		t.Errorf("no /lib/modules/%s", Kernel94Aarch64)
	}
	mustContain(t, "repolist", r.DNF(t, "repolist", "-v", "baseos"), "/rocky/9/BaseOS/aarch64/os/")
	r.AddKernels(t, 1) // filler kernels take the root's architecture
	if got := r.RPM(t, "-q", "--qf", "%{ARCH}\n", "kernel-core-5.14.0-427.0.1.el9_4"); got != "aarch64\n" {
		t.Errorf("extra kernel's architecture = %q", got)
	}
	r.DNF(t, "install", p.ZFSReleaseURL) // noarch, from its URL
	out := dnfFails(t, r, "install", "zfs")
	mustContain(t, "dnf install zfs on aarch64", out, "Failed to download metadata for repo 'zfs'",
		"/zfsonlinux/epel/9/aarch64/repodata/repomd.xml")
	r.DNF(t, "config-manager", "--disable", "zfs")
	r.DNF(t, "install", "epel-release")
	r.ImportKey(t, "/etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-9")
	out, _ = r.TryDNF("--assumeno", "install", "dkms")
	mustContain(t, "dkms on aarch64", strings.Join(dnfPlan(out), "\n"), "dkms 3.2.0-1.el9 epel", "kernel-devel-matched 5.14.0-427.13.1.el9_4 appstream")
}

// Model 9: filler for benchmarks.
func TestFiller(t *testing.T) {
	t.Parallel()
	p := Build(t)
	r := NewRoot(t, p, "kernel-5.14.0-427.13.1.el9_4")
	before := len(r.Installed(t))
	r.AddFiller(t, 300)
	r.AddFiller(t, 300) // nothing to do
	r.AddFiller(t, 320)
	if got := len(r.Installed(t)); got != before+320 {
		t.Errorf("installed packages = %d, want %d", got, before+320)
	}
	if r.Exists("/usr/share/testbed-filler") {
		t.Error("filler packages left files")
	}
	r.AddKernels(t, 3)
	got := r.RPM(t, "-q", "kernel-core")
	for i := 1; i <= 3; i++ {
		mustContain(t, "rpm -q kernel-core", got, "kernel-core-"+FillerKernel(i)+"\n")
		for _, f := range []string{"vmlinuz", "modules.dep"} {
			if !r.Exists("/lib/modules/" + FillerKernel(i) + "/" + f) {
				t.Errorf("no %s for %s", f, FillerKernel(i))
			}
		}
	}
	provides := r.RPM(t, "-q", "--provides", "kernel-core-5.14.0-427.0.2.el9_4")
	mustContain(t, "provides", provides, "kernel-uname-r = "+FillerKernel(2))
	if strings.Contains(provides, "kernel(") {
		t.Errorf("an extra kernel of a bed that is not real-size provides kABI symbols:\n%s", provides)
	}
	mustContain(t, "dnf list", r.DNF(t, "list", "--installed", "testbed-filler-00320"), "testbed-filler-00320")
}

// CopyRootAt: the copy is the same host (rpm database, the packages' files under the /usr
// overlay, dnf's cache), with its own mounts; what changes in it leaves the original alone;
// Remove takes it away, mounts first.
func TestCopyRoot(t *testing.T) {
	t.Parallel()
	p := Build(t)
	r := NewRoot(t, p, "kernel-5.14.0-427.13.1.el9_4")
	c, err := CopyRootAt(r, filepath.Join(t.TempDir(), "copy"))
	if c != nil {
		defer c.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	if o, cp := strings.Join(r.Installed(t), " "), strings.Join(c.Installed(t), " "); o != cp {
		t.Errorf("installed packages of the copy: %s\nof the original: %s", cp, o)
	}
	for _, f := range []string{"/usr/bin/kmod", "/usr/lib/modules/" + Kernel94 + "/symvers.gz"} {
		if !c.Exists(f) {
			t.Errorf("the copy has no %s (its /usr overlay)", f)
		}
	}
	if c.Exists("/usr/sbin/dkms") {
		t.Error("the copy shows the machine's dkms: the whiteouts of the upper layer were not copied")
	}
	mustContain(t, "the copy's /proc", c.ReadFile(t, "/proc/self/status"), "Name:")
	c.DNF(t, "install", "-C", "epel-release") // from the dnf cache copied with it
	if r.Exists("/etc/yum.repos.d/epel.repo") || !c.Exists("/etc/yum.repos.d/epel.repo") {
		t.Error("installing into the copy did not stay in the copy")
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{c.Dir, c.Home, c.Dir + ".usr-upper"} {
		if _, err := os.Lstat(d); err == nil {
			t.Errorf("%s is still there after Remove", d)
		}
	}
	if !r.Exists("/usr/bin/kmod") {
		t.Error("removing the copy took the original's files")
	}
}

// Model 8, the real thing: AlmaLinux 9.3's aarch64 container image (testdata/upstream/rootfs),
// its own rpm database read by this machine's rpm.
func TestModelRealAarch64Root(t *testing.T) {
	t.Parallel()
	p := Build(t)
	tarball := filepath.Join("..", "testdata", "upstream", "rootfs", "almalinux-9-docker-aarch64-micro-al9-20231124.tar.xz")
	if _, err := os.Stat(tarball); err != nil {
		t.Fatalf("the real root is missing: %v", err)
	}
	r := UnpackRoot(t, p, tarball)
	if r.Arch != "aarch64" {
		t.Errorf("Arch = %q", r.Arch)
	}
	if got := r.RPM(t, "-q", "--qf", "%{ARCH}\n", "bash", "glibc"); got != "aarch64\naarch64\n" {
		t.Errorf("rpm -q --qf %%{ARCH} bash glibc = %q", got)
	}
	mustContain(t, "os-release", r.ReadFile(t, "/etc/os-release"), `ID="almalinux"`, `VERSION_ID="9.3"`)
	// No kernel in a container image: the architecture has to come from the packages or from
	// /bin/sh's ELF header (e_machine 183 is aarch64).
	if out, err := r.TryRPM("-q", "kernel-core"); err == nil {
		t.Errorf("the image has a kernel: %s", out)
	}
	sh, err := os.ReadFile(filepath.Join(r.Dir, "usr/bin/bash"))
	if err != nil || len(sh) < 20 || sh[18] != 183 {
		t.Errorf("/usr/bin/bash is not an aarch64 ELF (%v)", err)
	}
}

// setExcludes writes excludepkgs= into the root's dnf.conf (EL9's dnf.conf has best=True).
func setExcludes(t *testing.T, r *Root, pkgs []string) {
	t.Helper()
	conf := dnfConf
	if len(pkgs) > 0 {
		conf += "excludepkgs=" + strings.Join(pkgs, ",") + "\n"
	}
	if err := os.WriteFile(filepath.Join(r.Dir, "etc/dnf/dnf.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Issue 18 (a): an EL9 host on Kernel94 with kmod-zfs built for it; baseos offers two update
// kernels: the newest (KernelUpdateBreak) does not fit the kmod by its real CRCs, the second
// newest (KernelUpdateFit) does. Excluding the newest kernel's packages in dnf.conf makes
// `dnf upgrade` (best=True) install the fitting one. Excluding only the kernel meta package is
// not enough: dnf upgrades the installed kernel-core (and -modules, -modules-core) to the
// excluded build on their own.
func TestModelHoldExcludes(t *testing.T) {
	p := Build(t)
	r := kmodRoot(t, p, "kernel-5.14.0-427.13.1.el9_4")
	r.DNF(t, "install", "kmod-zfs-"+ZFSNew)
	p.PublishKernelUpdates(t)
	requires := r.RPM(t, "-q", "--requires", "kmod-zfs")
	fit := r.DNF(t, "repoquery", "-q", "--provides", "kernel-core-5.14.0-570.999.1.el9_6")
	brk := r.DNF(t, "repoquery", "-q", "--provides", "kernel-core-5.14.0-570.1000.1.el9_6")
	missing := 0
	for _, req := range strings.Split(requires, "\n") {
		if !strings.HasPrefix(req, "kernel(") {
			continue
		}
		mustContain(t, "provides of "+KernelUpdateFit, fit, req+"\n")
		if !strings.Contains(brk, req+"\n") {
			missing++
		}
	}
	if missing == 0 {
		t.Fatalf("%s provides every symbol the kmod requires", KernelUpdateBreak)
	}
	t.Logf("%s lacks %d of the kmod's kernel(SYMBOL) = CRC requirements", KernelUpdateBreak, missing)

	newest := KernelPackages(KernelUpdateBreak)
	setExcludes(t, r, newest[:1]) // the kernel meta package only
	out, _ := r.TryDNF("--assumeno", "upgrade")
	t.Logf("dnf upgrade with excludepkgs=%s:\n%s", newest[0], out)
	if !regexp.MustCompile(`(?m)^ kernel-core +x86_64 +5\.14\.0-570\.1000\.1\.el9_6 `).MatchString(out) {
		t.Errorf("excluding only the kernel package: dnf no longer installs the excluded build's kernel-core")
	}

	setExcludes(t, r, newest)
	out = r.DNF(t, "upgrade")
	t.Logf("dnf upgrade with excludepkgs=%s:\n%s", strings.Join(newest, ","), out)
	got := r.RPM(t, "-q", "kernel-core")
	mustContain(t, "kernel-core after the upgrade", got, "kernel-core-5.14.0-570.999.1.el9_6.x86_64")
	if strings.Contains(got, "570.1000.1") {
		t.Errorf("the excluded kernel was installed:\n%s", got)
	}
	if v, err := r.TryModinfo(KernelUpdateFit, "version", "zfs"); err != nil || v != ZFSNew+"-1" {
		t.Errorf("modinfo -k %s zfs = %q, %v: weak-modules did not link the kmod into the fitting kernel", KernelUpdateFit, v, err)
	}
}

// Issue 18 (b): a kmod rebuilt for the kernel that did not fit (2.2.8-2 built against
// KernelUpdateBreak) is published; its requirements are that kernel's CRCs, so dnf can install
// it and the update kernel together: the hold can lift.
func TestModelRebuiltKmodLiftsHold(t *testing.T) {
	p := Build(t)
	r := kmodRoot(t, p, "kernel-5.14.0-427.13.1.el9_4")
	r.DNF(t, "install", "kmod-zfs-"+ZFSNew)
	p.PublishKernelUpdates(t)
	p.PublishKmod(t, KmodBuild{Version: ZFSNew, Release: "2", Kernel: KernelUpdateBreak})
	req := r.DNF(t, "repoquery", "-q", "--requires", "kmod-zfs-"+ZFSNew+"-2.el9")
	brk := r.DNF(t, "repoquery", "-q", "--provides", "kernel-core-5.14.0-570.1000.1.el9_6")
	for _, l := range strings.Split(req, "\n") {
		if strings.HasPrefix(l, "kernel(") {
			mustContain(t, "provides of "+KernelUpdateBreak, brk, l+"\n")
		}
	}
	out := r.DNF(t, "upgrade")
	mustContain(t, "dnf upgrade", out, "kmod-zfs", "2.2.8-2.el9")
	if v, err := r.TryModinfo(KernelUpdateBreak, "vermagic", "zfs"); err != nil || !strings.HasPrefix(v, KernelUpdateBreak+" ") {
		t.Errorf("modinfo -k %s -F vermagic zfs = %q, %v", KernelUpdateBreak, v, err)
	}
}

// thisModuleSize is the size of a module's .gnu.linkonce.this_module section: the kernel's
// struct module as the module was built.
func thisModuleSize(t *testing.T, path string) uint64 {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := f.Section(".gnu.linkonce.this_module")
	if s == nil {
		t.Fatalf("%s has no .gnu.linkonce.this_module", path)
	}
	return s.Size
}

// Issue 18 (c): loadability failures beyond CRCs, each with a StableSymbols kmod (every symbol
// it uses has one CRC in all the bed's kernels):
//   - #17924: on Kernel17924 every symbol the module uses matches, module_layout does not;
//   - #17165: Kernel17165's own reference module is read for its struct module size (the same
//     as the generic build's in every tree here: the failure itself cannot be made from them);
//   - #14411: a kmod built for Kernel94Z (a newer z-stream) installed on Kernel94.
func TestModelLoadability(t *testing.T) {
	p := Build(t)
	stable := p.KmodRPM(t, KmodBuild{Version: ZFSNew, Stable: true})
	r := kmodRoot(t, p, append([]string{"kernel-5.14.0-427.13.1.el9_4"}, append(p.KernelRPMs(t, Kernel17924), p.KernelRPMs(t, Kernel17165)...)...)...)
	r.DNF(t, "install", stable)
	mod := filepath.Join(r.Dir, "lib/modules", Kernel94, "extra/zfs/zfs.ko")
	vers, err := p.dumpModversions(mod)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{Kernel17924, Kernel17165} {
		sv := readSymvers(gunzip(t, filepath.Join(r.Dir, "lib/modules", k, "symvers.gz")))
		crc := map[string]string{}
		for _, e := range sv {
			crc[e.Name] = e.CRC
		}
		var differ []string
		for sym, c := range vers {
			if have, ok := crc[sym]; ok && have != c {
				differ = append(differ, sym)
			}
		}
		if len(differ) != 1 || differ[0] != "module_layout" {
			t.Errorf("%s: symbols whose CRC differs from the stable kmod's = %v, want only module_layout", k, differ)
		}
	}
	want := thisModuleSize(t, mod)
	if got := thisModuleSize(t, filepath.Join(r.Dir, refModulePath(Kernel94))); got != want {
		t.Errorf("Kernel94's struct module = %d bytes, the kmod's %d", got, want)
	}
	// Measured, not wished: every 6.1 tree's struct module is 0x380 bytes, the 6.12 tree's
	// (Kernel17165) 0x500; the check reads the kernel's own module, which
	// kernel-modules-core installs.
	if got := thisModuleSize(t, filepath.Join(r.Dir, refModulePath(Kernel17165))); got != 0x500 || want != 0x380 {
		t.Errorf("struct module: the kmod %#x bytes, %s's own modules %#x; the bed's data says 0x380 and 0x500", want, Kernel17165, got)
	}
	newer := p.KmodRPM(t, KmodBuild{Version: ZFSNew, Release: "3", Kernel: Kernel94Z, Stable: true})
	mustContain(t, "rpm -qpl", r.RPM(t, "-qpl", newer), "/lib/modules/"+Kernel94Z+"/extra/zfs/zfs.ko")
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Issue 18 (d): a candidate kernel whose kernel-devel is not offered (RemoveFromRepo takes it
// out of appstream), then offered again.
func TestModelDKMSDevelNotOffered(t *testing.T) {
	p := Build(t)
	r := dkmsRootFor(t, p, "kernel-5.14.0-427.13.1.el9_4")
	p.PublishKernelUpdates(t)
	q := func() string {
		return r.DNF(t, "repoquery", "-q", "--whatprovides", "kernel-devel-uname-r = "+KernelUpdateFit)
	}
	mustContain(t, "offered", q(), "kernel-devel-0:5.14.0-570.999.1.el9_6")
	restore := p.RemoveFromRepo(t, "appstream", "kernel-devel-5.14.0-570.999.1.")
	if got := q(); strings.Contains(got, "kernel-devel") {
		t.Errorf("kernel-devel of %s still offered: %s", KernelUpdateFit, got)
	}
	restore()
	mustContain(t, "offered again", q(), "kernel-devel-0:5.14.0-570.999.1.el9_6")
}

// TestRealTools fails when a root runs a stand-in where the machine has the real tool: the
// root's dkms, kmod (depmod, modinfo) and kernel-install are byte for byte the machine's.
func TestRealTools(t *testing.T) {
	t.Parallel()
	p := Build(t)
	r := dkmsRootFor(t, p, "kernel-5.14.0-427.13.1.el9_4", "dkms-"+DKMSNew)
	for inRoot, machine := range map[string]string{"/usr/sbin/dkms": "/usr/sbin/dkms", "/usr/bin/kmod": "/usr/bin/kmod",
		"/usr/bin/kernel-install": "/usr/bin/kernel-install", "/usr/bin/bash": "/usr/bin/bash"} {
		want, err := os.ReadFile(machine)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.ReadFile(t, inRoot); got != string(want) {
			t.Errorf("%s in the root is not the machine's %s", inRoot, machine)
		}
	}
	for _, l := range []string{"/usr/sbin/depmod", "/usr/sbin/modinfo"} {
		if target, err := os.Readlink(filepath.Join(r.Dir, l)); err != nil || target != "../bin/kmod" {
			t.Errorf("%s -> %q (%v), want ../bin/kmod", l, target, err)
		}
	}
}
