// Package planner turns a host spec and host facts into a Plan: an ordered
// list of steps, each with an action, a summary and the reason for it.
// Planning is a pure function of its inputs: it never touches the host and
// never prints.
package planner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zfsinstall/zfsinstall/facts"
)

// FormatVersion is the version of the JSON layout of a Plan.
const FormatVersion = "1"

// Action is what a step does to the host, in Terraform's symbols.
type Action string

// The actions a step can take.
const (
	Create Action = "+"
	Update Action = "~"
	Delete Action = "-"
)

// Kind names how a step is checked, done and verified during apply.
type Kind string

// The step kinds apply knows how to carry out.
const (
	KindRelease Kind = "release" // verify and install zfs-release, import its key
	KindKey     Kind = "key"     // import the OpenZFS key into the rpm database
	KindRepo    Kind = "repo"    // set one repo section's enabled flag
	KindPackage Kind = "package" // install or remove one package (batched by Txn)
	KindHold    Kind = "hold"    // hold the zfs packages at a version
	KindDKMS    Kind = "dkms"    // build and install the module for one kernel
	KindFile    Kind = "file"    // write or remove a small config file
	KindService Kind = "service" // enable or disable a systemd unit
	KindModule  Kind = "module"  // load or reload the zfs module
	KindCommand Kind = "command" // run one program (dracut) after the module changed
)

// Step is one change to the host. The fields after Reason are the data apply
// needs; Reason is for people and never drives a decision during apply.
type Step struct {
	ID      string `json:"id"`
	Action  Action `json:"action"`
	Kind    Kind   `json:"kind"`
	Summary string `json:"summary"`
	Reason  string `json:"reason"`
	Before  string `json:"before,omitempty"`
	After   string `json:"after,omitempty"`

	// Txn groups package steps run in one dnf transaction (0: not a package step).
	Txn int `json:"txn,omitempty"`
	// Package is a dnf package spec: a name, an NVRA, or a local file.
	Package string `json:"package,omitempty"`
	// Constraint limits the versions a package step may resolve to at apply.
	Constraint string `json:"constraint,omitempty"`
	// EnableRepos are repos enabled for this step's transaction only.
	EnableRepos []string `json:"enable_repos,omitempty"`
	// Path is the file a file, repo or release step touches.
	Path string `json:"path,omitempty"`
	// Content is a file step's wanted content ("" with Delete: remove).
	Content string `json:"content,omitempty"`
	// Mode is a file step's permission bits for a new file (0: 0644).
	Mode uint32 `json:"mode,omitempty"`
	// Section and Enabled describe a repo step.
	Section string `json:"section,omitempty"`
	Enabled bool   `json:"enabled,omitempty"`
	// Argv is the program a command step runs.
	Argv []string `json:"argv,omitempty"`
	// CheckArgv, when set, tells whether a command step is already done:
	// it is when CheckArgv prints CheckOutput.
	CheckArgv   []string `json:"check_argv,omitempty"`
	CheckOutput string   `json:"check_output,omitempty"`
	// Kernel is the kernel a dkms step builds for.
	Kernel string `json:"kernel,omitempty"`
	// Unit is the systemd unit of a service step.
	Unit string `json:"unit,omitempty"`
	// Key is the key file a release or key step trusts.
	Key string `json:"key,omitempty"`
	// Version is the version a hold or dkms step pins ("" = the installed one).
	Version string `json:"version,omitempty"`
}

// Diagnostic is a refusal (error) or a caution (warning) found while
// planning, pointing at the spec attribute that caused it when there is one.
type Diagnostic struct {
	Severity  string     `json:"severity"` // "error" or "warning"
	Summary   string     `json:"summary"`
	Detail    string     `json:"detail,omitempty"`
	Attribute string     `json:"attribute,omitempty"`
	Range     *hcl.Range `json:"range,omitempty"`
}

// Plan is the ordered set of steps that brings a host to its spec.
type Plan struct {
	FormatVersion   string   `json:"format_version"`
	Packaging       string   `json:"packaging"`
	PackagingReason string   `json:"packaging_reason"`
	TargetKernel    string   `json:"target_kernel"`
	TargetKernels   []string `json:"target_kernels,omitempty"`
	// AllowKnownBad are the advisory IDs the spec accepts; apply never
	// resolves a version range to a release with any other advisory.
	AllowKnownBad []string `json:"allow_known_bad,omitempty"`
	// AllowDowngrade lets apply resolve to a release older than the installed one.
	AllowDowngrade bool         `json:"allow_downgrade,omitempty"`
	Steps          []Step       `json:"steps"`
	Notes          []string     `json:"notes,omitempty"`
	Diagnostics    []Diagnostic `json:"diagnostics"`
	// FactsDigest identifies the facts the plan was made from; a saved plan
	// applied to a host whose facts differ is stale.
	FactsDigest string `json:"facts_digest"`
}

// HasErrors reports whether any diagnostic is an error: such a plan must
// not be applied.
func (p *Plan) HasErrors() bool {
	for _, d := range p.Diagnostics {
		if d.Severity == "error" {
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
