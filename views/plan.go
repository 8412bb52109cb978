// Package views renders plans, apply progress and verify reports for
// people (Terraform's habits) and for machines (JSON). The planner never
// prints; only views do.
package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zfsinstall/zfsinstall/apply"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/spec"
	"github.com/zfsinstall/zfsinstall/verify"
)

// NoChanges is what a converged host's plan says.
const NoChanges = "No changes. This host already matches the spec."

// Plan prints p for people. files are the parsed spec files, for
// diagnostic snippets (may be nil).
func Plan(w io.Writer, p *planner.Plan, f *facts.Facts, files map[string]*hcl.File) error {
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
		if s.Kind == planner.KindFile && s.After != "" {
			for _, l := range strings.Split(strings.TrimRight(s.After, "\n"), "\n") {
				fmt.Fprintf(w, "      | %s\n", l)
			}
		}
		fmt.Fprintln(w)
	}
	notes(w, p)
	add, change, remove := p.Counts()
	fmt.Fprintf(w, "Plan: %d to add, %d to change, %d to remove.\n", add, change, remove)
	return nil
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

// planJSON is the machine-readable plan.
type planJSON struct {
	*planner.Plan
	Summary struct {
		Add    int `json:"add"`
		Change int `json:"change"`
		Remove int `json:"remove"`
	} `json:"summary"`
}

// PlanJSON prints p as JSON.
func PlanJSON(w io.Writer, p *planner.Plan) error {
	out := planJSON{Plan: p}
	out.Summary.Add, out.Summary.Change, out.Summary.Remove = p.Counts()
	return writeJSON(w, out)
}

// Facts prints facts for people.
func Facts(w io.Writer, f *facts.Facts) {
	fmt.Fprintf(w, "distro:        %s (id %s, version %s, family %s)\n", f.Distro.Name, f.Distro.ID, f.Distro.VersionID, f.Distro.Family)
	fmt.Fprintf(w, "kernel:        running %s, target %s (%s%s, EL minor %s)\n", f.Kernel.Running, f.Kernel.Target, f.Kernel.Flavor, variant(string(f.Kernel.Variant)), orDash(f.Kernel.ELMinor))
	for _, k := range f.Kernel.Installed {
		fmt.Fprintf(w, "  installed:   %s (%s, %s)\n", k.Release, k.Package, k.Flavor)
	}
	fmt.Fprintf(w, "zfs:           userland %s, module on disk %s, loaded %s\n", orDash(f.ZFS.Userland), orDash(f.ZFS.ModuleOnDisk), orDash(f.ZFS.ModuleLoaded))
	fmt.Fprintf(w, "secure boot:   %s\nchroot:        %v\n", f.SecureBoot, f.Chroot)
	fmt.Fprintln(w, "packages:")
	for _, p := range f.Packages {
		fmt.Fprintf(w, "  %s\n", p.NVRA())
	}
	fmt.Fprintln(w, "repos:")
	for _, r := range f.Repos {
		fmt.Fprintf(w, "  %-24s enabled=%s  %s\n", r.ID, map[bool]string{true: "1", false: "0"}[r.Enabled], r.File)
	}
	if !f.Available.Known {
		fmt.Fprintf(w, "available:     unknown (%s)\n", f.Available.Reason)
	} else {
		fmt.Fprintln(w, "available:")
		for _, p := range f.Available.Packages {
			fmt.Fprintf(w, "  %s (%s)\n", p.NVRA(), p.Repo)
		}
	}
}

func variant(v string) string {
	if v == "" {
		return ""
	}
	return "+" + v
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Report prints a verify or guard report for people; title names which.
func Report(w io.Writer, title string, r verify.Report) {
	for _, c := range r.Checks {
		mark := "ok  "
		switch {
		case c.Skipped:
			mark = "skip"
		case !c.OK:
			mark = "FAIL"
		}
		fmt.Fprintf(w, "[%s] %-34s %s\n", mark, c.Name, c.Detail)
	}
	if r.OK {
		fmt.Fprintf(w, "\n%s: OK.\n", title)
	} else {
		fmt.Fprintf(w, "\n%s: FAILED.\n", title)
	}
}

// JSON prints any value as indented JSON.
func JSON(w io.Writer, v any) error { return writeJSON(w, v) }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// ApplyProgress shows apply's progress for people, one line per event:
// "ID: already in place, skipped", "ID: SUMMARY...", "ID: done [1.2s]".
func ApplyProgress(w io.Writer) apply.Hooks { return applyProgress{w} }

type applyProgress struct{ w io.Writer }

func (v applyProgress) Skipped(st planner.Step) {
	fmt.Fprintf(v.w, "%s: already in place, skipped\n", st.ID)
}

func (v applyProgress) Started(st planner.Step) {
	fmt.Fprintf(v.w, "%s: %s...\n", st.ID, st.Summary)
}

func (v applyProgress) Done(st planner.Step, took time.Duration) {
	fmt.Fprintf(v.w, "%s: done [%s]\n", st.ID, took)
}
