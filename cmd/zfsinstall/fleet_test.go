package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zfsinstall/zfsinstall/views"
)

// fleetDir copies the facts of the named fixture hosts into a directory
// as HOST.json, as `zfsinstall facts --json > DIR/HOST.json` on each host
// would leave them.
func fleetDir(t testing.TB, hosts ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, h := range hosts {
		data, err := os.ReadFile(filepath.Join("testdata/hosts", h, "facts.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, h+".json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestFleetPlan plans a directory of saved facts against one spec: one
// entry per host (changes, none, errors, a file that is not facts), and
// the exit code of -detailed-exitcode over the fleet. The outputs are
// golden (testdata/fleet/), the directory written as FLEET.
func TestFleetPlan(t *testing.T) {
	dir := fleetDir(t, "rocky9.4-stock", "rhel9.4-converged", "debian12", "rocky9.3-elrepo-lt-6.1")
	os.WriteFile(filepath.Join(dir, "broken.json"), []byte("{\"distro\": "), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a facts file\n"), 0o644)
	spec := "testdata/hosts/rhel9.4-converged/default.hcl"
	for name, args := range map[string][]string{
		"summary":       {"plan", "--facts", dir, "-f", spec, "-detailed-exitcode"},
		"summary.jsonl": {"plan", "--facts", dir, "-f", spec, "-detailed-exitcode", "--json"},
	} {
		t.Run(name, func(t *testing.T) {
			out, code := runCLI(t, args...)
			if code != 1 {
				t.Errorf("exit %d, want 1: two hosts have errors", code)
			}
			golden(t, filepath.Join("testdata/fleet", name+".golden"), strings.ReplaceAll(out, dir, "FLEET"))
		})
	}
	t.Run("JSON lines", func(t *testing.T) {
		stdout, _, _ := runOn(t, nil, "plan", "--facts", dir, "-f", spec, "--json")
		dec := json.NewDecoder(strings.NewReader(stdout))
		dec.DisallowUnknownFields()
		var hosts []string
		for dec.More() {
			var r views.FleetHostReport
			if err := dec.Decode(&r); err != nil {
				t.Fatal(err)
			}
			hosts = append(hosts, r.Host)
		}
		if strings.Count(stdout, "\n") != 5 || strings.Join(hosts, " ") != "broken debian12 rhel9.4-converged rocky9.3-elrepo-lt-6.1 rocky9.4-stock" {
			t.Errorf("want one line per host, sorted by name; got %v\n%s", hosts, stdout)
		}
	})
	codes := map[string]struct {
		hosts    []string
		detailed bool
		want     int
	}{
		"changes, detailed":       {[]string{"rocky9.4-stock", "rhel9.4-converged"}, true, 2},
		"changes, not detailed":   {[]string{"rocky9.4-stock", "rhel9.4-converged"}, false, 0},
		"no changes, detailed":    {[]string{"rhel9.4-converged", "rhel9.4-converged-dracut"}, true, 0},
		"an error wins, detailed": {[]string{"rocky9.4-stock", "debian12"}, true, 1},
		"an error, not detailed":  {[]string{"rhel9.4-converged", "debian12"}, false, 1},
		"several --facts files":   {[]string{"rocky9.4-stock"}, true, 2},
		"an empty directory":      {nil, false, 1},
		"same host name twice":    {[]string{"rocky9.4-stock"}, false, 1},
	}
	for name, tc := range codes {
		t.Run(name, func(t *testing.T) {
			d := fleetDir(t, tc.hosts...)
			args := []string{"plan", "--facts", d, "-f", spec}
			switch name {
			case "several --facts files":
				args = []string{"plan", "-f", spec, "--facts", filepath.Join(d, "rocky9.4-stock.json"), "--facts", "testdata/hosts/rhel9.4-converged/facts.json"}
			case "same host name twice":
				args = append(args, "--facts", filepath.Join(d, "rocky9.4-stock.json"))
			}
			if tc.detailed {
				args = append(args, "-detailed-exitcode")
			}
			if _, code := runCLI(t, args...); code != tc.want {
				t.Errorf("exit %d, want %d", code, tc.want)
			}
		})
	}
}

// BenchmarkFleetPlan plans 1,000 hosts from saved facts in one process,
// with --json to io.Discard: the figure is per fleet of 1,000 (make
// bench-go). The hosts are copies of the rocky9.4-stock fixture, or of a
// real-size host (testdata/fleet/real-size-kmod.json: three kernels of
// real-size kABI provides, kmod-zfs installed, the repositories asked).
func BenchmarkFleetPlan(b *testing.B) {
	const n = 1000
	for name, facts := range map[string]string{
		"fixture":   "testdata/hosts/rocky9.4-stock/facts.json",
		"real-size": "testdata/fleet/real-size-kmod.json",
	} {
		b.Run(name, func(b *testing.B) {
			data, err := os.ReadFile(facts)
			if err != nil {
				b.Fatal(err)
			}
			dir := b.TempDir()
			for i := range n {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("host%04d.json", i)), data, 0o644); err != nil {
					b.Fatal(err)
				}
			}
			args := []string{"plan", "--facts", dir, "-f", "testdata/specs/good-empty.hcl", "--json"}
			var errb bytes.Buffer
			for b.Loop() {
				errb.Reset()
				if code := run(args, strings.NewReader(""), io.Discard, &errb); code != 0 {
					b.Fatalf("exit %d\n%s", code, errb.String())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n/1e3, "µs/host")
		})
	}
}
