package views

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zfsinstall/zfsinstall/apply"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/update"
)

// Apply shows an apply: the plan it carries out, each step as it goes
// (apply.Hooks), and the outcome, once.
type Apply interface {
	apply.Hooks
	// Plan shows the plan about to be carried out.
	Plan(p *planner.Plan, f *facts.Facts, files map[string]*hcl.File) error
	// Approve asks for approval on in and reports whether it was given.
	Approve(in io.Reader) bool
	// Outcome reports how the apply ended.
	Outcome(o ApplyOutcome)
}

// ApplyOutcome is how an apply ended.
type ApplyOutcome struct {
	// Plan is the plan carried out; nil when apply stopped before it had
	// one (a spec that does not parse, facts that cannot be read, a saved
	// plan refused).
	Plan *planner.Plan
	// Result is what apply.Apply did; nil when it did not run.
	Result *apply.Result
	// Err is why the apply failed; nil when it succeeded (or the plan
	// has errors, which its diagnostics say).
	Err error
	// RebootReasons say why the host must reboot for what this apply
	// changed to take effect; empty when it need not.
	RebootReasons []string
	// Hold is what re-evaluating the kernel hold after the steps did; nil
	// when kernel.hold is off or apply stopped before.
	Hold *update.HoldResult
}

// NewApply returns the JSON or the human apply view.
func NewApply(json bool, s Streams) Apply {
	if json {
		return &ApplyJSON{Streams: s, took: map[string]time.Duration{}}
	}
	return &ApplyHuman{Streams: s}
}

// ApplyHuman shows the plan, asks for "yes", prints one line per step
// event ("ID: already in place, skipped", "ID: SUMMARY...", "ID: done
// [1.2s]") and a final line naming what was done and the versions
// installed.
type ApplyHuman struct {
	Streams
	begun bool
}

// begin separates the progress from the plan and the prompt above it.
func (v *ApplyHuman) begin() {
	if !v.begun {
		v.begun = true
		fmt.Fprintln(v.Out)
	}
}

// Plan implements Apply.
func (v *ApplyHuman) Plan(p *planner.Plan, f *facts.Facts, files map[string]*hcl.File) error {
	return HumanPlan(v.Out, p, f, files)
}

// Approve implements Apply.
func (v *ApplyHuman) Approve(in io.Reader) bool {
	fmt.Fprint(v.Out, "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
	line, _ := bufio.NewReader(in).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		fmt.Fprintln(v.Out, "\nApply cancelled.")
		return false
	}
	return true
}

// Skipped implements apply.Hooks.
func (v *ApplyHuman) Skipped(st planner.Step) {
	v.begin()
	fmt.Fprintf(v.Out, "%s: already in place, skipped\n", st.ID)
}

// Started implements apply.Hooks.
func (v *ApplyHuman) Started(st planner.Step) {
	v.begin()
	fmt.Fprintf(v.Out, "%s: %s...\n", st.ID, st.Summary)
}

// Done implements apply.Hooks.
func (v *ApplyHuman) Done(st planner.Step, took time.Duration) {
	fmt.Fprintf(v.Out, "%s: done [%s]\n", st.ID, took)
}

// Outcome implements Apply.
func (v *ApplyHuman) Outcome(o ApplyOutcome) {
	switch {
	case o.Err != nil && o.Result != nil:
		fmt.Fprintf(v.Err, "\nError: %v\n\nSteps finished before the failure stay done and files are only ever replaced whole. Fix the cause and run zfsinstall apply again: every step re-checks the host first, so it continues from where the host is.\n", o.Err)
	case o.Err != nil:
		fmt.Fprintf(v.Err, "Error: %v\n", o.Err)
	case o.Result != nil:
		add, change, remove := doneCounts(o.Plan, o.Result)
		fmt.Fprintf(v.Out, "\nApply complete! Steps: %d added, %d changed, %d removed (%d already in place; %d dnf transactions).",
			add, change, remove, len(o.Result.Skipped), o.Result.Transactions)
		if len(o.Result.Installed) > 0 {
			fmt.Fprintf(v.Out, " Installed %s.", strings.Join(o.Result.Installed, ", "))
		}
		fmt.Fprintln(v.Out)
	}
	if o.Hold != nil {
		(&UpdateHuman{Streams: v.Streams}).Hold(o.Hold, 0)
	}
	if len(o.RebootReasons) > 0 {
		fmt.Fprintf(v.Out, "\nReboot required: %s.\n", strings.Join(o.RebootReasons, "; "))
	}
}

// doneCounts counts the steps apply carried out by action.
func doneCounts(p *planner.Plan, res *apply.Result) (add, change, remove int) {
	action := map[string]planner.Action{}
	for _, s := range p.Steps {
		action[s.ID] = s.Action
	}
	for _, id := range res.Done {
		switch action[id] {
		case planner.Create:
			add++
		case planner.Update:
			change++
		case planner.Delete:
			remove++
		}
	}
	return
}

// ApplyJSON prints nothing while apply runs and one JSON object at the end
// (ApplyReport).
type ApplyJSON struct {
	Streams
	took map[string]time.Duration
}

// ApplyReport is the document apply --json prints: every step of the plan
// with its status, the IDs done and skipped, the packages installed, the
// dnf transactions run, and on failure the failed step and the error.
type ApplyReport struct {
	FormatVersion string `json:"format_version"`
	// OK is true when apply finished without error.
	OK           bool              `json:"ok"`
	Packaging    string            `json:"packaging,omitempty"`
	TargetKernel string            `json:"target_kernel,omitempty"`
	Steps        []ApplyStepReport `json:"steps"`
	// Done and Skipped are step IDs, in the order apply reached them.
	Done    []string `json:"done"`
	Skipped []string `json:"skipped"`
	// Installed are the OpenZFS packages installed, as NVRA
	// ("zfs-2.2.8-1.el9.x86_64").
	Installed    []string             `json:"installed"`
	Transactions int                  `json:"transactions"`
	Diagnostics  []planner.Diagnostic `json:"diagnostics"`
	Error        *ApplyErrorReport    `json:"error,omitempty"`
	// RebootRequired is true exactly when this apply changed the zfs
	// module or its packages under a running system (not a chroot or
	// --root) and that takes effect only at the next boot: the module was
	// installed for a kernel that is not running, a loaded module was
	// replaced and not reloaded, or a Secure Boot key enrolment is
	// pending. RebootReasons say which, for people. Added in format 1.
	RebootRequired bool     `json:"reboot_required"`
	RebootReasons  []string `json:"reboot_reasons"`
	// KernelHold is what re-evaluating the kernel hold after the steps
	// did (kernel.hold), absent when it was not re-evaluated.
	KernelHold *update.HoldResult `json:"kernel_hold,omitempty"`
}

// ApplyStepReport is one step of an apply. Status is "done", "skipped"
// (the host already had it), "failed" or "not-run".
type ApplyStepReport struct {
	ID         string         `json:"id"`
	Action     planner.Action `json:"action"`
	Summary    string         `json:"summary"`
	Status     string         `json:"status"`
	DurationMS int64          `json:"duration_ms,omitempty"`
}

// ApplyErrorReport is why an apply failed; Step is the failed step's ID
// ("" when apply failed before any step: a spec error, a refused saved
// plan, facts that could not be gathered).
type ApplyErrorReport struct {
	Step    string `json:"step,omitempty"`
	Message string `json:"message"`
}

// Plan implements Apply: the plan is part of the final object.
func (v *ApplyJSON) Plan(*planner.Plan, *facts.Facts, map[string]*hcl.File) error { return nil }

// Approve implements Apply: JSON output is only ever auto-approved.
func (v *ApplyJSON) Approve(io.Reader) bool { return true }

// Skipped implements apply.Hooks.
func (v *ApplyJSON) Skipped(planner.Step) {}

// Started implements apply.Hooks.
func (v *ApplyJSON) Started(planner.Step) {}

// Done implements apply.Hooks.
func (v *ApplyJSON) Done(st planner.Step, took time.Duration) { v.took[st.ID] = took }

// Outcome implements Apply.
func (v *ApplyJSON) Outcome(o ApplyOutcome) {
	r := ApplyReport{FormatVersion: FormatVersion, OK: o.Err == nil, Steps: []ApplyStepReport{},
		Done: []string{}, Skipped: []string{}, Installed: []string{}, Diagnostics: []planner.Diagnostic{},
		RebootRequired: len(o.RebootReasons) > 0, RebootReasons: append([]string{}, o.RebootReasons...)}
	if o.Result != nil {
		r.Done = append(r.Done, o.Result.Done...)
		r.Skipped = append(r.Skipped, o.Result.Skipped...)
		r.Installed = append(r.Installed, o.Result.Installed...)
		r.Transactions = o.Result.Transactions
	}
	r.KernelHold = o.Hold
	failed := ""
	var se *apply.StepError
	if errors.As(o.Err, &se) {
		failed = se.Step.ID
	}
	if o.Err != nil {
		r.Error = &ApplyErrorReport{Step: failed, Message: o.Err.Error()}
		fmt.Fprintf(v.Err, "Error: %v\n", o.Err)
	}
	if p := o.Plan; p != nil {
		r.Packaging, r.TargetKernel = string(p.Packaging), p.TargetKernel
		r.Diagnostics = append(r.Diagnostics, p.Diagnostics...)
		if p.HasErrors() && o.Err == nil {
			r.OK = false
			r.Error = &ApplyErrorReport{Message: "the plan has errors (see diagnostics); nothing was changed"}
		}
		status := map[string]string{}
		for _, id := range r.Done {
			status[id] = "done"
		}
		for _, id := range r.Skipped {
			status[id] = "skipped"
		}
		if failed != "" {
			status[failed] = "failed"
		}
		for _, s := range p.Steps {
			st := status[s.ID]
			if st == "" {
				st = "not-run"
			}
			r.Steps = append(r.Steps, ApplyStepReport{ID: s.ID, Action: s.Action, Summary: s.Summary, Status: st, DurationMS: v.took[s.ID].Milliseconds()})
		}
	}
	writeJSON(v.Out, r)
}
