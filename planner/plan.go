package planner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/spec"
)

// FormatVersion is the version of the JSON layout of a Plan. 2: each step
// kind carries its own typed payload instead of one flat set of fields.
const FormatVersion = "2"

// Action is what a step does to the host, in Terraform's symbols.
type Action string

// The actions a step can take.
const (
	Create Action = "+"
	Update Action = "~"
	Delete Action = "-"
)

// Kind names how a step is checked, done and verified during apply; each
// kind has exactly one payload field in Step.
type Kind string

// The step kinds apply knows how to carry out.
const (
	KindRelease Kind = "release" // verify and install zfs-release, import its key
	KindKey     Kind = "key"     // import the OpenZFS key into the rpm database
	KindRepo    Kind = "repo"    // set one repo section's enabled flag
	KindHold    Kind = "hold"    // hold the zfs packages at a version
	KindOption  Kind = "option"  // set one option of one repo section (baseurl, gpgkey, gpgcheck)
	KindPackage Kind = "package" // install or remove one package (batched by Txn)
	KindDKMS    Kind = "dkms"    // build and install the module for one kernel
	KindFile    Kind = "file"    // write or remove a small config file
	KindService Kind = "service" // enable or disable a systemd unit
	KindModule  Kind = "module"  // load or reload the zfs module
	KindCommand Kind = "command" // run one program after the module changed
	// KindKernelHold lifts the kernel hold (kernel.hold turned off): the
	// hold's exclusions leave dnf.conf and its record goes.
	KindKernelHold Kind = "kernel-hold"
)

// Step is one change to the host. Summary, Reason, Before and After are
// for people and never drive a decision during apply; what apply needs is
// in the one payload field that matches Kind.
type Step struct {
	ID      string `json:"id"`
	Action  Action `json:"action"`
	Kind    Kind   `json:"kind"`
	Summary string `json:"summary"`
	Reason  string `json:"reason"`
	Before  string `json:"before,omitempty"`
	After   string `json:"after,omitempty"`
	// Txn groups release and package steps run in one dnf transaction (0: none).
	Txn int `json:"txn,omitempty"`

	Release *ReleaseStep `json:"release,omitempty"`
	Key     *KeyStep     `json:"key,omitempty"`
	Repo    *RepoStep    `json:"repo,omitempty"`
	Hold    *HoldStep    `json:"hold,omitempty"`
	Option  *OptionStep  `json:"option,omitempty"`
	Package *PackageStep `json:"package,omitempty"`
	DKMS    *DKMSStep    `json:"dkms,omitempty"`
	File    *FileStep    `json:"file,omitempty"`
	Service *ServiceStep `json:"service,omitempty"`
	Module  *ModuleStep  `json:"module,omitempty"`
	Command *CommandStep `json:"command,omitempty"`
	// KernelHold is KindKernelHold's payload.
	KernelHold *KernelHoldStep `json:"kernel_hold,omitempty"`
}

// KernelHoldStep lifts the kernel hold. (Holding is re-evaluated from the
// repositories after every apply and by the hold's timer, not planned: what
// the repositories offer changes with every mirror sync.)
type KernelHoldStep struct {
	// Held are the kernels the hold holds now, for people.
	Held []string `json:"held,omitempty"`
}

// ReleaseStep installs the zfs-release package from verified bytes.
type ReleaseStep struct {
	// Source is the https URL or local path of the package.
	Source string `json:"source"`
	// SHA256 is the digest verified at plan time ("" when it could not be
	// fetched then); apply installs only a file with this digest.
	SHA256 string `json:"sha256,omitempty"`
	// Key names the trusted key the package must be signed with.
	Key string `json:"key"`
}

// KeyStep imports a trusted key into the rpm database.
type KeyStep struct {
	Name string `json:"name"`
}

// RepoStep sets the enabled flag of one section of a repo file.
type RepoStep struct {
	Path    string `json:"path"`
	Section string `json:"section"`
	Enabled bool   `json:"enabled"`
}

// HoldStep sets or removes (Pattern "") a section's includepkgs= hold.
type HoldStep struct {
	Path    string `json:"path"`
	Section string `json:"section"`
	Pattern string `json:"pattern,omitempty"`
}

// OptionStep sets key=value in one section of a repo file, every other
// byte of the file kept.
type OptionStep struct {
	Path    string `json:"path"`
	Section string `json:"section"`
	Key     string `json:"key"`
	Value   string `json:"value"`
}

// PackageStep installs (or, with Action Delete, removes) one package.
type PackageStep struct {
	// Name is the rpm package name.
	Name string `json:"name"`
	// NVRA is the exact package when the plan names one (kernel-devel of
	// the target kernel); "" when apply resolves the version.
	NVRA string `json:"nvra,omitempty"`
	// Version is the OpenZFS version zfs.version pins ("" = resolve).
	Version string `json:"version,omitempty"`
	// Constraint limits the versions apply may resolve to.
	Constraint string `json:"constraint,omitempty"`
	// ZFS marks zfs and its module package, which always resolve together.
	ZFS bool `json:"zfs,omitempty"`
	// URL is where dnf installs the package from when no repository
	// carries it (EPEL's epel-release on RHEL).
	URL string `json:"url,omitempty"`
	// EnableRepos are repos enabled for this step's transaction only.
	EnableRepos []string `json:"enable_repos,omitempty"`
}

// Spec is the dnf package spec apply asks for: the exact NVRA, or the name
// with the pinned version.
func (p *PackageStep) Spec() string {
	switch {
	case p.URL != "":
		return p.URL
	case p.NVRA != "":
		return p.NVRA
	case p.Version != "":
		return p.Name + "-" + p.Version
	}
	return p.Name
}

// DKMSStep builds and installs the zfs module for one kernel.
type DKMSStep struct {
	Kernel string `json:"kernel"`
	// Version is the zfs-dkms version to build ("" = the one installed by
	// this plan's package transaction).
	Version string `json:"version,omitempty"`
}

// FileStep writes (or, with Action Delete, removes) a small file.
type FileStep struct {
	Path    string `json:"path"`
	Content string `json:"content,omitempty"`
	// Mode is the permission bits of a new file (0: 0644).
	Mode uint32 `json:"mode,omitempty"`
}

// ServiceStep enables or disables one systemd unit.
type ServiceStep struct {
	Unit    string `json:"unit"`
	Enabled bool   `json:"enabled"`
}

// ModuleStep loads the zfs module, unloading a stale one first (Reload).
type ModuleStep struct {
	Reload bool `json:"reload,omitempty"`
}

// CommandStep runs one program zfsinstall itself chose (dracut, mokutil).
type CommandStep struct {
	Argv []string `json:"argv"`
	// CheckArgv, when set, tells whether the step is already done: it is
	// when CheckArgv prints CheckOutput.
	CheckArgv   []string `json:"check_argv,omitempty"`
	CheckOutput string   `json:"check_output,omitempty"`
	// Creates, when set, is a file on the host the command creates: the
	// step is done once it exists.
	Creates string `json:"creates,omitempty"`
}

// Severity tells a refusal from a caution.
type Severity string

// The severities: an error stops the plan, a warning does not.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Diagnostic is a refusal (error) or a caution (warning) found while
// planning, pointing at the spec attribute that caused it when there is one.
type Diagnostic struct {
	Severity  Severity   `json:"severity"`
	Summary   string     `json:"summary"`
	Detail    string     `json:"detail,omitempty"`
	Attribute string     `json:"attribute,omitempty"`
	Range     *hcl.Range `json:"range,omitempty"`
}

// HCL converts the diagnostic for hcl printing (file:line:col and a snippet).
func (d Diagnostic) HCL() *hcl.Diagnostic {
	sev := hcl.DiagError
	if d.Severity == SeverityWarning {
		sev = hcl.DiagWarning
	}
	return &hcl.Diagnostic{Severity: sev, Summary: d.Summary, Detail: d.Detail, Subject: d.Range}
}

// Plan is the ordered set of steps that brings a host to its spec.
type Plan struct {
	FormatVersion   string         `json:"format_version"`
	Packaging       spec.Packaging `json:"packaging"`
	PackagingReason string         `json:"packaging_reason"`
	TargetKernel    string         `json:"target_kernel"`
	TargetKernels   []string       `json:"target_kernels,omitempty"`
	// AllowKnownBad are the advisory IDs the spec accepts; apply never
	// resolves a version range to a release with any other advisory.
	AllowKnownBad []string `json:"allow_known_bad,omitempty"`
	// AllowDowngrade lets apply resolve to a release older than the installed one.
	AllowDowngrade bool `json:"allow_downgrade,omitempty"`
	// KernelHold says kernel.hold is on for this host: after the steps,
	// apply re-evaluates the hold from the repositories (update.Hold).
	KernelHold  bool         `json:"kernel_hold,omitempty"`
	Steps       []Step       `json:"steps"`
	Notes       []string     `json:"notes,omitempty"`
	Diagnostics []Diagnostic `json:"diagnostics"`
	// FactsDigest identifies the facts the plan was made from; a saved plan
	// applied to a host whose facts differ is stale.
	FactsDigest string `json:"facts_digest"`
}

// HasErrors reports whether any diagnostic is an error: such a plan must
// not be applied.
func (p *Plan) HasErrors() bool {
	for _, d := range p.Diagnostics {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Counts returns how many steps add, change and remove.
func (p *Plan) Counts() (add, change, remove int) {
	for _, s := range p.Steps {
		switch s.Action {
		case Create:
			add++
		case Update:
			change++
		case Delete:
			remove++
		}
	}
	return
}

// Kernels are the kernels the plan targets.
func (p *Plan) Kernels() []string {
	if len(p.TargetKernels) > 0 {
		return p.TargetKernels
	}
	return []string{p.TargetKernel}
}

// Digest hashes the facts that matter for a plan's validity. What the
// repositories offer is left out: it changes with every mirror sync and is
// re-resolved at apply anyway.
func Digest(f *facts.Facts) string {
	c := *f
	c.Available = facts.Available{}
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("facts digest: %v", err)) // Facts is plain data
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
