package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/sirupsen/logrus"
)

// Real is the machine itself, rooted at Dir ("/" for the running system).
type Real struct {
	Dir string
	Log logrus.FieldLogger
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

// Run implements Host. Every command is logged the same way: started,
// finished or failed, with argv and duration, and stderr on failure.
func (r *Real) Run(ctx context.Context, c Cmd) (Result, error) {
	if len(c.Argv) == 0 {
		return Result{}, errors.New("running command: empty argv")
	}
	log := r.Log.WithField("cmd", c.String())
	log.Debug("command started")
	start := time.Now()
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	cmd.Env = append(os.Environ(), c.Env...)
	// LC_ALL=C keeps rpm, dnf and dkms output parseable.
	cmd.Env = append(cmd.Env, "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	err := cmd.Run()
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	dur := time.Since(start).Round(time.Millisecond)
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			res.ExitCode = ee.ExitCode()
			log.WithFields(logrus.Fields{"exit": res.ExitCode, "duration": dur, "stderr": Tail(res.Stderr, 5)}).Debug("command failed")
			return res, &CmdError{Cmd: c, ExitCode: res.ExitCode, Stderr: res.Stderr, Stdout: res.Stdout}
		}
		res.ExitCode = -1
		log.WithError(err).Debug("command could not start")
		return res, fmt.Errorf("running `%s`: %w", c, err)
	}
	log.WithField("duration", dur).Debug("command finished")
	return res, nil
}
