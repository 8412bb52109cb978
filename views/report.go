package views

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/zfsinstall/zfsinstall/verify"
)

// Report shows the outcome of verify or guard.
type Report interface {
	// Report shows r; code is the exit code it leads to.
	Report(r verify.Report, code int)
	// Unknown says the check could not be made (exit 3) and why.
	Unknown(err error, code int)
}

// NewReport returns the JSON or the human report view; command is
// "verify" or "guard", kernel the kernel guard checks ("" for verify).
func NewReport(json bool, s Streams, command, kernel string) Report {
	if json {
		return &ReportJSON{Streams: s, command: command, kernel: kernel}
	}
	return &ReportHuman{Streams: s, command: command, kernel: kernel}
}

// ReportHuman prints one line per check ("[ok  ] name  detail", "[FAIL]",
// "[skip]") and "Verify: OK." or "Verify: FAILED.".
type ReportHuman struct {
	Streams
	command, kernel string
}

// Report implements Report.
func (v *ReportHuman) Report(r verify.Report, code int) {
	for _, c := range r.Checks {
		mark := "ok  "
		switch {
		case c.Skipped:
			mark = "skip"
		case !c.OK:
			mark = "FAIL"
		}
		fmt.Fprintf(v.Out, "[%s] %-34s %s\n", mark, c.Name, c.Detail)
	}
	title := strings.ToUpper(v.command[:1]) + v.command[1:]
	if r.OK {
		fmt.Fprintf(v.Out, "\n%s: OK.\n", title)
		return
	}
	fmt.Fprintf(v.Out, "\n%s: FAILED.\n", title)
	switch {
	case v.command == "guard" && code == 3:
		fmt.Fprintf(v.Err, "Error: could not tell whether ZFS would work after booting %s, or could not keep it from being the default (see the failed checks above)\n", v.kernel)
	case v.command == "guard":
		fmt.Fprintf(v.Err, "Error: ZFS would not work after booting %s (see the failed checks above)\n", v.kernel)
	}
}

// Unknown implements Report.
func (v *ReportHuman) Unknown(err error, _ int) {
	fmt.Fprintf(v.Err, "Error: %v\n", err)
}

// ReportJSON prints the report as one JSON document (ReportDocument).
type ReportJSON struct {
	Streams
	command, kernel string
}

// ReportDocument is what verify --json and guard --json print. ExitCode is
// the command's exit code (verify: 0 healthy, 1 unhealthy, 3 could not
// check; guard: 0 ZFS works, 1 it would not, 3 could not check). Error is
// set when the check could not be made, and Checks is then empty.
type ReportDocument struct {
	FormatVersion string `json:"format_version"`
	Command       string `json:"command"`
	// Kernel is the kernel guard checked.
	Kernel   string         `json:"kernel,omitempty"`
	OK       bool           `json:"ok"`
	ExitCode int            `json:"exit_code"`
	Checks   []verify.Check `json:"checks"`
	Error    string         `json:"error,omitempty"`
}

// Report implements Report.
func (v *ReportJSON) Report(r verify.Report, code int) {
	checks := r.Checks
	if checks == nil {
		checks = []verify.Check{}
	}
	writeJSON(v.Out, ReportDocument{FormatVersion: FormatVersion, Command: v.command, Kernel: v.kernel, OK: r.OK, ExitCode: code, Checks: checks})
}

// Unknown implements Report: the document says why, and so does standard
// error.
func (v *ReportJSON) Unknown(err error, code int) {
	fmt.Fprintf(v.Err, "Error: %v\n", err)
	writeJSON(v.Out, ReportDocument{FormatVersion: FormatVersion, Command: v.command, Kernel: v.kernel, ExitCode: code, Checks: []verify.Check{}, Error: err.Error()})
}

// Textfile writes a verify result in the Prometheus text exposition
// format for node_exporter's textfile collector. r is nil when verify
// could not check (a missing or broken spec, facts that could not be
// gathered): zfsinstall_verify_ok is then 0 and zfsinstall_verify_checked
// 0, so an alert on zfsinstall_verify_ok == 0 catches both. The time is a
// gauge, not a sample timestamp: the textfile collector refuses a whole
// file whose samples carry timestamps (node_exporter
// collector/textfile.go: "contains unsupported client-side timestamps,
// skipping entire file").
func Textfile(w io.Writer, r *verify.Report, now time.Time) error {
	var b strings.Builder
	gauge := func(name, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	ok, checked := 0, 0
	if r != nil {
		checked = 1
		if r.OK {
			ok = 1
		}
	}
	gauge("zfsinstall_verify_ok", "1 when the last zfsinstall verify found the host healthy, 0 when not or when it could not check.")
	fmt.Fprintf(&b, "zfsinstall_verify_ok %d\n", ok)
	gauge("zfsinstall_verify_checked", "1 when the last zfsinstall verify could check the host, 0 when it could not (exit 3).")
	fmt.Fprintf(&b, "zfsinstall_verify_checked %d\n", checked)
	if r != nil && len(r.Checks) > 0 {
		gauge("zfsinstall_verify_check", "Result of one zfsinstall verify check by ID: 1 passed or skipped, 0 failed.")
		for _, c := range r.Checks {
			fmt.Fprintf(&b, "zfsinstall_verify_check{id=\"%s\"} %d\n", labelValue(c.ID), b01(c.OK || c.Skipped))
		}
		gauge("zfsinstall_verify_check_skipped", "1 when a zfsinstall verify check was not made (a chroot, a target kernel not running).")
		for _, c := range r.Checks {
			fmt.Fprintf(&b, "zfsinstall_verify_check_skipped{id=\"%s\"} %d\n", labelValue(c.ID), b01(c.Skipped))
		}
	}
	if r != nil {
		gauge("zfsinstall_kernels_held", "Kernels the zfsinstall kernel hold keeps from dnf because ZFS would not work on them (kernel updates waiting for OpenZFS).")
		fmt.Fprintf(&b, "zfsinstall_kernels_held %d\n", len(r.HeldKernels))
	}
	gauge("zfsinstall_verify_timestamp_seconds", "When the last zfsinstall verify ran, in seconds since the Unix epoch.")
	fmt.Fprintf(&b, "zfsinstall_verify_timestamp_seconds %s\n", strconv.FormatFloat(float64(now.UnixMilli())/1000, 'f', -1, 64))
	_, err := io.WriteString(w, b.String())
	return err
}

// labelValue escapes a label value as the text format requires: backslash,
// double quote and line feed.
func labelValue(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func b01(b bool) int {
	if b {
		return 1
	}
	return 0
}
