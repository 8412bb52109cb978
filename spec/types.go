// Package spec turns an HCL host spec into a typed Spec with diagnostics.
// Nothing in it touches the host.
package spec

import (
	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
)

// Spec is a decoded, validated host spec with every default filled in.
type Spec struct {
	// Filename is the path the spec was read from (for diagnostics).
	Filename string
	// Source is the spec text as written; zfsinstall keeps a copy on the
	// host for the units that run `zfsinstall verify` and the guard.
	Source   string
	ZFS      ZFS
	Kernel   Kernel
	Module   Module
	Services Services
	Guard    Guard
	// Ranges maps an attribute path such as "zfs.packaging" to where it was
	// written, so the planner can point a refusal at the attribute. Absent
	// for attributes left at their default.
	Ranges map[string]hcl.Range
}

// Packaging is how the zfs kernel module gets onto the host.
type Packaging string

// The packagings: auto lets the planner choose DKMS or kmod from the host.
const (
	PackagingAuto Packaging = "auto"
	PackagingDKMS Packaging = "dkms"
	PackagingKmod Packaging = "kmod"
)

// ZFS is the `zfs` block.
type ZFS struct {
	// Version is the constraint as written ("" = any); Constraint is it parsed (nil = any).
	Version    string
	Constraint version.Constraints
	// Packaging is PackagingAuto (default), PackagingDKMS or PackagingKmod.
	Packaging Packaging
	// Repo is "default" (default), "latest", "legacy" or a branch "x.y".
	Repo string
	// ReleaseRPM overrides the zfs-release package: an https URL or a local path.
	ReleaseRPM string
	// Mirror replaces http://download.zfsonlinux.org in the baseurl of the
	// OpenZFS sections in use ("" = none): air-gapped and enterprise hosts.
	Mirror             string
	InsecureReleaseURL bool
	AllowDowngrade     bool
	// AllowKnownBad lists advisory IDs the administrator accepts.
	AllowKnownBad []string
}

// Kernel is the `kernel` block.
type Kernel struct {
	// Target is "running" (default), "default", "all" or an explicit uname -r.
	Target string
	// Devel installs the kernel-devel matching each target (default true; DKMS needs it).
	Devel bool
	// Hold keeps dnf from installing a kernel ZFS would not survive
	// (default true): the packages of exactly that kernel build are
	// excluded in dnf.conf until a module that works there is offered.
	Hold bool
}

// Module is the `module` block.
type Module struct {
	Autoload bool // write /etc/modules-load.d/zfs.conf (default true)
	Load     bool // modprobe zfs after install (default true)
	Options  map[string]string
}

// Services is the `services` block.
type Services struct {
	Import       string // "cache" (default), "scan" or "none"
	ZED          bool   // default true
	Mount        bool   // default true
	Share        bool   // default false
	VerifyOnBoot bool   // default false: install a oneshot unit running `zfsinstall verify`
}

// Guard is the `guard` block.
type Guard struct {
	Enabled bool // default false: install the kernel-update guard hook
}

// Default returns the spec an empty file decodes to.
func Default() *Spec {
	return &Spec{
		ZFS:      ZFS{Packaging: PackagingAuto, Repo: "default"},
		Kernel:   Kernel{Target: "running", Devel: true, Hold: true},
		Module:   Module{Autoload: true, Load: true, Options: map[string]string{}},
		Services: Services{Import: "cache", ZED: true, Mount: true},
		Ranges:   map[string]hcl.Range{},
	}
}
