// Command zfsinstall puts OpenZFS on Enterprise Linux hosts from an HCL host
// spec: facts -> plan -> apply -> verify, idempotently.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sirupsen/logrus"
)

// Exit codes, as Terraform's -detailed-exitcode defines them.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2
	// exitUnknown: the check could not be made (the monitoring convention
	// of verify and guard: 0 healthy, 1 not, 3 could not tell).
	exitUnknown = 3
)

const usage = `Usage: zfsinstall <command> [options]

Commands:
  validate   check a host spec (-f SPEC) and nothing else
  facts      show what zfsinstall detects on this host
  plan       show what apply would change, and why
  apply      carry out a plan, verifying each step
  verify     check the installed ZFS: versions, module, autoload, services
  guard      check whether ZFS would work on a kernel (--kernel RELEASE)
  recipes    list or print the embedded example specs

Run 'zfsinstall <command> -h' for the options of a command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// env carries the process streams so commands can be tested in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            *logrus.Logger
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return exitError
		}
		return exitOK
	}
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, log: logrus.New()}
	e.log.SetOutput(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmds := map[string]func(context.Context, *env, []string) int{
		"validate": cmdValidate, "facts": cmdFacts, "plan": cmdPlan, "apply": cmdApply,
		"verify": cmdVerify, "guard": cmdGuard, "recipes": cmdRecipes,
	}
	fn, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "zfsinstall: unknown command %q\n\n%s", args[0], usage)
		return exitError
	}
	return fn(ctx, e, args[1:])
}

// common are the options most commands share.
type common struct {
	root      string
	specFile  string
	specSet   bool
	kernel    string
	jsonOut   bool
	logFormat string
	logLevel  string
	dnfArgs   multi
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, " ") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func (c *common) register(fs *flag.FlagSet, withSpec bool) {
	fs.StringVar(&c.root, "root", "/", "root directory of the host to manage (an install root or a mounted image)")
	fs.StringVar(&c.kernel, "kernel", "", "target kernel release (uname -r form), overriding the spec's kernel.target")
	fs.BoolVar(&c.jsonOut, "json", false, "print JSON instead of text")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "warning", "log level: debug, info, warning, error")
	fs.Var(&c.dnfArgs, "dnf-arg", "extra argument for every dnf call (repeatable; also $ZFSINSTALL_DNF_ARGS, space-separated)")
	if withSpec {
		fs.StringVar(&c.specFile, "f", "zfsinstall.hcl", "host spec file")
	}
}

// parse parses flags, allowing them after positional arguments too
// (`apply plan.out --auto-approve`).
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (c *common) setup(e *env, fs *flag.FlagSet) error {
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "f" {
			c.specSet = true
		}
	})
	if v := os.Getenv("ZFSINSTALL_DNF_ARGS"); v != "" && len(c.dnfArgs) == 0 {
		c.dnfArgs = strings.Fields(v)
	}
	lvl, err := logrus.ParseLevel(c.logLevel)
	if err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	e.log.SetLevel(lvl)
	switch c.logFormat {
	case "text":
		e.log.SetFormatter(&logrus.TextFormatter{DisableTimestamp: false, FullTimestamp: true})
	case "json":
		e.log.SetFormatter(&logrus.JSONFormatter{})
	default:
		return errors.New(`--log-format must be "text" or "json"`)
	}
	return nil
}

func newFlagSet(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: zfsinstall %s\n\nOptions:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func fail(e *env, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "Error: "+format+"\n", args...)
	return exitError
}
