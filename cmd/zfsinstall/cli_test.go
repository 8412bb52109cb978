package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/cmd/zfsinstall/internal/arguments"
)

// TestCLI covers the command line's own promises: exit codes, and that
// every refusal names the cause and the way out.
func TestCLI(t *testing.T) {
	const facts = "testdata/hosts/rocky9.4-stock/facts.json"
	cases := map[string]struct {
		args     []string
		wantCode int
		want     []string
	}{
		"validate good":      {[]string{"validate", "-f", "testdata/specs/good-full.hcl"}, 0, []string{"the spec is valid"}},
		"validate bad":       {[]string{"validate", "-f", "testdata/specs/bad-packaging.hcl"}, 1, []string{"testdata/specs/bad-packaging.hcl:", "error:", `"auto", "dkms", "kmod"`}},
		"plan without spec":  {[]string{"plan", "--facts", facts}, 1, []string{"zfsinstall.hcl", "zfsinstall recipes"}},
		"apply from facts":   {[]string{"apply", "--facts", facts, "-f", "testdata/specs/good-empty.hcl"}, 1, []string{"Error: apply has no option -facts (plan has it)", "Run 'zfsinstall apply -h'"}},
		"unknown command":    {[]string{"instal"}, 1, []string{`Error: unknown command "instal"`, "Commands:"}},
		"guard needs kernel": {[]string{"guard"}, 3, []string{"Error: guard needs --kernel RELEASE"}},
		"recipes":            {[]string{"recipes"}, 0, []string{"el-kmod", "elrepo-dkms", "kickstart"}},
		"recipe unknown":     {[]string{"recipes", "nope"}, 1, []string{"Error: ", "nope", "zfsinstall recipes lists them"}},
		"detailed, changes":  {[]string{"plan", "--facts", facts, "-f", "testdata/specs/good-empty.hcl", "--detailed-exitcode"}, 2, []string{"Plan: "}},
		"bad log level":      {[]string{"plan", "--log-level", "loud"}, 1, []string{`Error: --log-level "loud": must be one of debug, info, warning, error`}},

		"plan with a positional spec": {[]string{"plan", "spec.hcl"}, 1, []string{"Error: plan takes no positional argument; did you mean -f spec.hcl?"}},
		"plan with positional facts":  {[]string{"plan", "-f", "x.hcl", "web1.json"}, 1, []string{"did you mean --facts web1.json?"}},
		"validate with a positional":  {[]string{"validate", "spec.hcl"}, 1, []string{"validate takes no positional argument; did you mean -f spec.hcl?"}},
		"verify with a positional":    {[]string{"verify", "extra"}, 3, []string{`verify takes no positional argument (got "extra")`}},
		"guard with a positional":     {[]string{"guard", "5.14.0-427.13.1.el9_4.x86_64"}, 3, []string{"did you mean --kernel 5.14.0-427.13.1.el9_4.x86_64?"}},
		"apply a spec as PLANFILE":    {[]string{"apply", "/etc/zfsinstall.hcl"}, 1, []string{"looks like a host spec; did you mean -f /etc/zfsinstall.hcl?"}},
		"apply two PLANFILEs":         {[]string{"apply", "a.plan", "b.plan"}, 1, []string{`apply takes at most one PLANFILE (got "a.plan b.plan")`}},
		"apply PLANFILE and -f":       {[]string{"apply", "a.plan", "-f", "x.hcl"}, 1, []string{"apply takes -f SPEC or a PLANFILE, not both"}},
		"apply PLANFILE and --kernel": {[]string{"apply", "a.plan", "--kernel", "6.1.80-1.el9.elrepo.x86_64"}, 1, []string{"the saved plan records the kernel"}},
		"apply --json asks nobody":    {[]string{"apply", "--json"}, 1, []string{"apply --json cannot ask for approval: add --auto-approve"}},
		"a misspelt option":           {[]string{"plan", "--detailed-exitcodes"}, 1, []string{"plan has no option -detailed-exitcodes; did you mean -detailed-exitcode?"}},
		"an option without its value": {[]string{"plan", "-f"}, 1, []string{"Error: option -f needs a value"}},
		"verify textfile not .prom":   {[]string{"verify", "--textfile", "/tmp/zfs.txt"}, 3, []string{"reads only files named *.prom"}},
		"plan --out from facts":       {[]string{"plan", "--facts", facts, "--out", "x.plan"}, 1, []string{"--out with --facts"}},
		"plan --root from facts":      {[]string{"plan", "--facts", facts, "--root", "/mnt"}, 1, []string{"--root with --facts"}},
		"recipes with two names":      {[]string{"recipes", "el-kmod", "kickstart"}, 1, []string{"recipes takes at most one NAME"}},
		"no command":                  {nil, 1, []string{"Error: no command given", "Usage: zfsinstall <command>"}},
		"validate missing default":    {[]string{"validate"}, 1, []string{"Error: reading the spec zfsinstall.hcl: ", "write a host spec at ./zfsinstall.hcl or pass -f SPEC"}},
		"plan missing -f spec":        {[]string{"plan", "-f", "nope.hcl"}, 1, []string{"Error: reading the spec nope.hcl: stat nope.hcl: no such file or directory"}},
		"validate bad, one Error":     {[]string{"validate", "-f", "testdata/specs/bad-packaging.hcl"}, 1, []string{"Error: the spec testdata/specs/bad-packaging.hcl has errors (see above)"}},
		"top-level help":              {[]string{"--help"}, 0, []string{"Usage: zfsinstall <command>", "version"}},
		"help for a command":          {[]string{"help", "plan"}, 0, []string{"Usage: zfsinstall plan", "-detailed-exitcode"}},
		"help for no command":         {[]string{"help", "instal"}, 1, []string{`Error: unknown command "instal"`}},
		"--version":                   {[]string{"--version"}, 0, []string{"zfsinstall ", "module github.com/zfsinstall/zfsinstall", "built with go"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out, code := runCLI(t, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\n%s", code, tc.wantCode, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not contain %q:\n%s", w, out)
				}
			}
			// One error prefix: every failure says why on a line starting
			// "Error: "; only a spec diagnostic with its location says
			// "FILE:LINE:COL: error:", as compilers do.
			if code != 0 && code != 2 && !regexp.MustCompile(`(?m)^Error: \S`).MatchString(out) {
				t.Errorf("exit %d without an Error: line:\n%s", code, out)
			}
			if regexp.MustCompile(`(?im)^error\b|^Error:\s*$`).MatchString(strings.ReplaceAll(out, "Error: ", "")) {
				t.Errorf("an error line with another prefix:\n%s", out)
			}
		})
	}
}

// TestHelp: -h and --help exit 0 on every command and print its help on
// standard output; each command lists exactly the options it uses, each
// with a readable placeholder (never a phrase package flag took from a
// backquoted word).
func TestHelp(t *testing.T) {
	logging := []string{"log-format", "log-level"}
	want := map[string][]string{
		"validate": {"f", "no-color"},
		"facts":    append([]string{"dnf-arg", "json", "kernel", "no-color", "refresh", "root"}, logging...),
		"plan": append([]string{"detailed-exitcode", "dnf-arg", "f", "facts", "json", "kernel", "no-color", "out",
			"refresh", "release-key", "root"}, logging...),
		"apply":        append([]string{"auto-approve", "dnf-arg", "f", "json", "kernel", "no-color", "refresh", "release-key", "root"}, logging...),
		"verify":       append([]string{"f", "json", "kernel", "no-color", "root", "textfile"}, logging...),
		"guard":        append([]string{"hold-default", "hold-until-built", "json", "kernel", "no-color", "root"}, logging...),
		"check-update": append([]string{"detailed-exitcode", "dnf-arg", "json", "no-color", "refresh", "root"}, logging...),
		"hold":         append([]string{"dnf-arg", "json", "no-color", "refresh", "root"}, logging...),
		"recipes":      nil,
		"version":      {"json"},
	}
	var names []string
	for _, c := range arguments.Commands {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff(slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	}), slices.Sorted(slices.Values(names))); diff != "" {
		t.Fatalf("commands (-this test +zfsinstall -h):\n%s", diff)
	}
	optLine := regexp.MustCompile(`^  -([a-z][a-z-]*)(?: ([A-Z][A-Za-z.|]*))?$`)
	for cmd, opts := range want {
		for _, h := range []string{"-h", "--help"} {
			t.Run(cmd+" "+h, func(t *testing.T) {
				stdout, stderr, code := runOn(t, nil, cmd, h)
				if code != 0 || stderr != "" {
					t.Errorf("exit %d, stderr %q; want 0 and nothing on stderr", code, stderr)
				}
				if !strings.HasPrefix(stdout, "Usage: zfsinstall "+cmd) {
					t.Errorf("help does not start with the usage of %s", cmd)
				}
				var got []string
				for _, l := range strings.Split(stdout, "\n") {
					if !strings.HasPrefix(l, "  -") {
						continue
					}
					m := optLine.FindStringSubmatch(l)
					if m == nil {
						t.Errorf("garbled option line %q", l)
						continue
					}
					got = append(got, m[1])
				}
				slices.Sort(got)
				if diff := cmp.Diff(slices.Sorted(slices.Values(opts)), got); diff != "" {
					t.Errorf("options of %s (-want +got):\n%s", cmd, diff)
				}
			})
		}
	}
}
