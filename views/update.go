package views

import (
	"fmt"
	"strings"

	"github.com/zfsinstall/zfsinstall/update"
)

// Update shows the outcome of check-update (the pre-flight of a pending
// dnf upgrade) and of hold (the kernel hold re-evaluated).
type Update interface {
	// Report shows r; code is the exit code it leads to.
	Report(r *update.Report, code int)
	// Hold shows what re-evaluating the kernel hold did.
	Hold(r *update.HoldResult, code int)
	// Unknown says the check could not be made and why.
	Unknown(err error, code int)
}

// NewUpdate returns the JSON or the human view of command ("check-update"
// or "hold").
func NewUpdate(json bool, s Streams, command string) Update {
	if json {
		return &UpdateJSON{Streams: s, command: command}
	}
	return &UpdateHuman{Streams: s}
}

// UpdateHuman prints the pending update, every kernel judged, the hold and
// the problems, in the manner of plan.
type UpdateHuman struct{ Streams }

// Report implements Update.
func (v *UpdateHuman) Report(r *update.Report, code int) {
	w := v.Out
	fmt.Fprintln(w, "Pending update, as `dnf upgrade` would resolve it now:")
	if len(r.Changes) == 0 {
		fmt.Fprintln(w, "  no kernel or OpenZFS package changes")
	}
	for _, ch := range r.Changes {
		sym := map[string]string{"install": "+", "upgrade": "~", "downgrade": "~", "reinstall": "~", "remove": "-"}[ch.Action]
		fmt.Fprintf(w, "  %s %s %s %s (%s)\n", sym, ch.Name, ch.Version, ch.Arch, ch.Action)
	}
	if r.Others > 0 {
		fmt.Fprintf(w, "  and %d other packages\n", r.Others)
	}
	if m := r.Module; m.Package != "" {
		if m.From == m.To {
			fmt.Fprintf(w, "\nKernels, judged with %s %s (unchanged by the update):\n", m.Package, m.From)
		} else {
			fmt.Fprintf(w, "\nKernels, judged with %s %s (the update replaces %s):\n", m.Package, m.To, m.From)
		}
	}
	for _, k := range r.Kernels {
		fmt.Fprintf(w, "  %-34s %-9s %s\n", k.Release, kernelTags(k), kernelVerdict(k))
		for _, f := range k.Findings {
			mark := "ok  "
			switch {
			case !f.OK:
				mark = "FAIL"
			case !f.Made:
				mark = "wait"
			}
			fmt.Fprintf(w, "      [%s] %s: %s\n", mark, f.ID, f.Detail)
		}
	}
	fmt.Fprintf(w, "\ninstallonly_limit=%d\n", r.InstallonlyLimit)
	holdLine(v.Streams, r.Hold)
	if len(r.Problems) > 0 {
		fmt.Fprintln(w, "\nProblems:")
		for _, p := range r.Problems {
			fmt.Fprintf(w, "  %s: %s\n", p.Severity, p.Summary)
			if p.Detail != "" {
				fmt.Fprintf(w, "      %s\n", p.Detail)
			}
		}
	}
	errs, warns := 0, 0
	for _, p := range r.Problems {
		if p.Severity == update.Error {
			errs++
		} else {
			warns++
		}
	}
	if r.Safe {
		fmt.Fprintf(w, "\nSafe: every kernel the host would boot after this update keeps a working ZFS (%s).\n", count(warns, "warning"))
		return
	}
	fmt.Fprintf(w, "\nNOT safe: %s, %s. Do not run dnf upgrade before they are resolved.\n", count(errs, "error"), count(warns, "warning"))
}

func kernelTags(k update.Kernel) string {
	tags := []string{string(k.State)}
	if k.Running {
		tags = append(tags, "running")
	}
	if k.Default {
		tags = append(tags, "default")
	}
	return strings.Join(tags, ",")
}

func kernelVerdict(k update.Kernel) string {
	switch {
	case !k.Judged:
		return "not judged: ZFS is not kept working on this kernel flavour"
	case k.Held:
		return "ZFS would NOT work; held back from dnf"
	case !k.Works:
		return "ZFS would NOT work"
	}
	return "ZFS works"
}

func holdLine(s Streams, h update.HoldState) {
	w := s.Out
	if !h.Enabled {
		fmt.Fprintln(w, "Kernel hold: not on this host (kernel.hold; zfsinstall apply sets it up).")
		return
	}
	if len(h.Held) == 0 {
		fmt.Fprintln(w, "Kernel hold: on; no kernel held.")
	}
	for _, k := range h.Held {
		fmt.Fprintf(w, "Kernel hold: holds %s: %s\n", k.Release, k.Reason)
	}
	if !sameHeld(h.Held, h.Evaluated) {
		var ev []string
		for _, k := range h.Evaluated {
			ev = append(ev, k.Release)
		}
		fmt.Fprintf(w, "Kernel hold: out of date; re-evaluated now it would hold [%s]: run zfsinstall hold.\n", strings.Join(ev, ", "))
	}
}

func sameHeld(a, b []update.HeldKernel) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Release != b[i].Release {
			return false
		}
	}
	return true
}

// Hold implements Update.
func (v *UpdateHuman) Hold(r *update.HoldResult, _ int) {
	for _, rel := range r.Added {
		fmt.Fprintf(v.Out, "kernel hold: now holds %s\n", rel)
	}
	for _, rel := range r.Lifted {
		fmt.Fprintf(v.Out, "kernel hold: lifted %s\n", rel)
	}
	if len(r.Held) == 0 {
		fmt.Fprintln(v.Out, "Kernel hold: no kernel held.")
		return
	}
	for _, k := range r.Held {
		fmt.Fprintf(v.Out, "Kernel hold: holds %s (%d packages excluded in /etc/dnf/dnf.conf): %s\n", k.Release, len(k.Packages), k.Reason)
	}
}

// Unknown implements Update.
func (v *UpdateHuman) Unknown(err error, _ int) {
	fmt.Fprintf(v.Err, "Error: %v\n", err)
}

// UpdateJSON prints one JSON document.
type UpdateJSON struct {
	Streams
	command string
}

// UpdateDocument is what check-update --json and hold --json print: the
// report (check-update) or the hold's result (hold), the exit code, and
// the error when the check could not be made.
type UpdateDocument struct {
	FormatVersion string             `json:"format_version"`
	Command       string             `json:"command"`
	ExitCode      int                `json:"exit_code"`
	Report        *update.Report     `json:"report,omitempty"`
	Hold          *update.HoldResult `json:"hold,omitempty"`
	Error         string             `json:"error,omitempty"`
}

// Report implements Update.
func (v *UpdateJSON) Report(r *update.Report, code int) {
	writeJSON(v.Out, UpdateDocument{FormatVersion: FormatVersion, Command: v.command, ExitCode: code, Report: r})
}

// Hold implements Update.
func (v *UpdateJSON) Hold(r *update.HoldResult, code int) {
	writeJSON(v.Out, UpdateDocument{FormatVersion: FormatVersion, Command: v.command, ExitCode: code, Hold: r})
}

// Unknown implements Update.
func (v *UpdateJSON) Unknown(err error, code int) {
	fmt.Fprintf(v.Err, "Error: %v\n", err)
	writeJSON(v.Out, UpdateDocument{FormatVersion: FormatVersion, Command: v.command, ExitCode: code, Error: err.Error()})
}

// count writes "1 error", "2 errors".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
