// Package pkgmgrtest replays what the real dnf5 did, for tests of code that
// runs dnf on a host that has dnf5 (Fedora 41 and later). dnf5 cannot run
// in CI (Debian 12 has no dnf5), so its runs were recorded once from a real
// dnf5 (testdata/dnf5/README.md says which, against what, and how to record
// them again) and a fake host answers exactly those command lines with
// exactly what dnf5 printed.
package pkgmgrtest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zfsinstall/zfsinstall/host/hosttest"
)

// RootToken stands for the install root in a recorded argv.
const RootToken = "@ROOT@"

// Recording is one run of the real dnf5.
type Recording struct {
	// Case names the run; Root is the install root it ran against
	// (testdata/dnf5/record/setup.sh).
	Case string `json:"case"`
	Root string `json:"root"`
	// DNF5 is the dnf5 that ran ("5.4.6.0 (Debian sid dnf5 5.4.6.0-1)").
	DNF5 string `json:"dnf5"`
	// Argv is the command line, RootToken for the install root.
	Argv   []string `json:"argv"`
	Exit   int      `json:"exit"`
	Stdout string   `json:"stdout"`
	Stderr string   `json:"stderr"`
}

// Load reads the recording dir/name.json.
func Load(t testing.TB, dir, name string) Recording {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		t.Fatalf("reading a dnf5 recording: %v", err)
	}
	var r Recording
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s/%s.json: %v", dir, name, err)
	}
	return r
}

// Key is the argv h is asked for the recorded run: RootToken replaced by
// h's root, or, on a fixture playing a live host (root "/"), without
// --installroot (the run is the same: only where the host lives differs).
func (r Recording) Key(root string) string {
	argv := slices.Clone(r.Argv)
	if i := slices.Index(argv, "--installroot"); i >= 0 && root == "/" {
		argv = slices.Delete(argv, i, i+2)
	}
	for i := range argv {
		argv[i] = strings.ReplaceAll(argv[i], RootToken, root)
	}
	return strings.Join(argv, " ")
}

// Result is what the fake answers.
func (r Recording) Result() hosttest.FixtureResult {
	return hosttest.FixtureResult{Stdout: r.Stdout, Stderr: r.Stderr, ExitCode: r.Exit}
}

// FakeDNF5 makes h a fake dnf5 that knows only the named recordings from
// dir: each recorded command line is answered with what the real dnf5
// printed and its exit code; any other dnf command fails the test (as every
// command hosttest does not know does).
func FakeDNF5(t testing.TB, h *hosttest.Fixture, dir string, names ...string) {
	t.Helper()
	for _, name := range names {
		r := Load(t, dir, name)
		h.On(r.Key(h.Root()), r.Result())
	}
}
