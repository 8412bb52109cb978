// Command zfsinstall puts OpenZFS on Enterprise Linux hosts from an HCL host
// spec: facts -> plan -> apply -> verify, idempotently.
//
// Each command parses its arguments into a typed value (package
// arguments), does its work through the packages that plan and apply, and
// reports through a view (package views); this package only wires them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/zfsinstall/zfsinstall/cmd/zfsinstall/internal/arguments"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/views"
)

// Exit codes, as Terraform's -detailed-exitcode defines them, and the
// monitoring convention of verify and guard (0 healthy, 1 not, 3 could not
// tell: the Monitoring Plugins development guidelines' UNKNOWN, "Invalid
// command line arguments were supplied to the plugin or low-level failures
// ... that prevent it from performing the specified operation").
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2
	exitUnknown = 3
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// env carries the process streams and the seams tests replace, so commands
// run in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            *logrus.Logger
	getenv         func(string) string
	// newHost opens the system to manage at root: host.NewReal, or in
	// tests a fixture host.
	newHost func(root string, log logrus.FieldLogger) host.Host
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return newEnv(stdin, stdout, stderr).run(args)
}

func newEnv(stdin io.Reader, stdout, stderr io.Writer) *env {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, log: logrus.New(), getenv: os.Getenv,
		newHost: func(root string, log logrus.FieldLogger) host.Host { return host.NewReal(root, log) }}
	e.log.SetOutput(stderr)
	return e
}

// commands maps each command to what runs it.
var commands = map[string]func(context.Context, *env, []string) int{
	"validate": cmdValidate, "facts": cmdFacts, "plan": cmdPlan, "apply": cmdApply,
	"verify": cmdVerify, "guard": cmdGuard, "check-update": cmdCheckUpdate, "hold": cmdHold, "recipes": cmdRecipes, "version": cmdVersion,
}

func (e *env) run(args []string) int {
	if len(args) == 0 {
		fmt.Fprintf(e.stderr, "Error: no command given\n\n%s", arguments.Usage())
		return exitError
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(e.stdout, arguments.Usage())
		return exitOK
	case "help":
		if len(args) == 1 {
			fmt.Fprint(e.stdout, arguments.Usage())
			return exitOK
		}
		args = []string{args[1], "-h"}
	case "-version", "--version":
		args = append([]string{"version"}, args[1:]...)
	}
	fn, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "Error: unknown command %q\n\n%s", args[0], arguments.Usage())
		return exitError
	}
	// The first SIGINT/SIGTERM is passed on to the command running (rpm
	// finishes its transaction) and apply stops after it; a second kills it.
	ctx, stop := host.NotifyContext(context.Background())
	defer stop()
	return fn(ctx, e, args[1:])
}

// argsError reports what a Parse function returned: help goes to standard
// output (exit 0); a usage error to standard error with the way to the
// command's help (exit code).
func (e *env) argsError(err error, code int) int {
	var help *arguments.Help
	if errors.As(err, &help) {
		fmt.Fprint(e.stdout, help.Text)
		return exitOK
	}
	cmd := "<command>"
	var u *arguments.UsageError
	if errors.As(err, &u) {
		cmd = u.Command
	}
	fmt.Fprintf(e.stderr, "Error: %v\n\nRun 'zfsinstall %s -h' for its options.\n", err, cmd)
	return code
}

// setupLog applies --log-format and --log-level (already checked).
func (e *env) setupLog(l arguments.Logging) {
	lvl, _ := logrus.ParseLevel(l.Level)
	e.log.SetLevel(lvl)
	if l.Format == "json" {
		e.log.SetFormatter(&logrus.JSONFormatter{})
	} else {
		e.log.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	}
}

// dnfArgs are the --dnf-arg values, else $ZFSINSTALL_DNF_ARGS split at
// spaces.
func (e *env) dnfArgs(flags []string) []string {
	if len(flags) == 0 {
		if v := e.getenv("ZFSINSTALL_DNF_ARGS"); v != "" {
			return strings.Fields(v)
		}
	}
	return flags
}

func (e *env) streams() views.Streams { return views.Streams{Out: e.stdout, Err: e.stderr} }

// fail prints "Error: ..." on standard error and returns exitError.
func (e *env) fail(format string, args ...any) int {
	fmt.Fprintf(e.stderr, "Error: "+format+"\n", args...)
	return exitError
}
