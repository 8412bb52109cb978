package main

import (
	"strings"
	"testing"
)

// TestCLI covers the command line's own promises: exit codes, and that
// every refusal names the cause and the way out.
func TestCLI(t *testing.T) {
	cases := map[string]struct {
		args     []string
		wantCode int
		want     []string
	}{
		"validate good":      {[]string{"validate", "-f", "testdata/specs/good-full.hcl"}, 0, []string{"the spec is valid"}},
		"validate bad":       {[]string{"validate", "-f", "testdata/specs/bad-packaging.hcl"}, 1, []string{"testdata/specs/bad-packaging.hcl:", "error:", `"auto", "dkms", "kmod"`}},
		"plan without spec":  {[]string{"plan", "--facts", "testdata/hosts/rocky9.4-stock/facts.json"}, 1, []string{"zfsinstall.hcl", "zfsinstall recipes"}},
		"apply from facts":   {[]string{"apply", "--facts", "testdata/hosts/rocky9.4-stock/facts.json", "-f", "testdata/specs/good-empty.hcl"}, 1, []string{"apply cannot use --facts"}},
		"unknown command":    {[]string{"instal"}, 1, []string{`unknown command "instal"`, "Commands:"}},
		"guard needs kernel": {[]string{"guard"}, 1, []string{"guard needs --kernel RELEASE"}},
		"recipes":            {[]string{"recipes"}, 0, []string{"el-kmod", "elrepo-dkms", "kickstart"}},
		"recipe unknown":     {[]string{"recipes", "nope"}, 1, []string{"nope"}},
		"detailed, changes":  {[]string{"plan", "--facts", "testdata/hosts/rocky9.4-stock/facts.json", "-f", "testdata/specs/good-empty.hcl", "--detailed-exitcode"}, 2, []string{"Plan: "}},
		"bad log level":      {[]string{"plan", "--log-level", "loud"}, 1, []string{"--log-level"}},
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
		})
	}
}
