package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
)

// Real is the machine itself, rooted at Dir ("/" for the running system).
type Real struct {
	Dir string
	Log logrus.FieldLogger
	// KillAfter bounds the wait for an interrupted command (see Run);
	// DefaultKillAfter when zero.
	KillAfter time.Duration
}

// NewReal returns a Host for the machine rooted at dir.
func NewReal(dir string, log logrus.FieldLogger) *Real {
	if dir == "" {
		dir = "/"
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		dir = abs
	}
	if log == nil {
		l := logrus.New()
		l.SetOutput(os.Stderr)
		l.SetLevel(logrus.WarnLevel)
		log = l
	}
	return &Real{Dir: dir, Log: log}
}

// DefaultKillAfter is how long Run waits, after passing an interrupt on,
// for a command to exit by itself before killing it: long enough for a
// transaction that builds a DKMS module in a scriptlet to finish.
const DefaultKillAfter = 30 * time.Minute

// Run implements Host. Every command is logged the same way: started,
// finished or failed, with argv and duration, and stderr on failure.
//
// When ctx ends while the command runs (zfsinstall got SIGINT or SIGTERM,
// see NotifyContext), the command is sent the same signal once (SIGTERM
// for a deadline) and waited for; it is killed, with its process group,
// only by a second interrupt or when r.KillAfter (DefaultKillAfter if 0)
// has passed. A command stopped that way returns an *InterruptedError
// (errors.Is(err, ErrInterrupted)); one that exits 0 after the signal did
// its work and returns no error. Once ctx has ended Run starts nothing and
// returns an *InterruptedError with NotStarted set, so a caller stops
// before its next step.
func (r *Real) Run(ctx context.Context, c Cmd) (Result, error) {
	if len(c.Argv) == 0 {
		return Result{}, errors.New("running command: empty argv")
	}
	log := r.Log.WithField("cmd", c.String())
	if ctx.Err() != nil {
		log.Debug("command not started: interrupted")
		return Result{ExitCode: -1}, &InterruptedError{Cmd: c, NotStarted: true, ExitCode: -1, Cause: context.Cause(ctx)}
	}
	log.Debug("command started")
	start := time.Now()
	killAfter := r.KillAfter
	if killAfter <= 0 {
		killAfter = DefaultKillAfter
	}
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	cmd.Env = append(os.Environ(), c.Env...)
	// LC_ALL=C keeps rpm, dnf and dkms output parseable.
	cmd.Env = append(cmd.Env, "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	// Its own process group: a Ctrl-C on the terminal reaches zfsinstall
	// only, which passes it on once (below).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var sent os.Signal
	cmd.Cancel = func() error {
		sent = interruptSignal(ctx)
		log.WithField("signal", signalName(sent)).Warn("interrupted: passing the signal on to the running command and waiting for it to stop by itself (rpm finishes a transaction it has begun); interrupt again to kill it")
		return cmd.Process.Signal(sent)
	}
	// Backstop only: the watcher below kills the process group first; this
	// also closes the output pipes should a grandchild keep them open.
	cmd.WaitDelay = killAfter + 10*time.Second
	if err := cmd.Start(); err != nil {
		log.WithError(err).Debug("command could not start")
		return Result{ExitCode: -1}, fmt.Errorf("running `%s`: %w", c, err)
	}
	var killedWhy string
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		ctxDone, kill := ctx.Done(), killRequested(ctx)
		var timeout <-chan time.Time
		for {
			select {
			case <-done:
				return
			case <-ctxDone:
				ctxDone = nil
				t := time.NewTimer(killAfter)
				defer t.Stop()
				timeout = t.C
			case <-timeout:
				killedWhy = fmt.Sprintf("it did not stop within %s", killAfter)
			case <-kill:
				killedWhy = "a second interrupt"
			}
			if killedWhy != "" {
				log.WithField("reason", killedWhy).Warn("killing the command and its process group")
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	<-watched
	if err != nil && cmd.ProcessState != nil && cmd.ProcessState.Success() {
		// Exited 0 after the signal: Wait reports the cancelled context,
		// but the command did its work.
		err = nil
	}
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	dur := time.Since(start).Round(time.Millisecond)
	if err != nil && (sent != nil || killedWhy != "") {
		ie := &InterruptedError{Cmd: c, Signal: sent, Killed: killedWhy != "", Why: killedWhy, ExitCode: -1, Stdout: res.Stdout, Stderr: res.Stderr, Cause: context.Cause(ctx)}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			ie.ExitCode = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				ie.ExitSignal = ws.Signal()
			}
		}
		res.ExitCode = ie.ExitCode
		log.WithFields(logrus.Fields{"exit": res.ExitCode, "duration": dur, "killed": ie.Killed}).Warn("command interrupted")
		return res, ie
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			res.ExitCode = ee.ExitCode()
			log.WithFields(logrus.Fields{"exit": res.ExitCode, "duration": dur, "stderr": Tail(res.Stderr, 5)}).Debug("command failed")
			return res, &CmdError{Cmd: c, ExitCode: res.ExitCode, Stderr: res.Stderr, Stdout: res.Stdout}
		}
		res.ExitCode = -1
		log.WithError(err).Debug("command failed")
		return res, fmt.Errorf("running `%s`: %w", c, err)
	}
	log.WithField("duration", dur).Debug("command finished")
	return res, nil
}

// KernelRelease is the running kernel's release (uname -r), from uname(2).
func (r *Real) KernelRelease() (string, error) {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "", err
	}
	b := make([]byte, 0, len(u.Release))
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b), nil
}
