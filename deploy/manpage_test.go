package deploy

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// commands lists the commands `zfsinstall -h` names.
func commands(t *testing.T, bin string) []string {
	t.Helper()
	out, _ := exec.Command(bin, "-h").CombinedOutput()
	_, list, ok := strings.Cut(string(out), "Commands:\n")
	if !ok {
		t.Fatalf("zfsinstall -h lists no commands:\n%s", out)
	}
	list, _, _ = strings.Cut(list, "\n\n")
	var cmds []string
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z][a-z-]*) `).FindAllStringSubmatch(list, -1) {
		cmds = append(cmds, m[1])
	}
	if len(cmds) == 0 {
		t.Fatalf("no commands in zfsinstall -h:\n%s", out)
	}
	return cmds
}

// options lists the options `zfsinstall CMD -h` names (without dashes).
func options(t *testing.T, bin, cmd string) []string {
	t.Helper()
	out, _ := exec.Command(bin, cmd, "-h").CombinedOutput()
	var opts []string
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z][a-z-]*)`).FindAllStringSubmatch(string(out), -1) {
		opts = append(opts, m[1])
	}
	return opts
}

// TestManPage checks docs/zfsinstall.8: groff renders it without a single warning, and it
// names every command `zfsinstall -h` lists and every option of every command, so the page
// cannot fall behind the binary unnoticed.
func TestManPage(t *testing.T) {
	groff := need(t, "groff", "apt-get install groff-base")
	page := filepath.Join(repo, "docs", "zfsinstall.8")
	if out := mustRun(t, exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", page)); strings.TrimSpace(out) != "" {
		t.Errorf("groff warns about %s:\n%s", page, out)
	}
	text := mustRun(t, exec.Command(groff, "-man", "-Tascii", "-P-cbou", page))
	text = strings.Join(strings.Fields(text), " ")
	bin := zfsinstall(t)
	for _, cmd := range commands(t, bin) {
		if !strings.Contains(text, "zfsinstall "+cmd) {
			t.Errorf("the man page has no synopsis for `zfsinstall %s`", cmd)
		}
		for _, opt := range options(t, bin, cmd) {
			if !regexp.MustCompile(`(^|[\s\[(])--?` + regexp.QuoteMeta(opt) + `\b`).MatchString(text) {
				t.Errorf("the man page does not mention option -%s (of zfsinstall %s)", opt, cmd)
			}
		}
	}
}
