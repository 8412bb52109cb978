package host

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"
)

// childScript stands in for dnf: it says it is ready, then loops; its traps
// decide what an interrupt does. $READY is the file it creates when ready.
const childScript = `
trap 'echo got INT; sleep 0.3; echo finished cleanly; exit 130' INT
trap 'echo got TERM; sleep 0.3; echo finished cleanly; exit 143' TERM
%s
echo ready > "$READY"
while :; do sleep 0.05; done
`

// runInterruptible starts script under h.Run with an interruptible
// context, waits until it is ready, and returns the context's interrupt
// function and a channel with Run's outcome.
func runInterruptible(t *testing.T, h *Real, extra string) (func(os.Signal), <-chan runOutcome) {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	ctx, interrupt, cancel := WithInterrupt(context.Background())
	t.Cleanup(cancel)
	out := make(chan runOutcome, 1)
	go func() {
		res, err := h.Run(ctx, Cmd{Argv: []string{"sh", "-c", strings.Replace(childScript, "%s", extra, 1)}, Env: []string{"READY=" + ready}})
		out <- runOutcome{res, err}
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the child never became ready")
		}
	}
	return interrupt, out
}

// quiet is a logger for tests that provoke warnings on purpose.
func quiet() logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

type runOutcome struct {
	res Result
	err error
}

// outcome summarises a Run outcome for comparison.
type outcome struct {
	Stdout      string
	ExitCode    int
	Interrupted bool
	Sent        string
	Killed      bool
}

func summarise(o runOutcome) outcome {
	s := outcome{Stdout: string(o.res.Stdout), ExitCode: o.res.ExitCode, Interrupted: errors.Is(o.err, ErrInterrupted)}
	var ie *InterruptedError
	if errors.As(o.err, &ie) {
		s.Sent, s.Killed = signalName(ie.Signal), ie.Killed
	}
	return s
}

func TestRunPassesInterruptOnAndWaits(t *testing.T) {
	cases := map[string]struct {
		signal syscall.Signal
		want   outcome
	}{
		"Ctrl-C: SIGINT is passed on and the child finishes": {
			syscall.SIGINT,
			outcome{Stdout: "got INT\nfinished cleanly\n", ExitCode: 130, Interrupted: true, Sent: "SIGINT"},
		},
		"systemctl stop: SIGTERM is passed on and the child finishes": {
			syscall.SIGTERM,
			outcome{Stdout: "got TERM\nfinished cleanly\n", ExitCode: 143, Interrupted: true, Sent: "SIGTERM"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			interrupt, out := runInterruptible(t, NewReal("/", quiet()), "")
			interrupt(c.signal)
			got := summarise(<-out)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunChildFinishingAfterInterruptSucceeds(t *testing.T) {
	interrupt, out := runInterruptible(t, NewReal("/", quiet()), `trap 'echo done anyway; exit 0' INT`)
	interrupt(syscall.SIGINT)
	o := <-out
	if o.err != nil || string(o.res.Stdout) != "done anyway\n" {
		t.Errorf("Run = %q, %v; want the child's success reported as success", o.res.Stdout, o.err)
	}
}

func TestRunSecondInterruptKills(t *testing.T) {
	// The child ignores SIGINT, as rpm holds it during a transaction.
	interrupt, out := runInterruptible(t, NewReal("/", quiet()), `trap '' INT`)
	interrupt(syscall.SIGINT)
	select {
	case o := <-out:
		t.Fatalf("Run returned after one interrupt (%v): it must wait for the child", o.err)
	case <-time.After(500 * time.Millisecond):
	}
	start := time.Now()
	interrupt(syscall.SIGINT)
	o := <-out
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the second interrupt took %s to kill the child", took)
	}
	want := outcome{ExitCode: -1, Interrupted: true, Sent: "SIGINT", Killed: true}
	if diff := cmp.Diff(want, summarise(o)); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
	if !strings.Contains(o.err.Error(), "was killed (a second interrupt) after it was sent SIGINT") {
		t.Errorf("message %q does not say why it was killed", o.err)
	}
}

func TestRunKillsAfterTimeout(t *testing.T) {
	h := NewReal("/", quiet())
	h.KillAfter = 300 * time.Millisecond
	interrupt, out := runInterruptible(t, h, `trap '' TERM`)
	start := time.Now()
	interrupt(syscall.SIGTERM)
	o := <-out
	if took := time.Since(start); took < 300*time.Millisecond || took > 5*time.Second {
		t.Errorf("killed after %s, want after KillAfter (300ms)", took)
	}
	want := outcome{ExitCode: -1, Interrupted: true, Sent: "SIGTERM", Killed: true}
	if diff := cmp.Diff(want, summarise(o)); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
	if !strings.Contains(o.err.Error(), "did not stop within 300ms") {
		t.Errorf("message %q does not say why it was killed", o.err)
	}
}

func TestRunNotStartedAfterInterrupt(t *testing.T) {
	ctx, interrupt, cancel := WithInterrupt(context.Background())
	defer cancel()
	interrupt(syscall.SIGINT)
	marker := filepath.Join(t.TempDir(), "ran")
	_, err := NewReal("/", quiet()).Run(ctx, Cmd{Argv: []string{"touch", marker}})
	var ie *InterruptedError
	if !errors.Is(err, ErrInterrupted) || !errors.As(err, &ie) || !ie.NotStarted {
		t.Fatalf("err = %v, want an InterruptedError with NotStarted", err)
	}
	if _, serr := os.Stat(marker); serr == nil {
		t.Errorf("the command ran after the interrupt")
	}
	if got, want := err.Error(), "not running `touch "+marker+"`: interrupted by SIGINT"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

func TestRunDeadlineSendsTerm(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res, err := NewReal("/", quiet()).Run(ctx, Cmd{Argv: []string{"sh", "-c", strings.Replace(childScript, "%s", "", 1)}, Env: []string{"READY=/dev/null"}})
	if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.DeadlineExceeded) || res.ExitCode != 143 {
		t.Errorf("Run = exit %d, %v; want SIGTERM passed on (exit 143) and an error wrapping ErrInterrupted and DeadlineExceeded", res.ExitCode, err)
	}
}

// TestNotifyContextRealSignals sends the test process itself SIGINT twice:
// the first cancels the context with the signal as cause, the second
// closes the kill channel. Nothing else happens to the process, as the
// signals are caught.
func TestNotifyContextRealSignals(t *testing.T) {
	ctx, stop := NotifyContext(context.Background())
	defer stop()
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGINT did not cancel the context")
	}
	if got := interruptSignal(ctx); got != syscall.SIGINT {
		t.Errorf("cause signal %v, want SIGINT", got)
	}
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case <-killRequested(ctx):
	case <-time.After(5 * time.Second):
		t.Fatal("the second SIGINT did not request a kill")
	}
}
