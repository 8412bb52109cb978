package spec

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// parseDeadline is far above what the limits allow (well under a second
// for the largest file), so that a busy machine does not trip it.
const parseDeadline = 20 * time.Second

// FuzzParse decodes arbitrary bytes as a spec. Whatever the input, Parse
// must return, soon, without panicking; the Spec is nil exactly when there
// are errors; every error but a file-level one points into the file; there
// are at most maxDiagnostics (and a count of the rest); a valid Spec holds
// only option values checkOptionValue accepts and a parsed version
// constraint; and the diagnostics print, in bounded space. Seeds: the recipes and
// every spec under testdata/specs.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"../recipes/*.hcl", "../testdata/specs/*.hcl"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			src, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		// A hang is a failure too. The fuzzing engine only notices a
		// worker that dies, so the watchdog ends the worker, and the engine
		// saves the input under testdata/fuzz.
		watchdog := time.AfterFunc(parseDeadline, func() {
			panic(fmt.Sprintf("Parse did not return within %v for %d bytes: %q", parseDeadline, len(src), shorten(string(src), 2000)))
		})
		s, diags := Parse("fuzz.hcl", src)
		watchdog.Stop()
		if (s == nil) != diags.HasErrors() {
			t.Fatalf("Spec = %v with HasErrors() = %v", s, diags.HasErrors())
		}
		for _, d := range diags {
			if d.Summary == "" || d.Detail == "" {
				t.Errorf("diagnostic without summary or detail: %#v", d)
			}
			if d.Subject != nil && (d.Subject.Start.Byte < 0 || d.Subject.End.Byte > len(src) || d.Subject.Start.Byte > d.Subject.End.Byte) {
				t.Errorf("diagnostic %q points outside the file: %v (file has %d bytes)", d.Summary, d.Subject, len(src))
			}
		}
		if len(diags) > maxDiagnostics+1 {
			t.Errorf("%d diagnostics, want at most %d", len(diags), maxDiagnostics+1)
		}
		var out bytes.Buffer
		if err := WriteDiagnostics(&out, map[string]*hcl.File{"fuzz.hcl": {Bytes: src}}, diags); err != nil {
			t.Fatal(err)
		}
		// Each diagnostic prints its summary, its detail (which may quote
		// the source) and a bounded snippet: never a multiple of the file
		// per diagnostic beyond that.
		if limit := (maxDiagnostics + 1) * (len(src) + 2*maxSnippetLines*(maxSnippetLine+8) + 2048); out.Len() > limit {
			t.Errorf("printed %d bytes for %d diagnostics on %d bytes", out.Len(), len(diags), len(src))
		}
		if s == nil {
			return
		}
		for name, val := range s.Module.Options {
			if !optionName.MatchString(name) {
				t.Errorf("option name %q was accepted", name)
			}
			if msg := checkOptionValue(name, val); msg != "" {
				t.Errorf("option %s = %q was accepted: %s", name, val, msg)
			}
		}
		if s.ZFS.Version != "" && s.ZFS.Constraint == nil {
			t.Errorf("version %q accepted without a constraint", s.ZFS.Version)
		}
		if len(s.Module.Options) > MaxItems {
			t.Errorf("%d options accepted", len(s.Module.Options))
		}
	})
}
