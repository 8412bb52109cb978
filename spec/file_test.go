package spec

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// parseFileWithin runs ParseFile and fails the test instead of hanging
// when it does not return in time (before the fix, a FIFO blocked forever).
func parseFileWithin(t *testing.T, path string, d time.Duration) (*Spec, hcl.Diagnostics) {
	t.Helper()
	type result struct {
		s     *Spec
		diags hcl.Diagnostics
	}
	done := make(chan result, 1)
	go func() {
		s, _, diags := ParseFile(path)
		done <- result{s, diags}
	}()
	select {
	case r := <-done:
		return r.s, r.diags
	case <-time.After(d):
		t.Fatalf("ParseFile(%s) did not return within %v", path, d)
		return nil, nil
	}
}

func TestParseFileRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "spec.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.hcl")
	if err := os.WriteFile(good, []byte("zfs {\n  packaging = \"dkms\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.hcl")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	fifoLink := filepath.Join(dir, "fifo-link.hcl")
	if err := os.Symlink(fifo, fifoLink); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.hcl")
	if err := os.WriteFile(big, bytes.Repeat([]byte("# padding\n"), MaxFileSize/10+1), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := map[string]struct {
		path    string
		summary string // "" = parses
		detail  string
	}{
		"fifo":                 {fifo, "Spec file is not a regular file", "is a named pipe (FIFO)"},
		"symlink to a fifo":    {fifoLink, "Spec file is not a regular file", "is a named pipe (FIFO)"},
		"directory":            {dir, "Spec file is not a regular file", "is a directory"},
		"character device":     {"/dev/zero", "Spec file is not a regular file", "is a character device"},
		"too large":            {big, "Spec file too large", fmt.Sprintf("is %d bytes; a spec may be at most %d bytes", (MaxFileSize/10+1)*10, MaxFileSize)},
		"missing":              {filepath.Join(dir, "missing.hcl"), "Cannot read spec file", "no such file or directory"},
		"regular file":         {good, "", ""},
		"symlink to a regular": {link, "", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := os.Stat(tc.path); tc.path == "/dev/zero" && err != nil {
				t.Skip("no /dev/zero here")
			}
			s, diags := parseFileWithin(t, tc.path, 10*time.Second)
			if tc.summary == "" {
				if diags.HasErrors() || s == nil || s.ZFS.Packaging != "dkms" {
					t.Fatalf("ParseFile(%s) = %+v, %v; want the spec", tc.path, s, diags)
				}
				return
			}
			if len(diags) != 1 || s != nil {
				t.Fatalf("ParseFile(%s) = %v, %v; want one error", tc.path, s, diags)
			}
			if d := diags[0]; d.Summary != tc.summary || !strings.Contains(d.Detail, tc.detail) {
				t.Errorf("diagnostic = %q: %q; want %q containing %q", d.Summary, d.Detail, tc.summary, tc.detail)
			}
		})
	}
}
