package spec

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
)

var update = flag.Bool("update", false, "rewrite testdata/specs/*.golden from the current output")

// The spec testdata lives at the module root; golden output names files
// relative to it, as a user running zfsinstall there would see them.
const moduleRoot = ".."

func TestGoodSpecs(t *testing.T) {
	tests := map[string]struct {
		want       func(s *Spec) // edits Default() into the expected Spec
		constraint string
		rangeKey   string
		rangeLine  int
	}{
		"good-empty.hcl": {
			want: func(s *Spec) {},
		},
		"good-kmod-minimal.hcl": {
			want:      func(s *Spec) { s.ZFS.Packaging = "kmod" },
			rangeKey:  "zfs.packaging",
			rangeLine: 2,
		},
		"good-elrepo-dkms.hcl": {
			want: func(s *Spec) {
				s.ZFS.Version = "~> 2.2.0"
				s.ZFS.Packaging = "dkms"
				s.Kernel.Target = "6.1.80-1.el9.elrepo.x86_64"
			},
			constraint: "~> 2.2.0",
			rangeKey:   "kernel.target",
			rangeLine:  9,
		},
		"good-full.hcl": {
			want: func(s *Spec) {
				s.ZFS = ZFS{
					Version:        ">= 2.2.2, < 2.4",
					Packaging:      "dkms",
					Repo:           "2.3",
					ReleaseRPM:     "https://zfsonlinux.org/epel/zfs-release-3-0.el9.noarch.rpm",
					AllowDowngrade: true,
					AllowKnownBad:  []string{"ZFS-2025-0001"},
				}
				s.Kernel = Kernel{Target: "5.14.0-427.13.1.el9_4.x86_64"}
				s.Module = Module{Options: map[string]string{
					"zfs_arc_max":          "8589934592",
					"zfs_arc_min":          "1073741824",
					"zfs_prefetch_disable": "1",
				}}
				s.Services = Services{Import: "scan", Share: true, VerifyOnBoot: true}
				s.Guard.Enabled = true
			},
			constraint: ">= 2.2.2, < 2.4",
			rangeKey:   "module.options.zfs_arc_max",
			rangeLine:  22,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			filename := filepath.Join("testdata/specs", name)
			src, err := os.ReadFile(filepath.Join(moduleRoot, filename))
			if err != nil {
				t.Fatal(err)
			}
			got, diags := Parse(filename, src)
			if len(diags) > 0 {
				t.Fatalf("unexpected diagnostics:\n%s", diags.Error())
			}
			want := Default()
			want.Filename = filename
			tt.want(want)
			opts := cmp.Options{
				cmpopts.IgnoreFields(Spec{}, "Ranges", "Source"),
				cmpopts.IgnoreFields(ZFS{}, "Constraint"),
				cmpopts.EquateEmpty(),
			}
			if diff := cmp.Diff(want, got, opts); diff != "" {
				t.Errorf("Parse() mismatch (-want +got):\n%s", diff)
			}
			if tt.constraint == "" && got.ZFS.Constraint != nil {
				t.Errorf("Constraint = %q, want nil", got.ZFS.Constraint)
			}
			if tt.constraint != "" && (got.ZFS.Constraint == nil || got.ZFS.Constraint.String() != tt.constraint) {
				t.Errorf("Constraint = %v, want %q", got.ZFS.Constraint, tt.constraint)
			}
			if tt.rangeKey == "" {
				if len(got.Ranges) != 0 {
					t.Errorf("Ranges = %v, want none", got.Ranges)
				}
				return
			}
			r, ok := got.Ranges[tt.rangeKey]
			if !ok || r.Filename != filename || r.Start.Line != tt.rangeLine {
				t.Errorf("Ranges[%q] = %v, want %s line %d", tt.rangeKey, r, filename, tt.rangeLine)
			}
		})
	}
}

// TestRanges checks that every written attribute gets a range, including
// the options map and its entries, and that defaults get none.
func TestRanges(t *testing.T) {
	src := "zfs {\n  repo = \"latest\"\n}\nmodule {\n  options = { zfs_arc_max = 1 }\n}\n"
	s, diags := Parse("r.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	got := map[string]string{}
	for k, r := range s.Ranges {
		got[k] = r.String()
	}
	want := map[string]string{
		"zfs.repo":                   "r.hcl:2,3-18",
		"module.options":             "r.hcl:5,3-32",
		"module.options.zfs_arc_max": "r.hcl:5,15-30",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Ranges mismatch (-want +got):\n%s", diff)
	}
}

// TestBadSpecs compares what WriteDiagnostics prints for each malformed spec
// (and each spec that only warns) with its .golden file.
func TestBadSpecs(t *testing.T) {
	var names []string
	for _, pattern := range []string{"bad-*.hcl", "warn-*.hcl"} {
		m, err := filepath.Glob(filepath.Join(moduleRoot, "testdata/specs", pattern))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, m...)
	}
	if len(names) < 18 {
		t.Fatalf("found %d bad specs, want at least 18", len(names))
	}
	for _, path := range names {
		filename, _ := filepath.Rel(moduleRoot, path)
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s, diags := Parse(filename, src)
			bad := strings.HasPrefix(filepath.Base(path), "bad-")
			switch {
			case len(diags) == 0:
				t.Fatal("no diagnostics")
			case bad != diags.HasErrors():
				t.Fatalf("HasErrors() = %v for %s", diags.HasErrors(), filename)
			case bad != (s == nil):
				t.Fatalf("Spec = %v with errors = %v; want nil exactly when there are errors", s, bad)
			}
			for _, d := range diags {
				if d.Subject == nil || d.Detail == "" {
					t.Errorf("diagnostic %q has no subject or no detail", d.Summary)
				}
			}

			var buf bytes.Buffer
			files := map[string]*hcl.File{filename: {Bytes: src}}
			if err := WriteDiagnostics(&buf, files, diags); err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(path, ".hcl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./spec/ -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), buf.String()); diff != "" {
				t.Errorf("diagnostics mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseFile(t *testing.T) {
	path := filepath.Join(moduleRoot, "testdata/specs/bad-packaging.hcl")
	s, files, diags := ParseFile(path)
	if s != nil || !diags.HasErrors() {
		t.Fatalf("ParseFile(%s) = %v, %v; want errors", path, s, diags)
	}
	var buf bytes.Buffer
	if err := WriteDiagnostics(&buf, files, diags); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "2 |   packaging = \"rpm\"\n") {
		t.Errorf("output has no source snippet:\n%s", buf.String())
	}

	s, _, diags = ParseFile(filepath.Join(moduleRoot, "testdata/specs/good-kmod-minimal.hcl"))
	if diags.HasErrors() || s.ZFS.Packaging != "kmod" {
		t.Errorf("ParseFile(good-kmod-minimal.hcl) = %+v, %v", s, diags)
	}
}

func TestWriteDiagnosticsWithoutSource(t *testing.T) {
	_, files, diags := ParseFile("does-not-exist.hcl")
	diags = append(diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  "Something to know",
		Detail:   "Said here.",
		Subject:  &hcl.Range{Filename: "elsewhere.hcl", Start: hcl.Pos{Line: 4, Column: 2}},
	})
	var buf bytes.Buffer
	if err := WriteDiagnostics(&buf, files, diags); err != nil {
		t.Fatal(err)
	}
	want := "error: Cannot read spec file\nstat does-not-exist.hcl: no such file or directory\n\n" +
		"elsewhere.hcl:4:2: warning: Something to know\nSaid here.\n\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("WriteDiagnostics() mismatch (-want +got):\n%s", diff)
	}
}

// TestSpecMDExample keeps the full example in SPEC.md valid.
func TestSpecMDExample(t *testing.T) {
	doc, err := os.ReadFile("SPEC.md")
	if err != nil {
		t.Fatal(err)
	}
	_, example, ok := strings.Cut(string(doc), "## Full example\n\n```hcl\n")
	example, _, ok2 := strings.Cut(example, "```")
	if !ok || !ok2 {
		t.Fatal("SPEC.md has no full example")
	}
	s, diags := Parse("SPEC.md", []byte(example))
	if len(diags) > 0 {
		t.Fatalf("diagnostics:\n%s", diags.Error())
	}
	if s.Module.Options["zfs_arc_max"] != "8589934592" || !s.Guard.Enabled {
		t.Errorf("example decoded to %+v", s)
	}
}
