package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/spec"
)

// NoChanges is what a converged host's plan says.
const NoChanges = "No changes. This host already matches the spec."

// Plan shows one host's plan.
type Plan interface {
	// Plan shows p, made from f (nil when unknown); files are the parsed
	// spec files, for diagnostic snippets (may be nil).
	Plan(p *planner.Plan, f *facts.Facts, files map[string]*hcl.File) error
	// Saved says where the plan was saved and the command that applies it.
	Saved(path, applyCommand string)
}

// NewPlan returns the JSON or the human plan view.
func NewPlan(json bool, s Streams) Plan {
	if json {
		return &PlanJSON{s}
	}
	return &PlanHuman{s}
}

// PlanHuman shows a plan as Terraform does: a legend, one block per step
// with its reason, file contents (a unified diff for a changed file), and
// "Plan: N to add, N to change, N to remove."
type PlanHuman struct{ Streams }

// Plan implements Plan.
func (v *PlanHuman) Plan(p *planner.Plan, f *facts.Facts, files map[string]*hcl.File) error {
	return HumanPlan(v.Out, p, f, files)
}

// Saved implements Plan.
func (v *PlanHuman) Saved(path, applyCommand string) {
	fmt.Fprintf(v.Out, "\nSaved the plan to %s. To carry out exactly these steps, run:\n  %s\n", path, applyCommand)
}

// PlanJSON prints the plan as one JSON document (planner.Plan with a
// summary of its counts).
type PlanJSON struct{ Streams }

// Plan implements Plan.
func (v *PlanJSON) Plan(p *planner.Plan, _ *facts.Facts, _ map[string]*hcl.File) error {
	out := planJSON{Plan: p}
	out.Summary.Add, out.Summary.Change, out.Summary.Remove = p.Counts()
	return writeJSON(v.Out, out)
}

// Saved implements Plan: standard output holds only the plan, so the hint
// goes to standard error.
func (v *PlanJSON) Saved(path, applyCommand string) {
	fmt.Fprintf(v.Err, "Saved the plan to %s; apply it with: %s\n", path, applyCommand)
}

// planJSON is the machine-readable plan.
type planJSON struct {
	*planner.Plan
	Summary struct {
		Add    int `json:"add"`
		Change int `json:"change"`
		Remove int `json:"remove"`
	} `json:"summary"`
}

// HumanPlan prints p for people to w.
func HumanPlan(w io.Writer, p *planner.Plan, f *facts.Facts, files map[string]*hcl.File) error {
	if err := Diagnostics(w, p.Diagnostics, files); err != nil {
		return err
	}
	if p.HasErrors() {
		return nil
	}
	fmt.Fprintf(w, "Host: %s, target kernel %s", hostName(f), p.TargetKernel)
	if len(p.TargetKernels) > 1 {
		fmt.Fprintf(w, " (all: %s)", strings.Join(p.TargetKernels, ", "))
	}
	fmt.Fprintf(w, "\nPackaging: %s\n  %s\n\n", p.Packaging, p.PackagingReason)
	if len(p.Steps) == 0 {
		fmt.Fprintln(w, NoChanges)
		notes(w, p)
		return nil
	}
	fmt.Fprint(w, "zfsinstall will perform the following actions. Step actions are indicated with the following symbols:\n"+
		"  + create\n  ~ update in-place\n  - remove\n\n")
	txn := 0
	for _, s := range p.Steps {
		if s.Txn != 0 && s.Txn != txn {
			fmt.Fprintf(w, "  # dnf transaction %d\n", s.Txn)
		}
		txn = s.Txn
		fmt.Fprintf(w, "  %s %s\n", s.Action, s.Summary)
		fmt.Fprintf(w, "      # %s\n", s.ID)
		fmt.Fprintf(w, "      because: %s\n", s.Reason)
		if s.Kind == planner.KindFile && s.File != nil {
			fileContent(w, s)
		}
		fmt.Fprintln(w)
	}
	notes(w, p)
	add, change, remove := p.Counts()
	fmt.Fprintf(w, "Plan: %d to add, %d to change, %d to remove.\n", add, change, remove)
	return nil
}

// fileContent shows what a file step writes: a new file's content, or the
// unified diff from the file on the host to what apply writes (its
// FileStep.Content, which is what apply uses, not the step's After).
func fileContent(w io.Writer, s planner.Step) {
	switch s.Action {
	case planner.Create:
		for _, l := range splitLines(s.File.Content) {
			fmt.Fprintf(w, "      | %s\n", l)
		}
	case planner.Update, planner.Delete:
		after := s.File.Content
		label := s.File.Path + " (planned)"
		if s.Action == planner.Delete {
			after, label = "", "/dev/null"
		}
		fmt.Fprintf(w, "      --- %s\n      +++ %s\n", s.File.Path, label)
		for _, l := range unifiedDiff(s.Before, after) {
			fmt.Fprintf(w, "      %s\n", l)
		}
	}
}

func notes(w io.Writer, p *planner.Plan) {
	if len(p.Notes) == 0 {
		return
	}
	fmt.Fprintln(w, "\nNotes:")
	for _, n := range p.Notes {
		fmt.Fprintf(w, "  - %s\n", n)
	}
	fmt.Fprintln(w)
}

func hostName(f *facts.Facts) string {
	if f == nil {
		return "(unknown)"
	}
	name := f.Distro.Name
	if name == "" {
		name = f.Distro.ID + " " + f.Distro.VersionID
	}
	if f.Root != "" && f.Root != "/" {
		name += " at " + f.Root
	}
	return name
}

// Diagnostics prints plan diagnostics; those pointing into the spec get a
// file:line:col and a source snippet.
func Diagnostics(w io.Writer, ds []planner.Diagnostic, files map[string]*hcl.File) error {
	if len(ds) == 0 {
		return nil
	}
	var hd hcl.Diagnostics
	for _, d := range ds {
		hd = append(hd, d.HCL())
	}
	return spec.WriteDiagnostics(w, files, hd)
}
