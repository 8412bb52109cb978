package planner

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/spec"
)

func loadFacts(b *testing.B, host string) *facts.Facts {
	data, err := os.ReadFile("../testdata/hosts/" + host + "/facts.json")
	if err != nil {
		b.Fatal(err)
	}
	var f facts.Facts
	if err := json.Unmarshal(data, &f); err != nil {
		b.Fatal(err)
	}
	return &f
}

// BenchmarkPlanConverged plans a host that already matches its spec: the
// pure planning cost, without gathering facts.
func BenchmarkPlanConverged(b *testing.B) {
	f := loadFacts(b, "rhel9.4-converged")
	s := spec.Default()
	for b.Loop() {
		if p := Make(s, f, Options{}); len(p.Steps) != 0 {
			b.Fatalf("converged host planned %d steps", len(p.Steps))
		}
	}
}

// BenchmarkPlanFresh plans a fresh ELRepo kernel-lt host (DKMS, every step).
func BenchmarkPlanFresh(b *testing.B) {
	f := loadFacts(b, "rocky9.3-elrepo-lt-6.1")
	s := spec.Default()
	for b.Loop() {
		Make(s, f, Options{})
	}
}
