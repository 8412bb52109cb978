package apply

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host/hosttest"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/spec"
)

// TestRefusedPlansChangeNothing: for every fixture host and spec whose plan
// has errors, apply runs no command and writes no file (the fixture host
// fails the test on any command; its tree is compared before and after).
func TestRefusedPlansChangeNothing(t *testing.T) {
	hosts, _ := filepath.Glob("../testdata/hosts/*/facts.json")
	refused := 0
	for _, factsFile := range hosts {
		data, err := os.ReadFile(factsFile)
		if err != nil {
			t.Fatal(err)
		}
		var f facts.Facts
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		specs, _ := filepath.Glob(filepath.Join(filepath.Dir(factsFile), "*.hcl"))
		for _, specFile := range specs {
			src, _ := os.ReadFile(specFile)
			s, diags := spec.Parse(specFile, src)
			if diags.HasErrors() {
				t.Fatalf("%s: %v", specFile, diags)
			}
			var opts planner.Options
			if k, err := os.ReadFile(strings.TrimSuffix(specFile, ".hcl") + ".kernel"); err == nil {
				opts.Kernel = strings.TrimSpace(string(k))
			}
			p := planner.Make(s, &f, opts)
			if !p.HasErrors() {
				continue
			}
			refused++
			t.Run(strings.TrimPrefix(specFile, "../testdata/hosts/"), func(t *testing.T) {
				h := hosttest.New(t, "../testdata/hosts-live/rocky9.4-kmod-unmanaged")
				before := tree(t, h.Root())
				if _, err := Apply(context.Background(), h, &f, p, Options{}); err == nil {
					t.Error("apply of a plan with errors did not refuse")
				}
				if calls := h.CallKeys(); len(calls) > 0 {
					t.Errorf("apply ran %v", calls)
				}
				if after := tree(t, h.Root()); after != before {
					t.Errorf("apply changed the host's files:\nbefore %s\nafter  %s", before, after)
				}
			})
		}
	}
	if refused < 10 {
		t.Errorf("only %d refused fixture plans: the property is barely tested", refused)
	}
}

// tree lists every path under dir with its size and mode.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		b.WriteString(strings.TrimPrefix(p, dir) + " " + fi.Mode().String())
		if fi.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			b.WriteString(" " + string(data))
		}
		b.WriteString("\n")
		return nil
	})
	return b.String()
}
