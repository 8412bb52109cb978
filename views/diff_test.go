package views

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func lines(n int, prefix string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%s%d\n", prefix, i)
	}
	return b.String()
}

func TestUnifiedDiff(t *testing.T) {
	long := lines(20, "line ")
	cases := map[string]struct {
		a, b string
		want []string
	}{
		"equal":                  {"a\nb\n", "a\nb\n", nil},
		"created":                {"", "a\nb\n", []string{"@@ -0,0 +1,2 @@", "+a", "+b"}},
		"removed":                {"a\nb\n", "", []string{"@@ -1,2 +0,0 @@", "-a", "-b"}},
		"one line":               {"# h\nx=1\ny=2\n", "# h\nx=2\ny=2\n", []string{"@@ -1,3 +1,3 @@", " # h", "-x=1", "+x=2", " y=2"}},
		"appended":               {"a\n", "a\nb\n", []string{"@@ -1 +1,2 @@", " a", "+b"}},
		"only the final newline": {"a\n", "a", []string{"(only the final newline differs)"}},
		"two hunks": {long, strings.Replace(strings.Replace(long, "line 2\n", "two\n", 1), "line 18\n", "eighteen\n", 1), []string{
			"@@ -1,5 +1,5 @@", " line 1", "-line 2", "+two", " line 3", " line 4", " line 5",
			"@@ -15,6 +15,6 @@", " line 15", " line 16", " line 17", "-line 18", "+eighteen", " line 19", " line 20"}},
		"one hunk when changes are close": {long, strings.Replace(strings.Replace(long, "line 5\n", "five\n", 1), "line 10\n", "ten\n", 1), []string{
			"@@ -2,12 +2,12 @@", " line 2", " line 3", " line 4", "-line 5", "+five", " line 6", " line 7", " line 8", " line 9", "-line 10", "+ten", " line 11", " line 12", " line 13"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, unifiedDiff(tc.a, tc.b)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestUnifiedDiffAgreesWithDiff compares the hunks with GNU diff -u's,
// when diff is installed.
func TestUnifiedDiffAgreesWithDiff(t *testing.T) {
	diff, err := exec.LookPath("diff")
	if err != nil {
		t.Skip("diff is not installed (apt-get install diffutils)")
	}
	long := lines(30, "l")
	pairs := [][2]string{
		{long, strings.Replace(long, "l7\n", "seven\nsept\n", 1)},
		{long, strings.Replace(strings.Replace(long, "l1\n", "", 1), "l30\n", "thirty\n", 1)},
		{"# Managed\noptions zfs zfs_arc_max=4294967296\noptions zfs zfs_prefetch_disable=1\noptions zfs zfs_txg_timeout=5\n", "# Managed\noptions zfs zfs_arc_max=8589934592\noptions zfs zfs_txg_timeout=5\n"},
	}
	dir := t.TempDir()
	for i, p := range pairs {
		a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		os.WriteFile(a, []byte(p[0]), 0o644)
		os.WriteFile(b, []byte(p[1]), 0o644)
		out, _ := exec.Command(diff, "-u", a, b).Output()
		want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")[2:] // without the ---/+++ header
		if d := cmp.Diff(want, unifiedDiff(p[0], p[1])); d != "" {
			t.Errorf("pair %d differs from diff -u (-diff +zfsinstall):\n%s", i, d)
		}
	}
}
