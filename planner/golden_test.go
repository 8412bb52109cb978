package planner

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/spec"
)

// TestGoldenPlans plans every fixture host (testdata/hosts/<host>/facts.json)
// against each spec beside it and compares the Plan with the one in
// <case>.plan.json.golden. The golden files are what `zfsinstall plan
// --json --facts` prints (cmd/zfsinstall writes them with -update); this
// test holds the planner itself to them, without the CLI in between.
func TestGoldenPlans(t *testing.T) {
	hosts, err := filepath.Glob("../testdata/hosts/*/facts.json")
	if err != nil || len(hosts) == 0 {
		t.Fatalf("no fixture hosts: %v", err)
	}
	cases := 0
	for _, factsFile := range hosts {
		f := readFacts(t, factsFile)
		specs, _ := filepath.Glob(filepath.Join(filepath.Dir(factsFile), "*.hcl"))
		for _, specFile := range specs {
			name := strings.TrimSuffix(specFile, ".hcl")
			t.Run(strings.TrimPrefix(name, "../testdata/hosts/"), func(t *testing.T) {
				src, err := os.ReadFile(specFile)
				if err != nil {
					t.Fatal(err)
				}
				// The CLI names the spec by its path from the repository root.
				s, diags := spec.Parse(strings.TrimPrefix(specFile, "../"), src)
				if diags.HasErrors() {
					t.Fatalf("spec: %v", diags)
				}
				var opts Options
				if k, err := os.ReadFile(name + ".kernel"); err == nil {
					opts.Kernel = strings.TrimSpace(string(k))
				}
				want := readGoldenPlan(t, name+".plan.json.golden")
				got := Make(s, f, opts)
				if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("plan differs from %s.plan.json.golden (-want +got); regenerate with go test ./cmd/zfsinstall -update and review:\n%s", name, diff)
				}
			})
			cases++
		}
	}
	if cases < 30 {
		t.Errorf("only %d golden cases found", cases)
	}
}

func readFacts(t *testing.T, path string) *facts.Facts {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f facts.Facts
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &f
}

// readGoldenPlan decodes the plan in a CLI golden file: a "$ command" line
// and an "exit: N" line, then `plan --json` output.
func readGoldenPlan(t *testing.T, path string) *Plan {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.IndexByte(data, '{')
	if i < 0 {
		t.Fatalf("%s holds no JSON", path)
	}
	var p Plan
	if err := json.Unmarshal(data[i:], &p); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &p
}
