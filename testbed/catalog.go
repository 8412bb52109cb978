package testbed

import (
	"fmt"
	"slices"
	"strings"
)

// Kernels the bed builds, by `uname -r`. Each keeps its EL name (the tool classifies kernels
// by name) and takes its kABI (symbol CRCs, module_layout, struct module) from a real kernel
// build: kernelDef.tree names the Debian header tree (trees.go).
const (
	// Kernel94 is Rocky 9.4's GA kernel; every kmod-zfs of the bed is built for it
	// (linux-headers-6.1.0-47 with the two CRCs openzfs/zfs#16179 gives).
	Kernel94 = "5.14.0-427.13.1.el9_4.x86_64"
	// Kernel94Z is a later z-stream kernel of 9.4 (the one of openzfs/zfs#16219): the next
	// ABI revision of the same series (-50), about 18,100 CRCs differ, so kmod-zfs built for
	// Kernel94 does not fit it (same minor).
	Kernel94Z = "5.14.0-427.16.1.el9_4.x86_64"
	// Kernel95 is a Rocky 9.5 kernel (#16790): another kABI (-57), the kmods do not fit it.
	Kernel95 = "5.14.0-503.14.1.el9_5.x86_64"
	// Kernel95Fit is a synthetic 9.5 kernel (z-stream 999 marks it as made up) with Kernel94's
	// kABI data: the openzfs/zfs#16271 case (8.9 kmods fit 8.10) on EL9 names. No EL9 report
	// shows such a pair. It is in no repository (Packages.KernelRPMs installs it), so that dnf
	// never picks it to satisfy a kmod in the other models.
	Kernel95Fit = "5.14.0-503.999.1.el9_5.x86_64"
	// Kernel96 is a Rocky 9.6 kernel (the one of openzfs/zfs#17349): zfs-dkms 2.1.16 fails to
	// build on it, 2.2.8 builds (dkmsBuildFailures). Data of the -57-cloud build.
	Kernel96 = "5.14.0-570.17.1.el9_6.x86_64"
	// KernelLT is ELRepo's kernel-lt from the (disabled) elrepo-kernel repo (-57 data; no
	// kernel(SYMBOL) provides, as ELRepo disables the generator).
	KernelLT = "6.1.80-1.el9.elrepo.x86_64"
	// Kernel94Aarch64 is Kernel94 built for aarch64, in the aarch64 mirror (NewRootArch). No
	// aarch64 header tree is installed: it carries no kABI data.
	Kernel94Aarch64 = "5.14.0-427.13.1.el9_4.aarch64"

	// KernelUpdateFit and KernelUpdateBreak are the two update kernels of issue 18's model
	// (PublishKernelUpdates puts them into baseos for one test): KernelUpdateFit (synthetic
	// z-stream 999) has Kernel94's kABI, so the installed kmod fits it (#16271 pattern);
	// KernelUpdateBreak, the newest, is the -rt build's data: the kmod's CRCs differ
	// (#16219/#16790 pattern).
	KernelUpdateFit   = "5.14.0-570.999.1.el9_6.x86_64"
	KernelUpdateBreak = "5.14.0-570.1000.1.el9_6.x86_64"
	// Kernel17924 is the kernel of openzfs/zfs#17924 (9.7, where a 9.6 kmod failed with
	// "disagrees about version of symbol module_layout"), with the -50 build's data: every
	// symbol of StableKmod has Kernel94's CRC, module_layout does not. In no repository.
	Kernel17924 = "5.14.0-611.5.1.el9_7.x86_64"
	// Kernel17165 is the kernel of openzfs/zfs#17165 (503.33.1.el9_5: ".gnu.linkonce.this_module
	// section size must match the kernel's built struct module size"), with the 6.12 tree's
	// data: its struct module is 0x500 bytes where every 6.1 tree builds 0x380 (-rt included,
	// and with CONFIG_LIVEPATCH or CONFIG_PRINTK_INDEX off), so a kmod built against Kernel94
	// carries a struct module of another size than the kernel's own modules; module_layout
	// differs too, as it does in every real build. In no repository.
	Kernel17165 = "5.14.0-503.33.1.el9_5.x86_64"
)

// OpenZFS versions the bed builds (zfs, libs, zfs-dkms and kmod-zfs each, release 1.el9).
const (
	ZFSOld = "2.2.7"
	ZFSNew = "2.2.8"
	// ZFS21 is the 2.1 release whose kmod-zfs 2.1.15-2 the bed builds for Kernel94 with the
	// 2.1 module layout (extra/zfs/<dir>/<module>.ko); only in zfs-kmod, with its userland.
	ZFS21 = "2.1.15"
	// ZFS21DKMS is the 2.1 release whose zfs-dkms the bed builds (with its userland, in zfs):
	// its build fails on Kernel96 (openzfs/zfs#17349, #17448).
	ZFS21DKMS = "2.1.16"
)

// EPEL dkms versions the bed builds: 3.0.13 (kernel-install plugin in /etc, runs autoinstall;
// upstream framework.conf) and 3.2.0 (plugin in /usr/lib runs "dkms kernel_postinst";
// framework.conf with modprobe_on_install and post_transaction set as Fedora's dkms.spec sets
// them). dnf installs DKMSNew unless told otherwise.
const (
	DKMSOld = "3.0.13"
	DKMSNew = "3.2.0"
)

// kernelDef is one kernel build: which spec, its version-release, architecture, the header
// tree its data comes from, and where its packages go.
type kernelDef struct {
	spec    string // "kernel" or "kernel-lt"
	version string
	release string
	arch    string // "" is x86_64
	tree    string // the Debian header tree (headerPackages); "" for none (aarch64)
	cited   bool   // carries citedCRCs (plays 427.13.1's kABI)
	// provides says whether kernel-core provides kernel(SYMBOL) = CRC; ELRepo disables the
	// generator (%global __provided_ksyms_provides %{nil} in kernel-lt-6.1.spec).
	provides    bool
	coreRepo    string // where kernel, -core, -modules* go; "" = no repository (KernelRPMs)
	develRepo   string // where -devel and -devel-matched go
	signingWith string
	report      string // the upstream report this kernel stands for
	// group is "" for the kernels every Build makes, or the name of a group built the first
	// time something asks for it (buildGroup): "fit" (Kernel95Fit), "updates" (issue 18's
	// update kernels), "loadability" (Kernel17924, Kernel17165), "aarch64" (the aarch64
	// mirror). Keeps the shared build short for test binaries that never use them.
	group string
}

func (k kernelDef) targetArch() string {
	if k.arch == "" {
		return "x86_64"
	}
	return k.arch
}

func (k kernelDef) unameR() string { return k.version + "-" + k.release + "." + k.targetArch() }

var kernels = []kernelDef{
	{spec: "kernel", version: "5.14.0", release: "427.13.1.el9_4", tree: "6.1.0-47-amd64", cited: true, provides: true,
		coreRepo: "baseos", develRepo: "appstream", signingWith: "rocky", report: "openzfs/zfs#16179, #16219"},
	{spec: "kernel", version: "5.14.0", release: "427.16.1.el9_4", tree: "6.1.0-50-amd64", provides: true,
		coreRepo: "baseos", develRepo: "appstream", signingWith: "rocky", report: "openzfs/zfs#16219"},
	{spec: "kernel", version: "5.14.0", release: "503.14.1.el9_5", tree: "6.1.0-57-amd64", provides: true,
		coreRepo: "baseos", develRepo: "appstream", signingWith: "rocky", report: "openzfs/zfs#16790"},
	{spec: "kernel", version: "5.14.0", release: "503.999.1.el9_5", tree: "6.1.0-47-amd64", cited: true, provides: true,
		signingWith: "rocky", report: "openzfs/zfs#16271 (8.9 -> 8.10), synthetic on EL9", group: "fit"},
	{spec: "kernel", version: "5.14.0", release: "570.17.1.el9_6", tree: "6.1.0-57-cloud-amd64", provides: true,
		coreRepo: "baseos", develRepo: "appstream", signingWith: "rocky", report: "openzfs/zfs#17349"},
	{spec: "kernel-lt", version: "6.1.80", release: "1.el9.elrepo", tree: "6.1.0-57-amd64",
		coreRepo: "elrepo-kernel", develRepo: "elrepo-kernel", signingWith: "elrepo"},
	{spec: "kernel", version: "5.14.0", release: "570.999.1.el9_6", tree: "6.1.0-47-amd64", cited: true, provides: true,
		coreRepo: "baseos", develRepo: "appstream", signingWith: "rocky", report: "openzfs/zfs#16271 pattern (issue 18)", group: "updates"},
	{spec: "kernel", version: "5.14.0", release: "570.1000.1.el9_6", tree: "6.1.0-57-rt-amd64", provides: true,
		coreRepo: "baseos", develRepo: "appstream", signingWith: "rocky", report: "openzfs/zfs#16219, #16790 pattern (issue 18)", group: "updates"},
	{spec: "kernel", version: "5.14.0", release: "611.5.1.el9_7", tree: "6.1.0-50-amd64", provides: true,
		signingWith: "rocky", report: "openzfs/zfs#17924", group: "loadability"},
	{spec: "kernel", version: "5.14.0", release: "503.33.1.el9_5", tree: "6.12.107+deb12-amd64", provides: true,
		signingWith: "rocky", report: "openzfs/zfs#17165", group: "loadability"},
	{spec: "kernel", version: "5.14.0", release: "427.13.1.el9_4", arch: "aarch64", provides: true,
		coreRepo: "baseos", develRepo: "appstream", signingWith: "rocky", report: "openzfs/zfs#13266, #14511 (no aarch64 packages)",
		group: "aarch64"},
}

// kernelByUnameR finds a kernel of the bed.
func kernelByUnameR(kver string) (kernelDef, bool) {
	for _, k := range kernels {
		if k.unameR() == kver {
			return k, true
		}
	}
	return kernelDef{}, false
}

// zfsDef is one OpenZFS release as the bed builds it: the kernel range from its META
// (catalog/data/releases.tsv), whether its zfs-dkms also constrains kernel-uname-r (2.2.8
// and later), which packages are built and where the userland goes.
type zfsDef struct {
	version    string
	release    string // "1" unless noted
	kmin, kmax string
	unameR     bool
	dkms       bool   // build zfs-dkms
	perKernel  bool   // zfs-dkms ships prebuilt modules per base kernel (vermagic, CRCs), not only generic ones
	kmod       string // build kmod-zfs with this module layout ("2.2" or "2.1"); "" = none
	userland   string // repos for the userland: "zfs+zfs-kmod", "zfs" or "zfs-kmod"
}

var zfsReleases = []zfsDef{
	{version: ZFSOld, release: "1", kmin: "4.18", kmax: "6.12", dkms: true, perKernel: true, kmod: "2.2", userland: "zfs+zfs-kmod"},
	{version: ZFSNew, release: "1", kmin: "4.18", kmax: "6.15", unameR: true, dkms: true, perKernel: true, kmod: "2.2", userland: "zfs+zfs-kmod"},
	// kmod-zfs-2.1.15-2.el9 is the kmod of openzfs/zfs#16219 (built for 427.13.1) with the
	// requires of #16179; 2.1 installs its modules in subdirectories (zfs-kmod.spec.in at
	// zfs-2.1.15: INSTALL_MOD_DIR=extra/zfs, chmod extra/*/*/*).
	{version: ZFS21, release: "2", kmin: "3.10", kmax: "6.7", kmod: "2.1", userland: "zfs-kmod"},
	{version: ZFS21DKMS, release: "1", kmin: "3.10", kmax: "6.7", dkms: true, userland: "zfs"},
}

// dkmsBuildFailure is a (zfs-dkms version, kernel) pair whose real build fails although the
// kernel is inside the release's Linux-Minimum..Linux-Maximum: Red Hat backports changed an
// interface configure checks. The bed's dkms fails those builds with exit 10 and the
// configure error in make.log. Each row names the report it comes from.
type dkmsBuildFailure struct {
	version string   // zfs-dkms version
	kernels string   // shell glob on `uname -r`
	report  string   // where the failure is reported
	log     []string // the configure error, as the report shows it
}

// dkmsBuildFailures lists the known failing builds. Note what is NOT here: 2.2.7 on 9.6.
// Its configure treats a missing blk_queue_max_hw_sectors() as "no" (config/kernel-blk-queue.m4
// at zfs-2.2.7), a 2.2.7 build on RHEL 9.6 is reported to work (openzfs/zfs#17332), and its
// 9.6 problem was at module load ("Unpatched return thunk in use", #17364, fixed in 2.2.8 by
// c1848f7261). 9.6 is supported from 2.2.8 (#17349).
var dkmsBuildFailures = []dkmsBuildFailure{
	{version: "2.1.16", kernels: "5.14.0-570.*.el9_6.*", report: "openzfs/zfs#17349, #17448", log: []string{
		"checking whether blk_queue_write_cache() exists... no",
		"checking whether blk_queue_max_hw_sectors() is available... configure: error: ",
		"\t*** None of the expected \"blk_queue_max_hw_sectors\" interfaces were detected.",
		"\t*** This may be because your kernel version is newer than what is",
		"\t*** supported, or you are using a patched custom kernel with",
		"\t*** incompatible modifications.",
		"\t***",
		"\t*** ZFS Version: zfs-2.1.16-1",
		"\t*** Compatible Kernels: 3.10 - 6.7",
	}},
	{version: "2.1.15", kernels: "5.14.0-503.*.el9_5.*", report: "openzfs/zfs#16746", log: []string{
		"checking whether blkdev_get_by_path() exists and takes 3 args... no",
		"checking whether blkdev_get_by_path() exists and takes 4 args... no",
		"checking whether bdev_open_by_path() exists... configure: error: ",
		"\t*** None of the expected \"blkdev_get_by_path()\" interfaces were detected.",
		"\t*** This may be because your kernel version is newer than what is",
		"\t*** supported, or you are using a patched custom kernel with",
		"\t*** incompatible modifications.",
		"\t***",
		"\t*** ZFS Version: zfs-2.1.15-3",
		"\t*** Compatible Kernels: 3.10 - 6.7",
	}},
}

// dkmsFailuresFile is the table of failing builds for one zfs-dkms version, as the bed's
// dkms reads it from /usr/src/zfs-VERSION/testbed/build-failures: a "kernel GLOB REPORT"
// line, then the make.log lines, then a line with a single ".".
func dkmsFailuresFile(version string) string {
	var b strings.Builder
	b.WriteString("# Builds of this zfs-dkms that fail on stock EL kernels inside META's range (testbed/catalog.go).\n")
	for _, f := range dkmsBuildFailures {
		if f.version != version {
			continue
		}
		fmt.Fprintf(&b, "kernel %s %s\n", f.kernels, f.report)
		for _, l := range f.log {
			b.WriteString(l + "\n")
		}
		b.WriteString(".\n")
	}
	return b.String()
}

// stubDef is a name-only stand-in for a distribution package the real ones require.
type stubDef struct {
	name, version, release, repo string
}

var stubs = []stubDef{
	{"make", "4.3", "8", "baseos"},
	{"diffutils", "3.7", "12", "baseos"},
	{"gcc", "11.4.1", "3", "appstream"},
	{"perl", "5.32.1", "481", "appstream"},
	{"elfutils-libelf-devel", "0.190", "2", "appstream"},
}

// repoDef is one repository of the bed's mirror: its dnf id, where it lives under the mirror
// (the real layout: /rocky/9/BaseOS/x86_64/os/, /zfsonlinux/epel/9/kmod/x86_64/ ...) and, for a
// twin, the repository whose packages it carries.
type repoDef struct {
	ID     string
	Path   string
	TwinOf string
	Vendor string // whose key signs it
}

// repoDefs lists every repository of the bed by dnf repo id.
var repoDefs = []repoDef{
	{ID: "baseos", Path: "rocky/9/BaseOS/x86_64/os", Vendor: "rocky"},
	{ID: "appstream", Path: "rocky/9/AppStream/x86_64/os", Vendor: "rocky"},
	{ID: "extras", Path: "rocky/9/extras/x86_64/os", Vendor: "rocky"},
	{ID: "epel", Path: "epel/9/Everything/x86_64", Vendor: "epel"},
	{ID: "elrepo", Path: "elrepo/elrepo/el9/x86_64", Vendor: "elrepo"},
	{ID: "elrepo-kernel", Path: "elrepo/kernel/el9/x86_64", Vendor: "elrepo"},
	{ID: "zfs", Path: "zfsonlinux/epel/9/x86_64", Vendor: "openzfs"},
	{ID: "zfs-kmod", Path: "zfsonlinux/epel/9/kmod/x86_64", Vendor: "openzfs"},
	{ID: "zfs-latest", Path: "zfsonlinux/latest/epel/9/x86_64", TwinOf: "zfs", Vendor: "openzfs"},
	{ID: "zfs-latest-kmod", Path: "zfsonlinux/latest/epel/9/kmod/x86_64", TwinOf: "zfs-kmod", Vendor: "openzfs"},
	{ID: "zfs-legacy", Path: "zfsonlinux/legacy/epel/9/x86_64", TwinOf: "zfs", Vendor: "openzfs"},
	{ID: "zfs-legacy-kmod", Path: "zfsonlinux/legacy/epel/9/kmod/x86_64", TwinOf: "zfs-kmod", Vendor: "openzfs"},
	{ID: "zfs-2.2", Path: "zfsonlinux/2.2/epel/9/x86_64", TwinOf: "zfs", Vendor: "openzfs"},
	{ID: "zfs-2.2-kmod", Path: "zfsonlinux/2.2/epel/9/kmod/x86_64", TwinOf: "zfs-kmod", Vendor: "openzfs"},
}

// archRepos lists, per architecture other than x86_64, the repositories the mirror has for it:
// Rocky, EPEL and ELRepo publish aarch64 trees; OpenZFS publishes EL packages for x86_64
// only (openzfs/zfs#13266, #14511: .../epel/9/aarch64/repodata/repomd.xml is refused), so no
// zfs* repository exists for aarch64 and dnf fails "Failed to download metadata for repo 'zfs'".
var archRepos = map[string][]string{
	"aarch64": {"baseos", "appstream", "extras", "epel", "elrepo", "elrepo-kernel"},
}

// repoPath is where a repository lives under the mirror for an architecture.
func repoPath(id, arch string) (string, error) {
	r, err := repoByID(id)
	if err != nil {
		return "", err
	}
	if arch == "x86_64" || arch == "" {
		return r.Path, nil
	}
	if !slices.Contains(archRepos[arch], id) {
		return "", fmt.Errorf("the test bed has no %s repository %q (have %s)", arch, id, strings.Join(archRepos[arch], ", "))
	}
	return strings.Replace(r.Path, "x86_64", arch, 1), nil
}

// RepoIDs lists the dnf ids of the bed's repositories.
func RepoIDs() []string {
	var ids []string
	for _, r := range repoDefs {
		ids = append(ids, r.ID)
	}
	return ids
}

func repoByID(id string) (repoDef, error) {
	var ids []string
	for _, r := range repoDefs {
		if r.ID == id {
			return r, nil
		}
		ids = append(ids, r.ID)
	}
	return repoDef{}, fmt.Errorf("no test bed repository %q (have %s)", id, strings.Join(ids, ", "))
}

// vendors sign the bed's packages, each with its own throwaway key, as the real ones do: a
// root has the Rocky key imported from the start; EPEL's, ELRepo's and OpenZFS's keys are
// imported only when something imports them.
var vendors = []struct {
	name, uid string
}{
	{"rocky", "Testbed Rocky Enterprise Software Foundation <security@testbed.invalid>"},
	{"epel", "Testbed Fedora EPEL (9) <epel@testbed.invalid>"},
	{"elrepo", "Testbed ELRepo.org <secure@testbed.invalid>"},
	{"openzfs", "Testbed OpenZFS <release@testbed.invalid>"},
}
