package spec

import (
	"bytes"
	"fmt"
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

// TestTooManyProblems: a line of garbage has a problem at every byte, and
// each was printed with the whole line: 200,000 "@" made 200,001
// diagnostics and would have printed some 40 GB. Parse now returns at most
// maxDiagnostics and says how many more there were, and a snippet shows at
// most maxSnippetLines lines of at most maxSnippetLine bytes.
func TestTooManyProblems(t *testing.T) {
	tests := map[string]struct {
		src      string
		wantMore string // the detail of the last diagnostic
	}{
		"a line of @":          {src: "x = " + strings.Repeat("@", 200000), wantMore: "199951 more problems are not shown."},
		"a line of bad number": {src: "x = [" + strings.Repeat("1e99,", 50000) + "]", wantMore: "49950 more problems are not shown."},
		"many short lines":     {src: strings.Repeat("a=\"\n", 60000), wantMore: "more problems are not shown."},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, diags := Parse("x.hcl", []byte(tc.src))
			if len(diags) != maxDiagnostics+1 {
				t.Fatalf("%d diagnostics, want %d", len(diags), maxDiagnostics+1)
			}
			last := diags[len(diags)-1]
			if last.Summary != "Too many problems" || !strings.Contains(last.Detail, tc.wantMore) || last.Severity != hcl.DiagError {
				t.Errorf("last diagnostic = %v %q: %q, want an error saying %q", last.Severity, last.Summary, last.Detail, tc.wantMore)
			}
			var buf bytes.Buffer
			if err := WriteDiagnostics(&buf, map[string]*hcl.File{"x.hcl": {Bytes: []byte(tc.src)}}, diags); err != nil {
				t.Fatal(err)
			}
			if buf.Len() > 200<<10 {
				t.Errorf("printed %d bytes for %d diagnostics", buf.Len(), len(diags))
			}
		})
	}
}

func TestSnippetBounds(t *testing.T) {
	long := strings.Repeat("x", maxSnippetLine+1)
	src := []byte("a = [\n" + strings.Repeat("  1,\n", 20) + "]\nb = \"" + long + "\"\n")
	files := map[string]*hcl.File{"x.hcl": {Bytes: src}}
	many := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Many lines", Detail: "D.",
		Subject: &hcl.Range{Filename: "x.hcl", Start: hcl.Pos{Line: 1, Column: 5, Byte: 4}, End: hcl.Pos{Line: 22, Column: 2, Byte: 107}}}
	wide := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Long line", Detail: "D.",
		Subject: &hcl.Range{Filename: "x.hcl", Start: hcl.Pos{Line: 23, Column: 5, Byte: 112}, End: hcl.Pos{Line: 23, Column: 1008, Byte: 1115}}}
	var buf bytes.Buffer
	if err := WriteDiagnostics(&buf, files, hcl.Diagnostics{many, wide}); err != nil {
		t.Fatal(err)
	}
	want := "x.hcl:1:5: error: Many lines\nD.\n\n" +
		"   1 | a = [\n     |     ^\n" +
		strings.Repeat("", 0)
	for i := 2; i <= maxSnippetLines; i++ {
		want += fmt.Sprintf("%4d |   1,\n     | ^^^^\n", i)
	}
	want += "     | ...\n\n" +
		"x.hcl:23:5: error: Long line\nD.\n\n" +
		"  23 | (a line of 1007 bytes, too long to show)\n\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("WriteDiagnostics() mismatch (-want +got):\n%s", diff)
	}
}
