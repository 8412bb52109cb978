// Package facts gathers what zfsinstall needs to know about a host into a
// value: gathered once, JSON-serialisable, compared with cmp.Diff in tests.
// Planning is a pure function of a spec and Facts.
package facts

// FormatVersion is the version of the JSON layout of Facts.
const FormatVersion = "1"

// Facts is everything the planner may look at. A saved `facts --json` is
// exactly this value.
type Facts struct {
	FormatVersion string `json:"format_version"`
	// Root is the directory the host's "/" was read from.
	Root   string `json:"root"`
	Arch   string `json:"arch"`
	Distro Distro `json:"distro"`
	Kernel Kernel `json:"kernel"`
	// Packages are the installed packages that matter, from one `rpm -q` call.
	Packages []Package `json:"packages"`
	// Repos are the repo sections from the root's /etc/yum.repos.d.
	Repos []Repo `json:"repos"`
	// Available is what the enabled repos offer, when they answered.
	Available Available `json:"available"`
	ZFS       ZFS       `json:"zfs"`
	// SecureBoot is "enabled", "disabled" or "unknown".
	SecureBoot string `json:"secure_boot"`
	// MOK is whether DKMS's signing key (/var/lib/dkms/mok.pub) is enrolled:
	// "enrolled", "not-enrolled", or "" when not asked (no Secure Boot, no key).
	MOK string `json:"mok,omitempty"`
	// Chroot is true inside a chroot (kickstart %post) or with --root other than /.
	Chroot bool `json:"chroot"`
	// Files holds the content of the small files zfsinstall manages
	// (modules-load, modprobe options, dnf vars); absent = file missing.
	Files map[string]string `json:"files,omitempty"`
	// Services maps a systemd unit to "enabled", "disabled" or "missing".
	Services map[string]string `json:"services,omitempty"`
	// DKMS lists `dkms status` entries.
	DKMS []DKMSEntry `json:"dkms,omitempty"`
	// Pools are the imported pool names (`zpool list -H -o name`), nil when unknown.
	Pools []string `json:"pools"`
}

// Distro is the parsed /etc/os-release.
type Distro struct {
	ID        string `json:"id"`         // rocky, almalinux, rhel, ol, centos, fedora, debian, ...
	IDLike    string `json:"id_like"`    // as in os-release
	Name      string `json:"name"`       // PRETTY_NAME
	VersionID string `json:"version_id"` // 9.4, 41, 9 (Stream)
	Major     int    `json:"major"`
	Minor     int    `json:"minor"`  // -1 when the distro has no minor (Stream, Fedora)
	Family    string `json:"family"` // "el", "fedora" or "" (unsupported)
	// Stream is true for CentOS Stream.
	Stream bool `json:"stream"`
	// DistTag is the rpm %{dist} the release package is named by (".el9", ".fc41").
	DistTag string `json:"dist_tag"`
	// Releasever is $releasever as dnf will expand it (a pin in /etc/dnf/vars wins).
	Releasever string `json:"releasever"`
}

// Kernel describes the running and target kernels.
type Kernel struct {
	Running string `json:"running"`
	Target  string `json:"target"`
	// Flavor of the target: stock, stream, elrepo-lt, elrepo-ml, uek, fedora, other.
	Flavor string `json:"flavor"`
	// Variant of the target: rt, debug, 64k or "".
	Variant string `json:"variant"`
	// ELMinor of the target ("9.4"), "" when not a stock EL kernel.
	ELMinor string `json:"el_minor"`
	// Upstream is the upstream Linux version of the target ("5.14", "6.1").
	Upstream string `json:"upstream"`
	// Default is the next boot's kernel, when known.
	Default string `json:"default,omitempty"`
	// Installed lists every kernel in the rpm database, oldest first.
	Installed []InstalledKernel `json:"installed"`
}

// InstalledKernel is one kernel package in the rpm database.
type InstalledKernel struct {
	Release string `json:"release"` // uname -r
	Package string `json:"package"` // owning package name: kernel-core, kernel-lt-core, ...
	Flavor  string `json:"flavor"`
	Variant string `json:"variant"`
	ELMinor string `json:"el_minor"`
}

// Package is one installed or available package.
type Package struct {
	Name    string `json:"name"`
	Epoch   string `json:"epoch,omitempty"`
	Version string `json:"version"`
	Release string `json:"release"`
	Arch    string `json:"arch"`
	// Repo is the repository an available package comes from.
	Repo string `json:"repo,omitempty"`
	// Kernel is, for an offered kmod-zfs, the kernel release it was built
	// for: the /lib/modules/<release> directory its files live in.
	Kernel string `json:"kernel,omitempty"`
}

// Repo is one section of a .repo file.
type Repo struct {
	ID      string `json:"id"`
	File    string `json:"file"`
	Enabled bool   `json:"enabled"`
	BaseURL string `json:"baseurl,omitempty"`
	GPGKey  string `json:"gpgkey,omitempty"`
	// Exclude is the section's exclude= (a version hold lives here).
	Exclude string `json:"exclude,omitempty"`
	// Include is the section's includepkgs= (zfsinstall's version hold).
	Include string `json:"includepkgs,omitempty"`
}

// Available is what the enabled repos offer of the packages that matter.
type Available struct {
	// Known is false when the repos were not asked or did not answer.
	Known    bool      `json:"known"`
	Reason   string    `json:"reason,omitempty"`
	Packages []Package `json:"packages,omitempty"`
}

// ZFS holds the three versions that must agree.
type ZFS struct {
	Userland     string `json:"userland"`       // zfs package version, "" if not installed
	ModuleOnDisk string `json:"module_on_disk"` // modinfo -k TARGET -F version zfs
	ModuleLoaded string `json:"module_loaded"`  // /sys/module/zfs/version
	// InInitramfs is true when the target's initramfs carries zfs.
	InInitramfs bool `json:"in_initramfs,omitempty"`
}

// DKMSEntry is one line of `dkms status`.
type DKMSEntry struct {
	Module  string `json:"module"`
	Version string `json:"version"`
	Kernel  string `json:"kernel"`
	State   string `json:"state"` // added, built, installed
}
