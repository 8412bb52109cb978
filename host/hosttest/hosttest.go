// Package hosttest provides a fake host.Host for tests (as net/http/httptest does for
// net/http): a directory tree plus a table of canned command results. It is kept out of
// package host so that the testing package never ships in the zfsinstall binary.
package hosttest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/zfsinstall/zfsinstall/host"
)

// Fixture is a fake host for tests: a directory tree (a copy, so tests may
// write to it) plus a table of command -> canned result. A command that is
// not in the table fails the test. Every command is recorded in Calls.
type Fixture struct {
	*host.Real
	t        testing.TB
	mu       sync.Mutex
	commands map[string]FixtureResult
	handlers map[string]func(host.Cmd) FixtureResult
	Calls    []host.Cmd
	live     bool
}

// FixtureResult is the canned outcome of a command.
type FixtureResult struct {
	Stdout   string
	Stderr   string
	ExitCode int
	// Interrupted makes the command end as host.Real.Run ends one that
	// zfsinstall passed SIGINT on to: with a *host.InterruptedError
	// (errors.Is(err, host.ErrInterrupted)) carrying ExitCode (dnf exits 1
	// on KeyboardInterrupt, rpm 130 after its transaction). It is a fake of
	// the signal: nothing is signalled.
	Interrupted bool
}

// New returns a fixture host whose tree starts as a copy of srcDir
// (which may be "" for an empty tree).
func New(t testing.TB, srcDir string) *Fixture {
	t.Helper()
	dir := t.TempDir()
	if srcDir != "" {
		if err := os.CopyFS(dir, os.DirFS(srcDir)); err != nil {
			t.Fatalf("copying fixture tree %s: %v", srcDir, err)
		}
	}
	return &Fixture{Real: host.NewReal(dir, nil), t: t, commands: map[string]FixtureResult{}, handlers: map[string]func(host.Cmd) FixtureResult{}}
}

// Live makes the fixture play a running system: Root() says "/" (so the
// code under test takes its live-host paths: no --root, no chroot) while
// every file still lives in the fixture's tree.
func (f *Fixture) Live() *Fixture {
	f.live = true
	return f
}

// Root implements Host.
func (f *Fixture) Root() string {
	if f.live {
		return "/"
	}
	return f.Real.Root()
}

// On registers the result of the command whose argv joined by spaces is key.
func (f *Fixture) On(key string, r FixtureResult) *Fixture {
	f.commands[key] = r
	return f
}

// Handle registers a function answering every command whose argv joined by
// spaces starts with prefix (used where the output depends on state).
func (f *Fixture) Handle(prefix string, fn func(host.Cmd) FixtureResult) *Fixture {
	f.handlers[prefix] = fn
	return f
}

// Handler is the function Handle registered for prefix (nil if none), so a
// test can wrap a fixture's fake.
func (f *Fixture) Handler(prefix string) func(host.Cmd) FixtureResult {
	return f.handlers[prefix]
}

// Run implements Host from the command table. As host.Real.Run, it starts
// nothing once ctx has ended: the command is not recorded in Calls and the
// error is a *host.InterruptedError with NotStarted set.
func (f *Fixture) Run(ctx context.Context, c host.Cmd) (host.Result, error) {
	if ctx.Err() != nil {
		return host.Result{ExitCode: -1}, &host.InterruptedError{Cmd: c, NotStarted: true, ExitCode: -1, Cause: context.Cause(ctx)}
	}
	f.mu.Lock()
	f.Calls = append(f.Calls, c)
	f.mu.Unlock()
	key := strings.Join(c.Argv, " ")
	r, ok := f.commands[key]
	if !ok {
		best := ""
		for prefix := range f.handlers {
			if strings.HasPrefix(key, prefix) && len(prefix) > len(best) {
				best = prefix
			}
		}
		if best == "" {
			f.t.Errorf("fixture host: unexpected command %q", key)
			return host.Result{ExitCode: 127}, fmt.Errorf("fixture host: unexpected command %q: %w", key, fs.ErrNotExist)
		}
		r = f.handlers[best](c)
	}
	res := host.Result{Stdout: []byte(r.Stdout), Stderr: []byte(r.Stderr), ExitCode: r.ExitCode}
	if r.Interrupted {
		in := &host.Interrupt{Signal: syscall.SIGINT}
		return res, &host.InterruptedError{Cmd: c, Signal: in.Signal, ExitCode: r.ExitCode, Stdout: res.Stdout, Stderr: res.Stderr, Cause: in}
	}
	if r.ExitCode == 127 {
		return res, fmt.Errorf("running `%s`: %w", c, fs.ErrNotExist)
	}
	if r.ExitCode != 0 {
		return res, &host.CmdError{Cmd: c, ExitCode: r.ExitCode, Stderr: res.Stderr, Stdout: res.Stdout}
	}
	return res, nil
}

// CallKeys returns the recorded commands as space-joined argv strings.
func (f *Fixture) CallKeys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.Calls))
	for i, c := range f.Calls {
		out[i] = strings.Join(c.Argv, " ")
	}
	return out
}

// Path maps a host path into the fixture tree (for test assertions).
func (f *Fixture) Path(p string) string { return filepath.Join(f.Real.Dir, filepath.Clean("/"+p)) }

// KernelRelease answers like `uname -r` from the command table (a fixture
// plays another machine than the one the tests run on).
func (f *Fixture) KernelRelease() (string, error) {
	res, err := f.Run(context.Background(), host.Cmd{Argv: []string{"uname", "-r"}})
	return strings.TrimSpace(string(res.Stdout)), err
}
