package spec

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

// TestWriteDiagnosticsCostPerLine checks that printing a snippet reads the
// subject's lines only, not the file from the top: before, a thousand
// warnings on a thousand-line spec (the planner warns once per unknown
// module option) took seconds to print.
func TestWriteDiagnosticsCostPerLine(t *testing.T) {
	const lines = 5000
	src := []byte(strings.Repeat("# a comment line\n", lines-1) + "zfs { packaging = \"rpm\" }\n")
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError, Summary: "Invalid packaging", Detail: "As in the test.",
		Subject: &hcl.Range{Filename: "x.hcl",
			Start: hcl.Pos{Line: lines, Column: 7, Byte: (lines-1)*17 + 6},
			End:   hcl.Pos{Line: lines, Column: 24, Byte: (lines-1)*17 + 23}},
	}
	files := map[string]*hcl.File{"x.hcl": {Bytes: src}}
	var buf bytes.Buffer
	if err := WriteDiagnostics(&buf, files, hcl.Diagnostics{d}); err != nil {
		t.Fatal(err)
	}
	want := "x.hcl:5000:7: error: Invalid packaging\nAs in the test.\n\n" +
		"5000 | zfs { packaging = \"rpm\" }\n     |       ^^^^^^^^^^^^^^^^^\n\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Fatalf("WriteDiagnostics() mismatch (-want +got):\n%s", diff)
	}
	// Scanning from the top of the file allocates for every line before
	// the subject; from the subject's line, a handful of times.
	allocs := testing.AllocsPerRun(10, func() {
		buf.Reset()
		_ = WriteDiagnostics(&buf, files, hcl.Diagnostics{d})
	})
	if allocs > 100 {
		t.Errorf("WriteDiagnostics allocates %v times for one snippet on line %d; it should not depend on the line", allocs, lines)
	}
}

// TestWriteDiagnosticsOutOfRangeSubject: a subject that does not fit the
// source (from another version of the file, say) prints no snippet rather
// than panicking.
func TestWriteDiagnosticsOutOfRangeSubject(t *testing.T) {
	files := map[string]*hcl.File{"x.hcl": {Bytes: []byte("zfs {}\n")}}
	for _, r := range []hcl.Range{
		{Filename: "x.hcl", Start: hcl.Pos{Line: 9, Column: 1, Byte: 900}, End: hcl.Pos{Line: 9, Column: 2, Byte: 901}},
		{Filename: "x.hcl", Start: hcl.Pos{Line: 0, Column: 0, Byte: -1}, End: hcl.Pos{Line: 0, Column: 0, Byte: -1}},
	} {
		var buf bytes.Buffer
		d := &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "S", Detail: "D.", Subject: &r}
		if err := WriteDiagnostics(&buf, files, hcl.Diagnostics{d}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "|") {
			t.Errorf("WriteDiagnostics printed a snippet for %v:\n%s", r, buf.String())
		}
	}
}
