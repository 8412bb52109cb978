// Package views renders what zfsinstall's commands report, for people
// (Terraform's habits) and for machines (JSON, and node_exporter's textfile
// format). The planner and apply never print; only views do. Each command
// with two outputs has a view interface with a Human and a JSON
// implementation, chosen once by the command (NewPlan, NewApply, NewFleet,
// NewReport), as Terraform's internal/command/views does.
//
// Every JSON document carries a format_version; a field is only ever
// added within a format version, never renamed, retyped or removed.
package views

import (
	"encoding/json"
	"io"
)

// FormatVersion is the version of the JSON documents this package defines
// (apply --json, verify and guard --json, the fleet's JSON lines,
// version --json). The plan itself carries planner.FormatVersion and facts
// facts.FormatVersion.
const FormatVersion = "1"

// Streams are where a view writes: results to Out, errors and progress
// meant for people only to Err.
type Streams struct {
	Out, Err io.Writer
}

// JSON prints any value as indented JSON.
func JSON(w io.Writer, v any) error { return writeJSON(w, v) }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jsonLine prints v as one line of JSON (JSON lines).
func jsonLine(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}
