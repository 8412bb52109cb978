package views

import (
	"fmt"
	"strings"

	"github.com/zfsinstall/zfsinstall/planner"
)

// FleetHost is one host of a fleet plan: its name (the facts file's name
// without .json), the file, and its plan, or why there is none.
type FleetHost struct {
	Name string
	File string
	// Plan is nil when the facts could not be read (Err says why).
	Plan *planner.Plan
	Err  error
}

// diagnostics are the host's diagnostics, a facts file that could not be
// read being one error.
func (h FleetHost) diagnostics() (errs, warns []planner.Diagnostic) {
	errs, warns = []planner.Diagnostic{}, []planner.Diagnostic{}
	if h.Err != nil {
		errs = append(errs, planner.Diagnostic{Severity: planner.SeverityError, Summary: "Cannot read the facts", Detail: h.Err.Error()})
	}
	if h.Plan != nil {
		for _, d := range h.Plan.Diagnostics {
			if d.Severity == planner.SeverityError {
				errs = append(errs, d)
			} else {
				warns = append(warns, d)
			}
		}
	}
	return errs, warns
}

// Fleet shows the plans of many hosts, one entry per host.
type Fleet interface {
	Fleet(hosts []FleetHost)
}

// NewFleet returns the JSON or the human fleet view.
func NewFleet(json bool, s Streams) Fleet {
	if json {
		return &FleetJSON{s}
	}
	return &FleetHuman{s}
}

// FleetHuman prints a table: host, packaging, changes, and under a host
// its errors; then a one-line total.
type FleetHuman struct{ Streams }

// Fleet implements Fleet.
func (v *FleetHuman) Fleet(hosts []FleetHost) {
	width := len("HOST")
	for _, h := range hosts {
		width = max(width, len(h.Name))
	}
	fmt.Fprintf(v.Out, "%-*s  %-9s  %s\n", width, "HOST", "PACKAGING", "CHANGES")
	changed, clean, failed := 0, 0, 0
	for _, h := range hosts {
		errs, warns := h.diagnostics()
		packaging, changes := "-", "-"
		if h.Plan != nil && len(errs) == 0 {
			packaging = string(h.Plan.Packaging)
			add, change, remove := h.Plan.Counts()
			changes = "none"
			if n := add + change + remove; n > 0 {
				changes = fmt.Sprintf("%d (%d to add, %d to change, %d to remove)", n, add, change, remove)
			}
		}
		switch {
		case len(errs) > 0:
			failed++
			changes = plural(len(errs), "error")
		case changes == "none":
			clean++
		default:
			changed++
		}
		if len(warns) > 0 {
			changes += ", " + plural(len(warns), "warning")
		}
		fmt.Fprintf(v.Out, "%-*s  %-9s  %s\n", width, h.Name, packaging, changes)
		for _, d := range errs {
			fmt.Fprintf(v.Out, "%-*s    error: %s\n", width, "", oneLine(d.Summary, d.Detail))
		}
	}
	fmt.Fprintf(v.Out, "\nFleet: %d hosts: %d with changes, %d without, %d with errors.\n", len(hosts), changed, clean, failed)
}

// plural is "1 error", "2 errors".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// oneLine is a diagnostic's summary and the first line of its detail.
func oneLine(summary, detail string) string {
	if detail == "" {
		return summary
	}
	first, _, _ := strings.Cut(detail, "\n")
	return summary + ": " + first
}

// FleetJSON prints one JSON object per host and line (FleetHostReport).
type FleetJSON struct{ Streams }

// FleetHostReport is one line of plan --json for a fleet.
type FleetHostReport struct {
	FormatVersion string `json:"format_version"`
	// Host is the facts file's name without .json.
	Host         string `json:"host"`
	FactsFile    string `json:"facts_file"`
	Packaging    string `json:"packaging,omitempty"`
	TargetKernel string `json:"target_kernel,omitempty"`
	// Changes is the number of steps; Summary counts them by action.
	Changes int `json:"changes"`
	Summary struct {
		Add    int `json:"add"`
		Change int `json:"change"`
		Remove int `json:"remove"`
	} `json:"summary"`
	FactsDigest string               `json:"facts_digest,omitempty"`
	Errors      []planner.Diagnostic `json:"errors"`
	Warnings    []planner.Diagnostic `json:"warnings"`
}

// Fleet implements Fleet.
func (v *FleetJSON) Fleet(hosts []FleetHost) {
	for _, h := range hosts {
		r := FleetHostReport{FormatVersion: FormatVersion, Host: h.Name, FactsFile: h.File}
		r.Errors, r.Warnings = h.diagnostics()
		if p := h.Plan; p != nil {
			r.Packaging, r.TargetKernel, r.FactsDigest = string(p.Packaging), p.TargetKernel, p.FactsDigest
			r.Summary.Add, r.Summary.Change, r.Summary.Remove = p.Counts()
			r.Changes = len(p.Steps)
		}
		jsonLine(v.Out, r)
	}
}
