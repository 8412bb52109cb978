package spec

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestLimits feeds Parse the inputs that, before the limits, overflowed the
// parser's stack (deep brackets: a fatal error that kills the process),
// grew it by hundreds of megabytes (operator chains), took minutes (huge
// exponents, long lists) or built values without bound (nested for
// expressions), and checks each is refused where it goes wrong.
func TestLimits(t *testing.T) {
	manyOptions := func(n int) string {
		var b strings.Builder
		b.WriteString("module {\n  options = {\n")
		for i := range n {
			fmt.Fprintf(&b, "    zfs_unknown_%d = 1\n", i)
		}
		b.WriteString("  }\n}\n")
		return b.String()
	}
	tests := map[string]struct {
		src     string
		summary string // "" = no error
		at      string // "line:col" of the diagnostic
	}{
		"100,000 [": {
			src: "x = " + strings.Repeat("[", 100000), summary: "Too deeply nested", at: "1:69",
		},
		"64 levels": {
			src: "zfs {\n  allow_known_bad = " + strings.Repeat("[", 63) + `"a"` + strings.Repeat("]", 63) + "\n}\n", summary: "Unsuitable value type", at: "2:21",
		},
		"65 levels of ${": {
			src: "zfs {\n  version = " + strings.Repeat(`"${`, 64) + "1" + strings.Repeat(`}"`, 64) + "\n}\n", summary: "Too deeply nested", at: "2:203",
		},
		"unmatched closers do not undercount": {
			src: "x = " + strings.Repeat("[)", 100), summary: "Too deeply nested", at: "1:133",
		},
		"brackets in strings, comments and heredocs do not count": {
			src: "# " + strings.Repeat("[", 100) + "\n// " + strings.Repeat("{", 100) + "\n/* " + strings.Repeat("(", 100) + " */\n" +
				"zfs {\n  release_rpm = \"/root/" + strings.Repeat("[", 100) + ".rpm\"\n  version = <<EOT\n" + strings.Repeat("[", 100) + "\nEOT\n}\n",
			summary: "Invalid version constraint", at: "6:3",
		},
		"100,000 !": {
			src: "zfs {\n  allow_downgrade = " + strings.Repeat("!", 100000) + "true\n}\n", summary: "Expression too complex", at: "2:1021",
		},
		"1,000 operators": {
			src: "zfs {\n  allow_downgrade = " + strings.Repeat("!", 1000) + "true\n}\n",
		},
		"chained conditionals": {
			src: "zfs {\n  allow_downgrade = " + strings.Repeat("true ? true : ", 2000) + "true\n}\n", summary: "Expression too complex", at: "2:14026",
		},
		"index chain": {
			src: "zfs {\n  version = [\"2.2.8\"]" + strings.Repeat("[0]", 1001) + "\n}\n", summary: "Expression too complex", at: "2:3022",
		},
		"many interpolations": {
			src: "zfs {\n  version = \"" + strings.Repeat("${1}", 1001) + "\"\n}\n", summary: "Expression too complex", at: "2:4014",
		},
		"huge exponent": {
			src: "module {\n  options = { zfs_arc_max = 1e10000000 }\n}\n", summary: "Number literal too large", at: "2:29",
		},
		"huge negative exponent": {
			src: "module {\n  options = { zfs_arc_max = 1e-10000000 }\n}\n", summary: "Number literal too large", at: "2:29",
		},
		"exponent with leading zeros": {
			src: "module {\n  options = { zfs_arc_max = 1e00000000000000000000000000009 }\n}\n",
		},
		"exponent 40": {
			src: "module {\n  options = { spa_config_path = 1e40 }\n}\n",
		},
		"exponent 41": {
			src: "module {\n  options = { spa_config_path = 1e41 }\n}\n", summary: "Number literal too large", at: "2:33",
		},
		"41 digits": {
			src: "module {\n  options = { spa_config_path = 0." + strings.Repeat("1", 40) + " }\n}\n", summary: "Number literal too large", at: "2:33",
		},
		"number in a template": {
			src: "zfs {\n  version = \"${1e99999}\"\n}\n", summary: "Number literal too large", at: "2:16",
		},
		"arithmetic beyond any literal": {
			src: "module {\n  options = { spa_config_path = " + strings.Repeat("1e40 * ", 100) + "1 }\n}\n", summary: "Invalid module option value", at: "2:33",
		},
		"for expression": {
			src: "zfs {\n  allow_known_bad = [for a in [1, 2] : [for b in [1, 2] : \"x\"]]\n}\n", summary: "For expression not allowed", at: "2:21",
		},
		"for directive": {
			src: "zfs {\n  version = \"%{ for v in [1] }${v}%{ endfor }\"\n}\n", summary: "For expression not allowed", at: "2:14",
		},
		"513 list items": {
			src: "zfs {\n  allow_known_bad = [" + strings.Repeat(`"a", `, 513) + "]\n}\n", summary: "Too many items", at: "2:21",
		},
		// 512 items are taken: each reaches the per-option checks, which
		// refuse the made-up names one by one.
		"512 options": {
			src: manyOptions(512), summary: "Unknown module option", at: "3:5",
		},
		"513 options": {
			src: manyOptions(513), summary: "Too many items", at: "2:13",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			s, diags := Parse("limits.hcl", []byte(tc.src))
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Logf("Parse took %v", elapsed) // a report, not a verdict: the machine may be busy
			}
			if tc.summary == "" {
				if diags.HasErrors() || s == nil {
					t.Fatalf("Parse() = %v, want no errors", diags)
				}
				return
			}
			if len(diags) == 0 {
				t.Fatalf("no diagnostics, want %q", tc.summary)
			}
			d := diags[0]
			got := fmt.Sprintf("%s at %d:%d", d.Summary, d.Subject.Start.Line, d.Subject.Start.Column)
			if diff := cmp.Diff(tc.summary+" at "+tc.at, got); diff != "" {
				t.Errorf("first diagnostic mismatch (-want +got):\n%s\n(detail: %s)", diff, d.Detail)
			}
			if s != nil {
				t.Errorf("Spec = %+v with errors", s)
			}
		})
	}
}
