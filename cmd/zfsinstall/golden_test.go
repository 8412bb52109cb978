package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/views"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var updateGolden = flag.Bool("update", false, "rewrite golden files")

// TestMain runs the tests from the repository root so that paths in
// diagnostics read as a user would type them (testdata/hosts/...).
func TestMain(m *testing.M) {
	if err := os.Chdir("../.."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// runCLI runs zfsinstall in-process and returns its combined output with
// the exit code on the first line.
func runCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &out)
	return fmt.Sprintf("$ zfsinstall %s\nexit: %d\n%s", strings.Join(args, " "), code, out.String()), code
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("missing golden file (run go test ./cmd/zfsinstall -update): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// TestGoldenPlans plans every fixture host against each spec beside it
// (testdata/hosts/<host>/*.hcl) and compares human and JSON output with
// <case>.plan.golden and <case>.plan.json.golden.
func TestGoldenPlans(t *testing.T) {
	hosts, err := filepath.Glob("testdata/hosts/*/facts.json")
	if err != nil || len(hosts) == 0 {
		t.Fatalf("no fixture hosts: %v", err)
	}
	for _, factsFile := range hosts {
		dir := filepath.Dir(factsFile)
		specs, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
		if len(specs) == 0 {
			t.Errorf("%s has no spec (*.hcl) to plan", dir)
		}
		for _, specFile := range specs {
			name := strings.TrimSuffix(specFile, ".hcl")
			t.Run(strings.TrimPrefix(name, "testdata/hosts/"), func(t *testing.T) {
				args := []string{"plan", "--facts", factsFile, "-f", specFile}
				if k, err := os.ReadFile(name + ".kernel"); err == nil {
					args = append(args, "--kernel", strings.TrimSpace(string(k)))
				}
				human, _ := runCLI(t, append(args, "-detailed-exitcode")...)
				golden(t, name+".plan.golden", human)
				js, _ := runCLI(t, append(args, "--json")...)
				golden(t, name+".plan.json.golden", js)
			})
		}
	}
}

// TestFactsFixturesAreCanonical proves every fixture facts.json is exactly
// what `zfsinstall facts --json` prints for that value (same fields, same
// encoder), so fixtures cannot drift from the real output format.
func TestFactsFixturesAreCanonical(t *testing.T) {
	files, _ := filepath.Glob("testdata/hosts/*/facts.json")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var f facts.Facts
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		var out bytes.Buffer
		views.JSON(&out, &f)
		golden(t, file, out.String())
	}
}
