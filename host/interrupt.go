package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Interrupting zfsinstall must not break the host. Killing dnf in the middle
// of an rpm transaction can leave packages half installed and the rpm
// database needing repair; dnf and rpm stop cleanly by themselves when
// signalled:
//
//   - rpm (4.14 and later: EL8, EL9, EL10, Fedora) blocks signals for the
//     whole of a transaction that writes (rpm commit c5f82d3f, "Block
//     signals during RPMTXN_WRITE transactions": rpmtxnBegin calls
//     rpmsqBlock(SIG_BLOCK)); when the transaction ends, a pending SIGINT or
//     SIGTERM runs rpmsqTerm, which exits with 128+signal (rpmio/rpmsq.c at
//     rpm-4.16.1-release). The transaction is finished either way.
//   - dnf 4 turns SIGINT outside the transaction (resolving, downloading)
//     into KeyboardInterrupt and exits 1 ("Terminated.", dnf/cli/main.py);
//     SIGTERM there ends it at once, before it has changed anything.
//
// So zfsinstall passes the signal it received (SIGINT for Ctrl-C, SIGTERM
// from systemctl or kill) on to the running command once, then waits for
// it to exit by itself. Commands run in their own process group, so a
// Ctrl-C on the terminal reaches only zfsinstall and the command gets the
// signal exactly once, from zfsinstall; rpm scriptlets (a DKMS build) are
// not signalled at all. A second signal, or Real.KillAfter passing, kills
// the command's whole process group with SIGKILL.

// ErrInterrupted is wrapped by the error of a command stopped by an
// interrupt (zfsinstall got SIGINT or SIGTERM, or its context ended) and of
// one not started because of it: test with errors.Is(err, ErrInterrupted).
var ErrInterrupted = errors.New("interrupted")

// Interrupt is the cause (context.Cause) NotifyContext and WithInterrupt
// give their context: the signal zfsinstall received.
type Interrupt struct {
	Signal os.Signal
}

func (i *Interrupt) Error() string { return "interrupted by " + signalName(i.Signal) }

// Is makes errors.Is(cause, ErrInterrupted) true.
func (i *Interrupt) Is(target error) bool { return target == ErrInterrupted }

// signalName names a signal the way people write it: "SIGINT".
func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGKILL:
		return "SIGKILL"
	case nil:
		return "no signal"
	}
	return s.String()
}

type interruptKey struct{}

// interrupts counts the signals delivered to one context.
type interrupts struct {
	mu   sync.Mutex
	n    int
	kill chan struct{} // closed by the second signal
}

// WithInterrupt returns a copy of parent and a function delivering a signal
// to it as NotifyContext delivers the ones zfsinstall receives: the first
// cancels the context with an *Interrupt as its cause, so running commands
// get that signal and are waited for; the second kills them. cancel
// releases the context. It is for tests and for callers doing their own
// signal handling.
func WithInterrupt(parent context.Context) (ctx context.Context, interrupt func(os.Signal), cancel context.CancelFunc) {
	st := &interrupts{kill: make(chan struct{})}
	ctx, cancelCause := context.WithCancelCause(context.WithValue(parent, interruptKey{}, st))
	interrupt = func(sig os.Signal) {
		st.mu.Lock()
		defer st.mu.Unlock()
		st.n++
		switch st.n {
		case 1:
			cancelCause(&Interrupt{Signal: sig})
		case 2:
			close(st.kill)
		}
	}
	return ctx, interrupt, func() { cancelCause(context.Canceled) }
}

// NotifyContext is signal.NotifyContext for SIGINT and SIGTERM with
// Real.Run's two-step interrupt: the first signal cancels ctx, with an
// *Interrupt naming it as the cause, and is passed on once to the command
// running then, which is waited for; a second signal kills the command.
// stop restores the default signal handling and cancels ctx.
func NotifyContext(parent context.Context) (ctx context.Context, stop func()) {
	ctx, interrupt, cancel := WithInterrupt(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-ch:
				interrupt(s)
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			cancel()
		})
	}
}

// interruptSignal is the signal to pass on to a command when ctx ends: the
// one zfsinstall received, SIGTERM when the context ended otherwise (a
// deadline, a plain cancel).
func interruptSignal(ctx context.Context) os.Signal {
	var in *Interrupt
	if errors.As(context.Cause(ctx), &in) && in.Signal != nil {
		return in.Signal
	}
	return syscall.SIGTERM
}

// killRequested returns a channel closed by a second interrupt of ctx; nil
// (never ready) for a context without WithInterrupt.
func killRequested(ctx context.Context) <-chan struct{} {
	if st, ok := ctx.Value(interruptKey{}).(*interrupts); ok {
		return st.kill
	}
	return nil
}

// InterruptedError reports a command stopped by an interrupt, or not
// started because zfsinstall had already been interrupted. It wraps
// ErrInterrupted and the context's cause.
type InterruptedError struct {
	Cmd Cmd
	// NotStarted is set when the command never ran.
	NotStarted bool
	// Signal is what the command was sent first (nil if not started).
	Signal os.Signal
	// Killed is set when it then had to be killed (a second interrupt, or
	// it did not stop within Real.KillAfter); Why says which.
	Killed bool
	Why    string
	// ExitCode is the command's exit code, -1 if a signal ended it or it
	// did not start; ExitSignal is that signal.
	ExitCode       int
	ExitSignal     os.Signal
	Stdout, Stderr []byte
	// Cause is the context's cause (an *Interrupt, context.DeadlineExceeded).
	Cause error
}

func (e *InterruptedError) Error() string {
	switch {
	case e.NotStarted:
		return fmt.Sprintf("not running `%s`: %v", e.Cmd, e.Cause)
	case e.Killed:
		return fmt.Sprintf("`%s` was killed (%s) after it was sent %s: it may have stopped in the middle of a transaction", e.Cmd, e.Why, signalName(e.Signal))
	}
	how := fmt.Sprintf("stopped with exit code %d", e.ExitCode)
	if e.ExitSignal != nil {
		how = "was ended by " + signalName(e.ExitSignal)
	}
	msg := fmt.Sprintf("`%s` %s after zfsinstall passed on %s", e.Cmd, how, signalName(e.Signal))
	if tail := Tail(e.Stderr, 5); tail != "" {
		msg += ":\n" + indent(tail)
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrInterrupted) true, and errors.Is on the
// cause (context.DeadlineExceeded for a timeout).
func (e *InterruptedError) Unwrap() []error {
	if e.Cause == nil {
		return []error{ErrInterrupted}
	}
	return []error{ErrInterrupted, e.Cause}
}
