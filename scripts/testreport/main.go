// Command testreport runs `go test -json` with the arguments it is given and shows what make
// test needs to show on a 2-core machine where the suite takes minutes: progress as it goes (each
// package as it finishes, each top-level test that took a second or more, every failure with its
// output), then a summary of what was skipped and why, grouped by reason, and one closing line
// "N passed, N failed, N skipped". Outside CI, when deploy tests were skipped, it says that the
// deploy entry points were not tested and how to get them tested (under CI a skip fails the
// test itself). It exits with go test's exit code.
//
//	go run ./scripts/testreport -count=1 ./...
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output, build-fail
	Test       string
	Elapsed    float64
	Output     string
}

// report keeps what the summary needs while the events stream past.
type report struct {
	w                       io.Writer
	ci                      bool
	output                  map[string][]string // package + test -> output lines
	passed, failed, skipped int
	skips                   map[string][]string // reason -> "package Test"
}

func newReport(w io.Writer, ci bool) *report {
	return &report{w: w, ci: ci, output: map[string][]string{}, skips: map[string][]string{}}
}

// skipLine is the location go test puts before a t.Skip message.
var skipLine = regexp.MustCompile(`^\s+\w+\.go:\d+: `)

// add takes one event.
func (r *report) add(e event) {
	key := e.Package + " " + e.Test
	switch e.Action {
	case "build-output":
		fmt.Fprint(r.w, e.Output)
	case "output":
		if e.Test != "" {
			r.output[key] = append(r.output[key], e.Output)
		} else if strings.HasPrefix(e.Output, "FAIL") || strings.HasPrefix(e.Output, "panic:") {
			fmt.Fprint(r.w, e.Output)
		}
	case "pass", "fail", "skip":
		if e.Test == "" {
			r.pkg(e)
			return
		}
		r.test(e, key)
	}
}

// pkg shows a package as it finishes.
func (r *report) pkg(e event) {
	mark := map[string]string{"pass": "ok  ", "fail": "FAIL", "skip": "?   "}[e.Action]
	if e.Action == "skip" {
		fmt.Fprintf(r.w, "%s %s [no test files]\n", mark, e.Package)
		return
	}
	fmt.Fprintf(r.w, "%s %s %.1fs\n", mark, e.Package, e.Elapsed)
}

// test counts a test and shows it when it failed or, at the top level, took a second or more.
func (r *report) test(e event, key string) {
	defer delete(r.output, key)
	top := !strings.Contains(e.Test, "/")
	switch e.Action {
	case "pass":
		r.passed++
		if top && e.Elapsed >= 1 {
			fmt.Fprintf(r.w, "     %s %s (%.1fs)\n", strings.TrimPrefix(e.Package, module+"/"), e.Test, e.Elapsed)
		}
	case "fail":
		r.failed++
		fmt.Fprintf(r.w, "--- FAIL: %s %s (%.1fs)\n%s", e.Package, e.Test, e.Elapsed, strings.Join(r.output[key], ""))
	case "skip":
		r.skipped++
		reason := "(no reason given)"
		for _, l := range r.output[key] {
			if skipLine.MatchString(l) {
				reason = strings.TrimSpace(skipLine.ReplaceAllString(l, ""))
			}
		}
		r.skips[reason] = append(r.skips[reason], strings.TrimPrefix(e.Package, module+"/")+" "+e.Test)
	}
}

// module is the module's path, trimmed from package names in the summary.
const module = "github.com/zfsinstall/zfsinstall"

// summary prints the skips by reason and the closing line.
func (r *report) summary(took time.Duration) {
	if len(r.skips) > 0 {
		fmt.Fprintf(r.w, "\nSkipped (%d tests), by reason:\n", r.skipped)
		deploy := false
		for _, reason := range slicesSortedKeys(r.skips) {
			tests := r.skips[reason]
			fmt.Fprintf(r.w, "  %s\n      %s\n", reason, strings.Join(tests, ", "))
			deploy = deploy || slices.ContainsFunc(tests, func(t string) bool { return strings.HasPrefix(t, "deploy ") })
		}
		if deploy && !r.ci {
			fmt.Fprintln(r.w, "\nNOT TESTED: some deploy entry points (deploy/: RPM, Ansible, Packer, kickstart) were skipped, see above;"+
				" `sudo make deploy-deps packer` installs and builds what they run (CI does, and there a skip is a failure).")
		}
	}
	fmt.Fprintf(r.w, "\nTests and subtests, in %s:\n%d passed, %d failed, %d skipped\n", took.Round(time.Second), r.passed, r.failed, r.skipped)
}

func slicesSortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func main() {
	start := time.Now()
	cmd := exec.Command(goCommand(), append([]string{"test", "-json"}, os.Args[1:]...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(1)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(1)
	}
	r := newReport(os.Stdout, os.Getenv("CI") != "")
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			fmt.Println(sc.Text()) // not an event: go test's own words
			continue
		}
		r.add(e)
	}
	err = cmd.Wait()
	r.summary(time.Since(start))
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		os.Exit(ee.ExitCode())
	case err != nil:
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(1)
	case r.failed > 0:
		os.Exit(1)
	}
}

// goCommand is the go that runs this program (make passes GO on PATH), else "go".
func goCommand() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}
