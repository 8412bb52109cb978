// Package facts gathers what zfsinstall needs to know about a host into a
// value: gathered once, JSON-serialisable, compared with cmp.Diff in tests.
// Planning is a pure function of a spec and Facts.
package facts

import "github.com/zfsinstall/zfsinstall/catalog"

// FormatVersion is the version of the JSON layout of Facts. 2: packages carry
// their requirements on the kernel, kernels their kABI symbols, boot
// entries and zfs module. 3: the dnf the host runs (DNF).
const FormatVersion = "3"

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
	// DNF is the dnf the host runs: dnf 4 or dnf 5 (Fedora 41 and later).
	DNF DNF `json:"dnf"`
	// Available is what the enabled repos offer, when they answered.
	Available  Available  `json:"available"`
	ZFS        ZFS        `json:"zfs"`
	SecureBoot SecureBoot `json:"secure_boot"`
	// MOK is whether DKMS's signing key (/var/lib/dkms/mok.pub) is enrolled;
	// "" when not asked (no Secure Boot, no key).
	MOK MOKState `json:"mok,omitempty"`
	// Chroot is true inside a chroot (kickstart %post) or with --root other than /.
	Chroot bool `json:"chroot"`
	// Files holds the content of the small files zfsinstall manages
	// (modules-load, modprobe options, dnf vars); absent = file missing.
	Files map[string]string `json:"files,omitempty"`
	// Services maps each managed systemd unit to its state.
	Services map[string]UnitState `json:"services,omitempty"`
	// DKMS lists `dkms status` entries.
	DKMS []DKMSEntry `json:"dkms,omitempty"`
	// Pools are the imported pool names (`zpool list -H -o name`), nil when unknown.
	Pools []string `json:"pools"`
}

// The files zfsinstall writes on a host, recorded in Facts.Files when present.
const (
	ModulesLoadFile  = "/etc/modules-load.d/zfs.conf"
	ModprobeFile     = "/etc/modprobe.d/zfs.conf"
	NeedsRestartFile = "/etc/dnf/plugins/needs-restarting.d/zfs.conf"
	SpecCopyFile     = "/etc/zfsinstall/host.hcl"
	VerifyUnit       = "zfsinstall-verify.service"
	VerifyUnitFile   = "/etc/systemd/system/" + VerifyUnit
	GuardHookFile    = "/etc/kernel/install.d/98-zfsinstall-guard.install"
	// GuardBuildHookFile keeps the previous default while DKMS builds for a
	// new kernel (verify.HoldUntilBuilt).
	GuardBuildHookFile = "/etc/kernel/install.d/39-zfsinstall-guard.install"
	// RepoOriginsFile keeps the zfs.repo baseurls zfs.mirror replaced.
	RepoOriginsFile = "/etc/zfsinstall/repo-origins"
	// KernelHoldFile records the kernels the kernel hold keeps from dnf
	// and which of dnf.conf's exclusions are zfsinstall's (update.HoldFile).
	KernelHoldFile = "/etc/zfsinstall/kernel-hold"
	// The kernel hold's units: a oneshot service, its hourly timer, and
	// drop-ins that run it before dnf-automatic's installing services (dnf
	// 4's dnf-automatic.service and dnf-automatic-install.service, dnf 5's
	// dnf5-automatic.service).
	KernelHoldService     = "/etc/systemd/system/zfsinstall-kernel-hold.service"
	KernelHoldTimerFile   = "/etc/systemd/system/" + KernelHoldTimer
	KernelHoldDropInDNF4  = "/etc/systemd/system/dnf-automatic.service.d/50-zfsinstall-kernel-hold.conf"
	KernelHoldDropInDNF4I = "/etc/systemd/system/dnf-automatic-install.service.d/50-zfsinstall-kernel-hold.conf"
	KernelHoldDropInDNF5  = "/etc/systemd/system/dnf5-automatic.service.d/50-zfsinstall-kernel-hold.conf"
)

// KernelHoldUnitFiles are the kernel hold's unit files, service first.
var KernelHoldUnitFiles = []string{KernelHoldService, KernelHoldTimerFile, KernelHoldDropInDNF4, KernelHoldDropInDNF4I, KernelHoldDropInDNF5}

// OldGuardHookFile is where zfsinstall before format 2 put the guard hook
// (it ran before the boot entry was written and so could not hold it back);
// a managed copy there is removed.
const OldGuardHookFile = "/etc/kernel/install.d/85-zfsinstall-guard.install"

// Files zfsinstall reads but does not write as a whole, recorded in
// Facts.Files too: dnf.conf gives installonly_limit and the exclusions
// (the kernel hold edits only its own items there).
const (
	ReleaseverFile = "/etc/dnf/vars/releasever"
	RepoRPMNewFile = "/etc/yum.repos.d/zfs.repo.rpmnew"
	DNFConfFile    = "/etc/dnf/dnf.conf"
	// SysconfigKernelFile says whether and which new kernels become the
	// default boot entry (UPDATEDEFAULT, DEFAULTKERNEL).
	SysconfigKernelFile = "/etc/sysconfig/kernel"
)

// ManagedFiles are the files zfsinstall writes.
var ManagedFiles = append([]string{ModulesLoadFile, ModprobeFile, NeedsRestartFile, SpecCopyFile, VerifyUnitFile, GuardHookFile, GuardBuildHookFile, OldGuardHookFile, RepoOriginsFile}, KernelHoldUnitFiles...)

// TrackedFiles are every file recorded in Facts.Files.
var TrackedFiles = append([]string{ReleaseverFile, RepoRPMNewFile, DNFConfFile, SysconfigKernelFile, KernelHoldFile}, ManagedFiles...)

// ManagedUnits are the systemd units zfsinstall enables or disables,
// recorded in Facts.Services.
var ManagedUnits = []string{
	"zfs-import-cache.service", "zfs-import-scan.service", "zfs-mount.service",
	"zfs-share.service", "zfs-zed.service", "zfs-import.target", "zfs.target",
	VerifyUnit, KernelHoldTimer,
}

// KernelHoldTimer re-evaluates the kernel hold (kernel.hold) hourly.
const KernelHoldTimer = "zfsinstall-kernel-hold.timer"

// Family is the distribution family zfsinstall supports a host as.
type Family string

// The families; FamilyNone is a distribution zfsinstall does not support.
const (
	FamilyNone   Family = ""
	FamilyEL     Family = "el"
	FamilyFedora Family = "fedora"
)

// SecureBoot is the host's Secure Boot state.
type SecureBoot string

// The Secure Boot states.
const (
	SecureBootEnabled  SecureBoot = "enabled"
	SecureBootDisabled SecureBoot = "disabled"
	SecureBootUnknown  SecureBoot = "unknown"
)

// MOKState says whether DKMS's signing key is enrolled as a Machine Owner Key.
type MOKState string

// The MOK states ("" when not asked).
const (
	MOKEnrolled    MOKState = "enrolled"
	MOKNotEnrolled MOKState = "not-enrolled"
)

// UnitState is whether a systemd unit is enabled, from the unit symlinks.
type UnitState string

// The unit states.
const (
	UnitEnabled  UnitState = "enabled"
	UnitDisabled UnitState = "disabled"
	UnitMissing  UnitState = "missing" // no unit file: its package is not installed
)

// Distro is the parsed /etc/os-release.
type Distro struct {
	ID        string `json:"id"`         // rocky, almalinux, rhel, ol, centos, fedora, debian, ...
	IDLike    string `json:"id_like"`    // as in os-release
	Name      string `json:"name"`       // PRETTY_NAME
	VersionID string `json:"version_id"` // 9.4, 41, 9 (Stream)
	Major     int    `json:"major"`
	Minor     int    `json:"minor"` // -1 when the distro has no minor (Stream, Fedora)
	Family    Family `json:"family"`
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
	// Flavor and Variant classify the target kernel.
	Flavor  catalog.Flavor  `json:"flavor"`
	Variant catalog.Variant `json:"variant"`
	// ELMinor of the target ("9.4"), "" when not a stock EL kernel.
	ELMinor string `json:"el_minor"`
	// Upstream is the upstream Linux version of the target ("5.14", "6.1").
	Upstream string `json:"upstream"`
	// Default is the next boot's kernel, when known.
	Default string `json:"default,omitempty"`
	// Installed lists every kernel in the rpm database, oldest first.
	Installed []InstalledKernel `json:"installed"`
	// BootEntriesRead is true when /boot/loader/entries was read, so that
	// InstalledKernel.BootEntry means something.
	BootEntriesRead bool `json:"boot_entries_read,omitempty"`
	// BootLoader is how the host boots, as far as its files say: which
	// tool sets the default kernel ("" when nothing was recognised).
	BootLoader BootLoader `json:"boot_loader,omitempty"`
}

// BootLoader is how a host boots its kernels.
type BootLoader string

// The boot loaders zfsinstall tells apart.
const (
	// BootGRUB: GRUB 2 with BLS entries, the default managed by grubby
	// (EL8 and later, Fedora).
	BootGRUB BootLoader = "grub2"
	// BootSystemdBoot: systemd-boot reading BLS entries from the ESP; its
	// default is loader.conf's or the LoaderEntryDefault EFI variable,
	// which grubby does not manage.
	BootSystemdBoot BootLoader = "systemd-boot"
	// BootUKI: kernel-install lays kernels out as unified kernel images
	// (/etc/kernel/install.conf layout=uki).
	BootUKI BootLoader = "uki"
	// BootImageMode: an image-mode (bootc/ostree) host: kernels come with
	// the image (bootc upgrade), never from dnf.
	BootImageMode BootLoader = "image-mode"
)

// InstalledKernel is one kernel package in the rpm database.
type InstalledKernel struct {
	Release string          `json:"release"` // uname -r
	Package string          `json:"package"` // owning package name: kernel-core, kernel-lt-core, ...
	Flavor  catalog.Flavor  `json:"flavor"`
	Variant catalog.Variant `json:"variant"`
	ELMinor string          `json:"el_minor"`
	// Symbols are the kernel(SYMBOL) = HASH provides of the kernel's
	// packages (kernel-core, kernel-modules-core, ...) that some kmod-zfs in
	// these facts requires: symbol -> hash. SymbolsRead says they were read
	// (a kernel may provide none of them: ELRepo kernels provide no kABI).
	Symbols     map[string]string `json:"symbols,omitempty"`
	SymbolsRead bool              `json:"symbols_read,omitempty"`
	// BootEntry is true when a Boot Loader Specification entry boots this
	// kernel (/boot/loader/entries, EL8+ and Fedora): it can be chosen at
	// the boot menu, so it needs a working zfs module too.
	BootEntry bool `json:"boot_entry,omitempty"`
	// Module is the version of the zfs module this kernel would load
	// ("" for none); read only when OpenZFS is installed.
	Module string `json:"module,omitempty"`
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
	// Requires are the package's requirements on the kernel, as rpm and
	// dnf state them ("kernel(__alloc_pages) = 0x721dbc2e", "kernel-uname-r
	// <= 6.15.999"): recorded for kmod-zfs and zfs-dkms, where they decide
	// which kernels the module fits.
	Requires []string `json:"requires,omitempty"`
}

// DNF is the dnf a host runs, read from its own files (/usr/bin/dnf is a
// link to dnf-3 or to dnf5) and its rpm database.
type DNF struct {
	// Dialect is DNF4 or DNF5; "" when the host has no dnf.
	Dialect DNFDialect `json:"dialect,omitempty"`
	// Version is the installed dnf (dnf 4) or dnf5 package's version, ""
	// when not known.
	Version string `json:"version,omitempty"`
}

// DNFDialect is a generation of dnf: the two differ in command line and
// output (pkgmgr speaks both).
type DNFDialect string

// The dnf generations.
const (
	DNF4 DNFDialect = "dnf4"
	DNF5 DNFDialect = "dnf5"
)

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
	// GPGCheck is the section's gpgcheck= as written ("" when absent).
	GPGCheck string `json:"gpgcheck,omitempty"`
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
	ModuleOnDisk string `json:"module_on_disk"` // modinfo -k TARGET zfs: its version
	ModuleLoaded string `json:"module_loaded"`  // /sys/module/zfs/version
	// InInitramfs is true when the target's initramfs carries zfs.
	InInitramfs bool `json:"in_initramfs,omitempty"`
	// RootOnZFS is true when / is on ZFS: mounted from ZFS (live) or booted
	// with root=ZFS= on the kernel command line.
	RootOnZFS bool `json:"root_on_zfs,omitempty"`
	// HostID is true when /etc/hostid exists: the pools record the host id
	// that imported them, and an initramfs without it cannot import the
	// root pool cleanly.
	HostID bool `json:"hostid,omitempty"`
}

// DKMSEntry is one line of `dkms status`.
type DKMSEntry struct {
	Module  string `json:"module"`
	Version string `json:"version"`
	Kernel  string `json:"kernel"`
	State   string `json:"state"` // added, built, installed
}
