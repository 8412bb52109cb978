// Package planner turns a host spec and host facts into a Plan: an ordered
// list of steps, each with an action, a summary and the reason for it.
// Planning is a pure function of its inputs: it never touches the host and
// never prints.
//
// A plan is made in stages, one file each, run in the order Make lists.
// Stages hand their decisions to later ones through typed fields of
// planner (backend, replacesModule, buildsDKMS, mokPending), never by
// looking for each other's steps.
package planner

import (
	"fmt"

	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/repos"
	"github.com/zfsinstall/zfsinstall/spec"
)

// Options are planning inputs that come from the command line, not the spec.
type Options struct {
	// Kernel overrides the spec's kernel.target (plan --kernel RELEASE).
	Kernel string
	// ReleaseKey replaces the pinned OpenZFS key (--release-key: private
	// mirrors that re-sign, test beds). Nil: the pinned key for the host.
	ReleaseKey *repos.Key
	// ReleaseCheck is the outcome of verifying the zfs-release package
	// before planning (nil: not checked, e.g. the URL was not reachable).
	ReleaseCheck *ReleaseCheck
	// Binary is the path of the zfsinstall binary itself, which the
	// day-2 unit and hook run ("": DefaultBinary).
	Binary string
}

// ReleaseCheck is what verifying the zfs-release package at plan time found.
type ReleaseCheck struct {
	Info repos.ReleaseInfo
	Err  error
}

// Transactions, in the order apply runs them.
const (
	txnRelease  = 1 // zfs-release (+ epel-release): repos must exist before anything is installed from them
	txnPackages = 2 // kernel-devel, dkms, zfs and its module, removal of the other packaging
)

// planner carries one planning run: the inputs, the plan being built, and
// the decisions stages hand to later stages.
type planner struct {
	s    *spec.Spec
	f    *facts.Facts
	opts Options
	p    *Plan

	// Set by targets: the kernels the module must work on, classified.
	kernels []catalog.KernelInfo
	// Set by choosePackaging: the packaging in use.
	backend backends.Backend
	// buildsDKMS is true when the module is built on the host (DKMS).
	buildsDKMS bool
	// Set by the version stage: the OpenZFS version dnf will install, ""
	// when only apply can tell (a range and the repositories not asked).
	candidate string
	// Set by packages: the plan installs, updates or replaces zfs or its
	// module package, so the module on disk changes; installsModulePackage
	// when it is the module package itself (zfs-dkms or kmod-zfs).
	replacesModule        bool
	installsModulePackage bool
	// Set by dkmsBuilds: a DKMS build is planned.
	buildPlanned bool
	// Set by mok: the DKMS key's enrolment is requested and waits for the
	// next boot, so the module cannot load before it.
	mokPending bool
}

// Make plans the changes that bring the host described by f to spec s.
func Make(s *spec.Spec, f *facts.Facts, opts Options) *Plan {
	pl := &planner{s: s, f: f, opts: opts, p: &Plan{
		FormatVersion: FormatVersion, Steps: []Step{}, Diagnostics: []Diagnostic{}, FactsDigest: Digest(f),
		AllowKnownBad: s.ZFS.AllowKnownBad, AllowDowngrade: s.ZFS.AllowDowngrade,
	}}
	pl.plan()
	if pl.p.HasErrors() {
		pl.p.Steps = []Step{}
	}
	return pl.p
}

// plan runs the stages in order. Each returns false when a refusal makes
// the later stages meaningless. The order, and why:
//
//  1. host, targets: nothing can be decided before knowing the distribution
//     and the kernels the module must work on.
//  2. packaging: DKMS or kmod decides the repositories, the packages and
//     whether anything is built, so every later stage reads it.
//  3. versions: the release dnf will install is checked (kernel
//     compatibility, advisories) before any step is planned, so a refusal
//     comes before the plan shows steps that would change the host.
//  4. release, epel: zfs-release (and EPEL) must exist before their
//     repositories can be switched or used (transaction 1).
//  5. package sources, repo sections and the hold: no OpenZFS source but
//     zfs.repo, GPG checks on, exactly one OpenZFS section enabled before
//     packages are installed from it.
//  6. packages: kernel-devel, dkms, zfs and its module in one transaction
//     (transaction 2); this sets replacesModule.
//  7. after the module package: DKMS builds per kernel, the kernels with a
//     boot entry that will have no module (needs the builds), the MOK
//     enrolment (needs the DKMS key the build makes), the initramfs rebuild
//     (needs the new module on disk).
//  8. config: module autoload/options and the day-2 files; they do not
//     depend on the packages but the module load below reads them. The
//     kernel hold's units come with them, before services enables its
//     timer.
//  9. runtime: services (their units come with the zfs package) and,
//     last, loading the module, which needs everything above.
func (pl *planner) plan() {
	stages := []func() bool{
		pl.host,
		pl.targets,
		pl.choosePackaging,
		pl.versions,
		pl.release,
		pl.epel,
		pl.sources,
		pl.repoSections,
		pl.packages,
		pl.dkmsBuilds,
		pl.otherKernels,
		pl.mok,
		pl.initramfs,
		pl.config,
		pl.kernelHold,
		pl.services,
		pl.module,
	}
	for _, stage := range stages {
		if !stage() {
			return
		}
	}
}

func (pl *planner) errorf(attr, summary, detail string, args ...any) {
	pl.diag(SeverityError, attr, summary, fmt.Sprintf(detail, args...))
}

func (pl *planner) warnf(attr, summary, detail string, args ...any) {
	pl.diag(SeverityWarning, attr, summary, fmt.Sprintf(detail, args...))
}

func (pl *planner) diag(sev Severity, attr, summary, detail string) {
	d := Diagnostic{Severity: sev, Summary: summary, Detail: detail, Attribute: attr}
	if r, ok := pl.s.Ranges[attr]; ok && attr != "" {
		d.Range = &r
	}
	pl.p.Diagnostics = append(pl.p.Diagnostics, d)
}

func (pl *planner) note(format string, args ...any) {
	pl.p.Notes = append(pl.p.Notes, fmt.Sprintf(format, args...))
}

func (pl *planner) add(s Step) { pl.p.Steps = append(pl.p.Steps, s) }
