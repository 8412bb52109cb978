package arguments

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var defaults = struct {
	target  Target
	logging Logging
	spec    Spec
}{Target{Root: "/"}, Logging{Format: "text", Level: "warning"}, Spec{File: DefaultSpec}}

func TestParsePlan(t *testing.T) {
	cases := map[string]struct {
		args    []string
		want    *Plan
		wantErr string
	}{
		"defaults": {args: nil, want: &Plan{Spec: defaults.spec, Target: defaults.target, Logging: defaults.logging}},
		"everything, flags after nothing": {
			args: []string{"-f", "s.hcl", "--root", "/mnt", "--kernel", "6.1.80-1.el9.elrepo.x86_64", "--out", "p.json", "-detailed-exitcode",
				"--release-key", "k.asc", "--refresh", "--dnf-arg", "--setopt=a=1", "--dnf-arg", "--nogpgcheck", "--json", "-no-color",
				"--log-format", "json", "--log-level", "debug"},
			want: &Plan{Spec: Spec{File: "s.hcl", Set: true}, Target: Target{Root: "/mnt", Kernel: "6.1.80-1.el9.elrepo.x86_64"},
				Output: Output{JSON: true, NoColor: true}, Logging: Logging{Format: "json", Level: "debug"}, Out: "p.json",
				DetailedExitCode: true, ReleaseKey: "k.asc", Refresh: true, DNFArgs: []string{"--setopt=a=1", "--nogpgcheck"}},
		},
		"facts, several": {args: []string{"--facts", "a.json", "--facts", "dir"},
			want: &Plan{Spec: defaults.spec, Target: defaults.target, Logging: defaults.logging, FactsPaths: []string{"a.json", "dir"}}},
		"a positional spec":     {args: []string{"spec.hcl"}, wantErr: "plan takes no positional argument; did you mean -f spec.hcl?"},
		"a positional anything": {args: []string{"now"}, wantErr: `plan takes no positional argument (got "now")`},
		"after --":              {args: []string{"--", "-f"}, wantErr: `plan takes no positional argument (got "-f")`},
		"--out with --facts":    {args: []string{"--facts", "a.json", "--out", "p"}, wantErr: "--out with --facts"},
		"--dnf-arg with --facts": {args: []string{"--facts", "a.json", "--dnf-arg", "-q"},
			wantErr: "--dnf-arg with --facts: planning from saved facts runs no dnf"},
		"bad log format": {args: []string{"--log-format", "xml"}, wantErr: `--log-format "xml": must be text or json`},
		"unknown option": {args: []string{"--auto-approve"}, wantErr: "plan has no option -auto-approve (apply has it)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParsePlan(tc.args)
			checkParse(t, got, err, tc.want, tc.wantErr, "plan")
		})
	}
}

func checkParse[T any](t *testing.T, got *T, err error, want *T, wantErr, cmd string) {
	t.Helper()
	if wantErr != "" {
		var u *UsageError
		if !errors.As(err, &u) || !strings.Contains(u.Msg, wantErr) || u.Command != cmd {
			t.Errorf("error = %v, want a usage error of %s saying %q", err, cmd, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("error: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseApply(t *testing.T) {
	cases := map[string]struct {
		args    []string
		want    *Apply
		wantErr string
	}{
		"from a spec": {args: []string{"-f", "s.hcl", "--auto-approve"},
			want: &Apply{Spec: Spec{File: "s.hcl", Set: true}, Target: defaults.target, Logging: defaults.logging, AutoApprove: true}},
		"a PLANFILE, options after it": {args: []string{"p.json", "--root", "/mnt/sysimage", "--release-key", "k.asc", "--dnf-arg", "-q", "--json"},
			want: &Apply{PlanFile: "p.json", Target: Target{Root: "/mnt/sysimage"}, Logging: defaults.logging, ReleaseKey: "k.asc",
				DNFArgs: []string{"-q"}, Output: Output{JSON: true}}},
		"a spec as PLANFILE":   {args: []string{"s.hcl"}, wantErr: "did you mean -f s.hcl?"},
		"PLANFILE and -f":      {args: []string{"p.json", "-f", "s.hcl"}, wantErr: "not both"},
		"PLANFILE, --refresh":  {args: []string{"p.json", "--refresh"}, wantErr: "--refresh with a PLANFILE"},
		"--json, no approval":  {args: []string{"--json"}, wantErr: "apply --json cannot ask for approval"},
		"no --facts for apply": {args: []string{"--facts", "x.json"}, wantErr: "apply has no option -facts (plan has it)"},
		"no --out for apply":   {args: []string{"--out", "x"}, wantErr: "apply has no option -out (plan has it)"},
		"no -detailed-exitcode for apply": {args: []string{"-detailed-exitcode"},
			wantErr: "apply has no option -detailed-exitcode (plan has it)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseApply(tc.args)
			checkParse(t, got, err, tc.want, tc.wantErr, "apply")
		})
	}
}

func TestParseVerifyGuardFactsValidate(t *testing.T) {
	v, err := ParseVerify([]string{"--textfile", "/var/lib/node_exporter/zfsinstall.prom", "--json"})
	checkParse(t, v, err, &Verify{Spec: defaults.spec, Target: defaults.target, Logging: defaults.logging, Output: Output{JSON: true},
		Textfile: "/var/lib/node_exporter/zfsinstall.prom"}, "", "verify")
	_, err = ParseVerify([]string{"--textfile", "/tmp/.hidden.prom"})
	checkParse[Verify](t, nil, err, nil, "reads only files named *.prom", "verify")

	g, err := ParseGuard([]string{"--kernel", "k", "--hold-default"})
	checkParse(t, g, err, &Guard{Target: Target{Root: "/", Kernel: "k"}, Logging: defaults.logging, HoldDefault: true}, "", "guard")
	_, err = ParseGuard(nil)
	checkParse[Guard](t, nil, err, nil, "guard needs --kernel RELEASE", "guard")
	_, err = ParseGuard([]string{"-f", "x.hcl", "--kernel", "k"})
	checkParse[Guard](t, nil, err, nil, "guard has no option -f (apply, plan, validate and verify have it)", "guard")

	f, err := ParseFacts([]string{"--refresh", "--dnf-arg", "-q"})
	checkParse(t, f, err, &Facts{Target: defaults.target, Logging: defaults.logging, Refresh: true, DNFArgs: []string{"-q"}}, "", "facts")

	val, err := ParseValidate([]string{"-f", "s.hcl"})
	checkParse(t, val, err, &Validate{Spec: Spec{File: "s.hcl", Set: true}}, "", "validate")
	_, err = ParseValidate([]string{"--root", "/"})
	checkParse[Validate](t, nil, err, nil, "validate has no option -root", "validate")
}

// TestHelpEverywhere: -h and --help are Help on every command, with the
// command's usage.
func TestHelpEverywhere(t *testing.T) {
	parsers := map[string]func([]string) error{
		"validate":     func(a []string) error { _, err := ParseValidate(a); return err },
		"facts":        func(a []string) error { _, err := ParseFacts(a); return err },
		"plan":         func(a []string) error { _, err := ParsePlan(a); return err },
		"apply":        func(a []string) error { _, err := ParseApply(a); return err },
		"verify":       func(a []string) error { _, err := ParseVerify(a); return err },
		"guard":        func(a []string) error { _, err := ParseGuard(a); return err },
		"check-update": func(a []string) error { _, err := ParseCheckUpdate(a); return err },
		"hold":         func(a []string) error { _, err := ParseHold(a); return err },
		"recipes":      func(a []string) error { _, err := ParseRecipes(a); return err },
		"version":      func(a []string) error { _, err := ParseVersion(a); return err },
	}
	if len(parsers) != len(Commands) {
		t.Fatalf("%d parsers for %d commands", len(parsers), len(Commands))
	}
	for cmd, parse := range parsers {
		for _, h := range []string{"-h", "--help", "-help"} {
			var help *Help
			if err := parse([]string{"x.plan", h}); !errors.As(err, &help) || !strings.HasPrefix(help.Text, "Usage: zfsinstall "+cmd) {
				t.Errorf("%s %s: %v", cmd, h, err)
			}
		}
	}
}
