package testbed

import (
	"fmt"
	"strings"
)

// Kernels the bed builds, by `uname -r`.
const (
	// Kernel94 is Rocky 9.4's GA kernel; the only kernel kmod-zfs is built for.
	Kernel94 = "5.14.0-427.13.1.el9_4.x86_64"
	// Kernel95 is a Rocky 9.5 kernel: another kABI, so kmod-zfs (built for 9.4) cannot use it.
	Kernel95 = "5.14.0-503.14.1.el9_5.x86_64"
	// KernelLT is ELRepo's kernel-lt from the (disabled) elrepo-kernel repo.
	KernelLT = "6.1.80-1.el9.elrepo.x86_64"
)

// OpenZFS versions the bed builds (zfs, libs, zfs-dkms and kmod-zfs each, release 1.el9).
const (
	ZFSOld = "2.2.7"
	ZFSNew = "2.2.8"
)

// kernelDef is one kernel build: which spec, its version-release and the kABI values its core
// provides (none for ELRepo, which does not generate kernel(symbol) provides).
type kernelDef struct {
	spec        string // "kernel" or "kernel-lt"
	version     string
	release     string
	kabiAlloc   string
	kabiWCP     string
	coreRepo    string // where kernel, -core, -modules* go
	develRepo   string // where -devel and -devel-matched go
	signingWith string
}

func (k kernelDef) unameR() string { return k.version + "-" + k.release + ".x86_64" }

var kernels = []kernelDef{
	{spec: "kernel", version: "5.14.0", release: "427.13.1.el9_4", kabiAlloc: "0x721dbc2e", kabiWCP: "0x30a4cdde",
		coreRepo: "baseos", develRepo: "appstream", signingWith: "rocky"},
	{spec: "kernel", version: "5.14.0", release: "503.14.1.el9_5", kabiAlloc: "0x5e3f1b9c", kabiWCP: "0x0b8e22a1",
		coreRepo: "baseos", develRepo: "appstream", signingWith: "rocky"},
	{spec: "kernel-lt", version: "6.1.80", release: "1.el9.elrepo",
		coreRepo: "elrepo-kernel", develRepo: "elrepo-kernel", signingWith: "elrepo"},
}

// zfsDef is one OpenZFS release: the kernel range from its META (data/openzfs/releases.tsv)
// and whether its zfs-dkms also constrains kernel-uname-r (2.2.8 and later).
type zfsDef struct {
	version    string
	kmin, kmax string
	unameR     bool
}

var zfsReleases = []zfsDef{
	{version: ZFSOld, kmin: "4.18", kmax: "6.12"},
	{version: ZFSNew, kmin: "4.18", kmax: "6.15", unameR: true},
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
