package spec

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

// TestVersions checks zfs.version against how OpenZFS versions its
// packages. Before, "v2.2.8" and "2.2.08" were accepted (go-version reads
// both as 2.2.8) and the planner wrote includepkgs=*-v2.2.8-*, a hold that
// matches no package and silently blocks every update.
func TestVersions(t *testing.T) {
	tests := map[string]struct {
		version string
		// severity and summary of the one diagnostic, "" for none; detail
		// is a part of it.
		severity hcl.DiagnosticSeverity
		summary  string
		detail   string
	}{
		"exact":                  {version: "2.2.8"},
		"exact with =":           {version: "= 2.2.8"},
		"exact with = no space":  {version: "=2.2.8"},
		"zero parts":             {version: "2.0.0"},
		"pessimistic patch":      {version: "~> 2.2.0"},
		"pessimistic minor":      {version: "~> 2.2"},
		"range":                  {version: ">= 2.2.7, < 2.3"},
		"range with spaces":      {version: " >= 2.2.7 ,  < 2.3 "},
		"not equal":              {version: "!= 2.2.0"},
		"range of one part":      {version: "< 3"},
		"v prefix":               {version: "v2.2.8", severity: hcl.DiagError, summary: "Invalid version", detail: `"v2.2.8" starts with "v"`},
		"v prefix suggestion":    {version: "= v2.2.8", severity: hcl.DiagError, summary: "Invalid version", detail: `Did you mean "= 2.2.8"?`},
		"leading zero":           {version: "2.2.08", severity: hcl.DiagError, summary: "Invalid version", detail: `Did you mean "2.2.8"?`},
		"leading zeros in range": {version: "~> 02.2.0", severity: hcl.DiagError, summary: "Invalid version", detail: `Did you mean "~> 2.2.0"?`},
		"zero padded zero":       {version: "2.00.1", severity: hcl.DiagError, summary: "Invalid version", detail: `"2.00.1" has a number with a leading zero`},
		"pre-release":            {version: "2.3.0-rc1", severity: hcl.DiagError, summary: "Invalid version", detail: "pre-release or build suffix"},
		"pre-release, no dash":   {version: "2.3.0rc1", severity: hcl.DiagError, summary: "Invalid version", detail: "pre-release or build suffix"},
		"build metadata":         {version: "2.2.8+el9", severity: hcl.DiagError, summary: "Invalid version", detail: "pre-release or build suffix"},
		"four parts":             {version: "2.2.8.1", severity: hcl.DiagError, summary: "Invalid version", detail: "more than three parts"},
		"bad part of a range":    {version: ">= 2.2.7, < v2.3", severity: hcl.DiagError, summary: "Invalid version", detail: `"v2.3" starts with "v"`},
		"range says no hold":     {version: "~> v2.2", severity: hcl.DiagError, summary: "Invalid version", detail: "no pre-release or build suffix (a release candidate's \"rc\" is in the package release, not its version). Did"},
		"pin of two parts":       {version: "2.2", severity: hcl.DiagWarning, summary: "version pins exactly 2.2.0", detail: `Write "~> 2.2.0" for the newest 2.2.x release, or "2.2.0"`},
		"pin of one part":        {version: "= 2", severity: hcl.DiagWarning, summary: "version pins exactly 2.0.0", detail: `matches 2.0.0 only`},
		"malformed":              {version: "~> 2.x", severity: hcl.DiagError, summary: "Invalid version constraint", detail: "malformed constraint"},
		// Issue 20 item 4: a constraint no release can meet passed validate
		// and plan; apply installed zfs-release, edited zfs.repo, then refused.
		"contradiction":            {version: ">= 2.3, < 2.2", severity: hcl.DiagError, summary: "version allows no release", detail: `">= 2.3" and "< 2.2" exclude each other`},
		"no release between":       {version: "> 2.2.7, < 2.2.8", severity: hcl.DiagError, summary: "version allows no release", detail: "no release is both"},
		"pessimistic and above":    {version: "~> 2.2.0, >= 2.3", severity: hcl.DiagError, summary: "version allows no release", detail: `">= 2.3" and "~> 2.2.0" exclude each other`},
		"pin and its exclusion":    {version: "= 2.2.8, != 2.2.8", severity: hcl.DiagError, summary: "version allows no release", detail: "every release from 2.2.8 to before 2.2.9 is excluded"},
		"below zero":               {version: "< 0", severity: hcl.DiagError, summary: "version allows no release", detail: `"< 0" matches no release`},
		"two exclusions, one left": {version: ">= 2.2.7, < 2.2.10, != 2.2.7, != 2.2.8"},
		"bounds meet":              {version: ">= 2.2.7, <= 2.2.7"},
		"minor range and a patch":  {version: "~> 2.2, > 2.2.99"},
		"only exclusions":          {version: "!= 2.2.0, != 2.2.1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			src := fmt.Sprintf("zfs {\n  version = %q\n}\n", tc.version)
			s, diags := Parse("version.hcl", []byte(src))
			if tc.summary == "" {
				if len(diags) > 0 {
					t.Fatalf("Parse() diagnostics: %v", diags)
				}
				if s.ZFS.Constraint == nil {
					t.Error("Constraint is nil")
				}
				return
			}
			if len(diags) != 1 {
				t.Fatalf("diagnostics = %v, want one", diags)
			}
			d := diags[0]
			got := fmt.Sprintf("%v %s at %d:%d", d.Severity, d.Summary, d.Subject.Start.Line, d.Subject.Start.Column)
			if diff := cmp.Diff(fmt.Sprintf("%v %s at 2:3", tc.severity, tc.summary), got); diff != "" {
				t.Errorf("diagnostic mismatch (-want +got):\n%s", diff)
			}
			if !strings.Contains(d.Detail, tc.detail) {
				t.Errorf("detail = %q, want it to contain %q", d.Detail, tc.detail)
			}
			if (s == nil) != (tc.severity == hcl.DiagError) {
				t.Errorf("Spec = %v with severity %v", s, tc.severity)
			}
		})
	}
}
