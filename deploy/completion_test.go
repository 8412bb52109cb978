package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/recipes"
)

// TestBashCompletion sources deploy/completion/zfsinstall.bash in a real bash, sets up the
// words the way bash does for a TAB, calls the completion function and compares what it
// offers.
func TestBashCompletion(t *testing.T) {
	bash := need(t, "bash", "apt-get install bash")
	bin := zfsinstall(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "spec.hcl"), "", 0o644)
	writeFile(t, filepath.Join(dir, "plan.json"), "{}", 0o644)
	for _, k := range []string{"5.14.0-427.13.1.el9_4.x86_64", "6.1.80-1.el9.elrepo.x86_64"} {
		if err := os.MkdirAll(filepath.Join(dir, "root", "lib", "modules", k), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script, err := filepath.Abs(filepath.Join(repo, "deploy", "completion", "zfsinstall.bash"))
	if err != nil {
		t.Fatal(err)
	}

	tests := map[string]struct {
		words []string
		want  []string
		// subset: want must be among the offers (the list grows with the CLI).
		subset bool
	}{
		"commands":       {words: []string{""}, want: commands(t, bin)},
		"command prefix": {words: []string{"ve"}, want: []string{"verify", "version"}},
		"plan options": {words: []string{"plan", "--"}, subset: true, want: []string{
			"--detailed-exitcode", "--dnf-arg", "--facts", "--json", "--kernel", "--log-format",
			"--log-level", "--out", "--refresh", "--release-key", "--root"}},
		"apply options": {words: []string{"apply", "-"}, subset: true, want: []string{"-f", "--auto-approve", "--root"}},
		"one dash":      {words: []string{"plan", "-detailed"}, want: []string{"-detailed-exitcode"}},
		"spec file":     {words: []string{"plan", "-f", dir + "/sp"}, want: []string{dir + "/spec.hcl"}},
		"root":          {words: []string{"apply", "--root", dir + "/ro"}, want: []string{dir + "/root"}},
		"kernel from the root's /lib/modules": {words: []string{"plan", "--root", dir + "/root", "--kernel", ""},
			want: []string{"5.14.0-427.13.1.el9_4.x86_64", "6.1.80-1.el9.elrepo.x86_64"}},
		"log level":   {words: []string{"verify", "--log-level", "w"}, want: []string{"warning"}},
		"recipes":     {words: []string{"recipes", ""}, want: recipes.Names()},
		"plan file":   {words: []string{"apply", dir + "/pl"}, want: []string{dir + "/plan.json"}},
		"no dnf args": {words: []string{"plan", "--dnf-arg", ""}, want: []string{}},
		// Each command offers only its own options.
		"version options":    {words: []string{"version", "--"}, want: []string{"--json"}},
		"guard --h":          {words: []string{"guard", "--h"}, want: []string{"--hold-default", "--hold-until-built"}},
		"apply has no --out": {words: []string{"apply", "--o"}, want: []string{}},
		"verify --textfile":  {words: []string{"verify", "--t"}, want: []string{"--textfile"}},
		"textfile path":      {words: []string{"verify", "--textfile", dir + "/sp"}, want: []string{dir + "/spec.hcl"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			words := append([]string{"zfsinstall"}, tc.words...)
			cmd := exec.Command(bash, append([]string{"--norc", "--noprofile", "-c",
				`source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _zfsinstall; printf '%s\n' "${COMPREPLY[@]}"`,
				script}, words...)...)
			cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, out)
			}
			got := strings.Fields(string(out))
			if tc.subset {
				for _, w := range tc.want {
					if !slices.Contains(got, w) {
						t.Errorf("%q is not offered; offered: %v", w, got)
					}
				}
				for _, g := range got {
					if !regexp.MustCompile(`^--?[a-z][a-z-]*$`).MatchString(g) {
						t.Errorf("offered %q, which is not an option", g)
					}
				}
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("completing %q (-want +got):\n%s", strings.Join(words, " "), diff)
			}
		})
	}
}
