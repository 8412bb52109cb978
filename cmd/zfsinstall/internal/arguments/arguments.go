// Package arguments parses zfsinstall's command lines into one typed value
// per command, apart from what the commands do (Terraform's
// internal/command/arguments: ParsePlan(args) (*Plan, Diagnostics)). Each
// command offers only the options it uses; a positional argument a command
// does not take is an error. Parsing never touches the host and never reads
// the environment: the caller applies $ZFSINSTALL_DNF_ARGS and $NO_COLOR.
package arguments

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sirupsen/logrus"
)

// DefaultSpec is the spec file read when -f is not given.
const DefaultSpec = "zfsinstall.hcl"

// Help is returned by a Parse function when -h or --help was given; Text is
// the command's help, for standard output (exit 0).
type Help struct{ Text string }

func (h *Help) Error() string { return "help requested" }

// UsageError is a command line the command cannot take. Command names the
// command, for the "Run 'zfsinstall COMMAND -h'" hint.
type UsageError struct {
	Command string
	Msg     string
}

func (e *UsageError) Error() string { return e.Msg }

func usagef(cmd, format string, args ...any) error {
	return &UsageError{Command: cmd, Msg: fmt.Sprintf(format, args...)}
}

// Spec is the -f option of the commands that read a host spec.
type Spec struct {
	// File is the spec's path (DefaultSpec when -f is not given).
	File string
	// Set is true when -f was given (a missing default spec is reported
	// with the way to write one).
	Set bool
}

// Target is the managed system: --root and --kernel.
type Target struct {
	// Root is the root directory of the system to manage ("/": this one).
	Root string
	// Kernel overrides the spec's kernel.target ("" = the spec decides).
	Kernel string
}

// Output is how a command prints: --json, -no-color.
type Output struct {
	JSON bool
	// NoColor is -no-color (or $NO_COLOR, applied by the caller).
	// zfsinstall prints no color; the option is accepted so scripts
	// written for tools that do can pass it.
	NoColor bool
}

// Logging is --log-format and --log-level (logs go to standard error).
type Logging struct {
	Format string // "text" or "json"
	Level  string // a logrus level: debug, info, warning, error
}

// Validate is `zfsinstall validate`.
type Validate struct {
	Spec    Spec
	NoColor bool
}

// Facts is `zfsinstall facts`.
type Facts struct {
	Target
	Output
	Logging
	// Refresh also asks the enabled repositories what they offer.
	Refresh bool
	DNFArgs []string
}

// Plan is `zfsinstall plan`.
type Plan struct {
	Spec Spec
	Target
	Output
	Logging
	// FactsPaths are the --facts values: files saved with `zfsinstall
	// facts --json`, or directories of them (*.json). More than one file,
	// or any directory, plans a fleet.
	FactsPaths []string
	// Out saves the plan for `zfsinstall apply FILE`.
	Out              string
	DetailedExitCode bool
	// ReleaseKey is the path of an armored key that replaces the pinned
	// OpenZFS keys for zfs-release.
	ReleaseKey string
	Refresh    bool
	DNFArgs    []string
}

// Fleet reports whether the plan is for many hosts from saved facts: a
// directory, or more than one --facts.
func (p *Plan) Fleet(isDir func(string) bool) bool {
	if len(p.FactsPaths) > 1 {
		return true
	}
	return len(p.FactsPaths) == 1 && isDir(p.FactsPaths[0])
}

// Apply is `zfsinstall apply`.
type Apply struct {
	// Spec is -f; empty when PlanFile is given (a saved plan records its spec).
	Spec Spec
	// PlanFile is the saved plan to apply ("" = plan now from Spec).
	PlanFile string
	Target
	Output
	Logging
	AutoApprove bool
	ReleaseKey  string
	Refresh     bool
	DNFArgs     []string
}

// Verify is `zfsinstall verify`.
type Verify struct {
	Spec Spec
	Target
	Output
	Logging
	// Textfile is where to write the result for node_exporter's textfile
	// collector ("" = nowhere); it ends in .prom.
	Textfile string
}

// Guard is `zfsinstall guard`.
type Guard struct {
	Target
	Output
	Logging
	HoldDefault bool
	// HoldUntilBuilt keeps the previous kernel the default while DKMS
	// builds for the new one (the 39-zfsinstall-guard.install plugin).
	HoldUntilBuilt bool
}

// CheckUpdate is `zfsinstall check-update`: the pre-flight of a pending
// dnf upgrade.
type CheckUpdate struct {
	Root string
	Output
	Logging
	DetailedExitCode bool
	Refresh          bool
	DNFArgs          []string
}

// Hold is `zfsinstall hold`: re-evaluate the kernel hold.
type Hold struct {
	Root string
	Output
	Logging
	Refresh bool
	DNFArgs []string
}

// Recipes is `zfsinstall recipes [NAME]`.
type Recipes struct {
	// Name is the recipe to print ("" = list them).
	Name string
}

// Version is `zfsinstall version`.
type Version struct {
	JSON bool
}

// multi is a repeatable string option.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, " ") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// Commands lists the commands with a one-line description each, in the
// order `zfsinstall -h` shows them.
var Commands = []struct{ Name, Summary string }{
	{"validate", "check a host spec (-f SPEC) and nothing else"},
	{"facts", "show what zfsinstall detects on this host"},
	{"plan", "show what apply would change, and why (also for a fleet, from saved facts)"},
	{"apply", "carry out a plan, verifying each step"},
	{"verify", "check the installed ZFS: versions, module, autoload, services"},
	{"guard", "check whether ZFS would work on a kernel (--kernel RELEASE)"},
	{"check-update", "judge a pending dnf upgrade: would ZFS work on every kernel it brings?"},
	{"hold", "re-evaluate the kernel hold: keep dnf from installing kernels ZFS would not survive"},
	{"recipes", "list or print the embedded example specs"},
	{"version", "print the version of zfsinstall"},
}

// Usage is the top-level help.
func Usage() string {
	var b strings.Builder
	b.WriteString("Usage: zfsinstall <command> [options]\n\nCommands:\n")
	for _, c := range Commands {
		fmt.Fprintf(&b, "  %-12s %s\n", c.Name, c.Summary)
	}
	b.WriteString("\nRun 'zfsinstall <command> -h' for the options of a command; 'zfsinstall --version' prints the version.\n")
	return b.String()
}

// command describes one command's command line for help and errors.
type command struct {
	name     string
	synopsis string
	about    string
}

var about = map[string]command{
	"validate": {"validate", "validate [-f SPEC]",
		"Check the host spec alone; nothing on the host is read or changed."},
	"facts": {"facts", "facts [--root DIR] [--kernel RELEASE] [--refresh] [--json]",
		"Print what zfsinstall detects on the host: distribution, kernels, packages,\nrepositories, module versions, Secure Boot, chroot."},
	"plan": {"plan", "plan [-f SPEC] [--root DIR] [--kernel RELEASE] [--out FILE] [--json] [-detailed-exitcode]\n       zfsinstall plan [-f SPEC] --facts FILE|DIR [--facts FILE|DIR ...] [--json] [-detailed-exitcode]",
		"Print the steps apply would take, each with its reason. With --facts, plan from\nfacts saved with `zfsinstall facts --json` instead of reading this host; a\ndirectory of *.json files, or several --facts, plans a fleet and prints one\nsummary line per host (one JSON object per host with --json)."},
	"apply": {"apply", "apply [-f SPEC] [--root DIR] [--kernel RELEASE] [--auto-approve] [--json]\n       zfsinstall apply PLANFILE [--root DIR] [--release-key FILE] [--dnf-arg ARG] [--json]",
		"Carry out a plan: check, do and verify each step; stop at the first failure.\nWith PLANFILE (saved by plan --out), apply plans again from the spec and options\nrecorded in it and proceeds only when the result equals the saved plan; it then\napplies the plan it made itself. --release-key and --dnf-arg must be given again,\nas they were to plan."},
	"verify": {"verify", "verify [-f SPEC] [--root DIR] [--kernel RELEASE] [--json] [--textfile FILE.prom]",
		"Check the installed ZFS: userland, module on disk and loaded of the same\nversion, autoload file, services. Exit 0 healthy, 1 unhealthy, 3 could not check."},
	"guard": {"guard", "guard --kernel RELEASE [--hold-default | --hold-until-built] [--root DIR] [--json]",
		"Say whether ZFS would work after booting kernel RELEASE. Exit 0 yes, 1 no,\n3 could not check (or could not hold the default back)."},
	"check-update": {"check-update", "check-update [--root DIR] [--refresh] [--dnf-arg ARG] [--json] [-detailed-exitcode]",
		"Judge the pending `dnf upgrade` before it runs, changing nothing: which kernel and\nOpenZFS packages dnf would install, upgrade or remove, and for every kernel the\nhost could boot afterwards whether ZFS works there (kABI symbols from the\nrepository metadata, DKMS build and kernel-devel, installonly_limit, an OpenZFS\nupgrade in the same update). Exit 0 safe, 1 not safe, 3 could not check; 2 when\nsafe and kernel or OpenZFS packages are pending (with -detailed-exitcode)."},
	"hold": {"hold", "hold [--root DIR] [--refresh] [--dnf-arg ARG] [--json]",
		"Re-evaluate the kernel hold (kernel.hold): ask the repositories which kernels they\noffer, keep exactly those ZFS would not survive in excludepkgs= of\n/etc/dnf/dnf.conf, and lift holds that no longer apply. Run hourly by\nzfsinstall-kernel-hold.timer and before dnf-automatic. Exit 0 done, 1 error."},
	"recipes": {"recipes", "recipes [NAME]",
		"List the example specs built into zfsinstall, or print the one named NAME."},
	"version": {"version", "version [--json]",
		"Print the version of zfsinstall, the module version and the commit it was built from."},
}

// newFlagSet returns a silent flag set for cmd: parse errors and help are
// reported through the returned errors, never printed by package flag.
func newFlagSet(cmd string) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// helpText renders cmd's help: synopsis, description and its options in
// package flag's layout ("  -name PLACEHOLDER\n    \tusage").
func helpText(cmd string, fs *flag.FlagSet) string {
	c := about[cmd]
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: zfsinstall %s\n\n", c.synopsis)
	for _, l := range strings.Split(c.about, "\n") {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		b.WriteString("\nOptions:\n")
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	b.WriteString("\nEvery option takes one dash or two (-root, --root).\n")
	return b.String()
}

func (s *Spec) register(fs *flag.FlagSet) {
	fs.StringVar(&s.File, "f", DefaultSpec, "the host `SPEC` file")
}

func (t *Target) register(fs *flag.FlagSet) {
	fs.StringVar(&t.Root, "root", "/", "manage the system installed under `DIR` (an install root or a mounted image)")
	fs.StringVar(&t.Kernel, "kernel", "", "target kernel `RELEASE` (uname -r form), overriding the spec's kernel.target")
}

func (o *Output) register(fs *flag.FlagSet, json string) {
	if json != "" {
		fs.BoolVar(&o.JSON, "json", false, json)
	}
	fs.BoolVar(&o.NoColor, "no-color", false, "print no color (zfsinstall prints none; also $NO_COLOR)")
}

func (l *Logging) register(fs *flag.FlagSet) {
	fs.StringVar(&l.Format, "log-format", "text", "log `FORMAT` on standard error: text or json")
	fs.StringVar(&l.Level, "log-level", "warning", "log `LEVEL`: debug (every command run, with its argv and duration), info, warning, error")
}

func (l *Logging) check(cmd string) error {
	if _, err := logrus.ParseLevel(l.Level); err != nil {
		return usagef(cmd, "--log-level %q: must be one of debug, info, warning, error", l.Level)
	}
	if l.Format != "text" && l.Format != "json" {
		return usagef(cmd, "--log-format %q: must be text or json", l.Format)
	}
	return nil
}

func registerDNF(fs *flag.FlagSet, args *[]string) {
	fs.Var((*multi)(args), "dnf-arg", "pass `ARG` to every dnf call (repeatable; else $ZFSINSTALL_DNF_ARGS, space-separated)")
}

func registerReleaseKey(fs *flag.FlagSet, key *string) {
	fs.StringVar(key, "release-key", "", "trust the armored public key in `FILE` for zfs-release instead of the pinned OpenZFS keys (private mirrors that re-sign; test beds)")
}

// parse parses args with fs, allowing options after positional arguments
// too (`apply plan.json --root /mnt`), and returns the positional ones.
// After "--" everything is positional.
func parse(cmd string, fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &Help{Text: helpText(cmd, fs)}
			}
			return nil, flagError(cmd, fs, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagError rewords package flag's errors in zfsinstall's voice and
// suggests the option meant.
func flagError(cmd string, fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		msg = fmt.Sprintf("%s has no option -%s", cmd, name)
		if others := commandsWith(name); len(others) > 0 {
			msg += fmt.Sprintf(" (%s)", hasIt(others))
		} else if near := nearest(fs, name); near != "" {
			msg += fmt.Sprintf("; did you mean -%s?", near)
		}
		return usagef(cmd, "%s", msg)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return usagef(cmd, "option -%s needs a value", name)
	}
	return usagef(cmd, "%s", msg)
}

// nearest is the option of fs within two edits of name, "" if none.
func nearest(fs *flag.FlagSet, name string) string {
	best, bestD := "", 3
	fs.VisitAll(func(f *flag.Flag) {
		if d := distance(name, f.Name); d < bestD {
			best, bestD = f.Name, d
		}
	})
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// hasIt says which commands have an option: "plan has it", "facts and
// plan have it", "apply, facts and plan have it".
func hasIt(cmds []string) string {
	if len(cmds) == 1 {
		return cmds[0] + " has it"
	}
	return strings.Join(cmds[:len(cmds)-1], ", ") + " and " + cmds[len(cmds)-1] + " have it"
}

// commandsWith lists the commands that have option name.
func commandsWith(name string) []string {
	var out []string
	for _, c := range Commands {
		if fs := flagSetOf(c.Name); fs != nil && fs.Lookup(name) != nil {
			out = append(out, c.Name)
		}
	}
	sort.Strings(out)
	return out
}

// flagSetOf builds the flag set of a command (for commandsWith).
func flagSetOf(cmd string) *flag.FlagSet {
	switch cmd {
	case "validate":
		return validateFlags(&Validate{})
	case "facts":
		return factsFlags(&Facts{})
	case "plan":
		return planFlags(&Plan{})
	case "apply":
		return applyFlags(&Apply{})
	case "verify":
		return verifyFlags(&Verify{})
	case "guard":
		return guardFlags(&Guard{})
	case "version":
		return versionFlags(&Version{})
	}
	return nil
}

// noPositional refuses positional arguments, suggesting the option a
// stray word was probably meant for.
func noPositional(cmd string, pos []string, suggest func(string) string) error {
	if len(pos) == 0 {
		return nil
	}
	msg := fmt.Sprintf("%s takes no positional argument (got %q)", cmd, pos[0])
	if s := suggest(pos[0]); s != "" {
		msg = fmt.Sprintf("%s takes no positional argument; did you mean %s?", cmd, s)
	}
	return usagef(cmd, "%s", msg)
}

// specOrFacts suggests -f for a spec file and --facts for a facts file.
func specOrFacts(arg string) string {
	switch filepath.Ext(arg) {
	case ".hcl":
		return "-f " + arg
	case ".json":
		return "--facts " + arg
	}
	return ""
}

func specOnly(arg string) string {
	if filepath.Ext(arg) == ".hcl" {
		return "-f " + arg
	}
	return ""
}

func validateFlags(a *Validate) *flag.FlagSet {
	fs := newFlagSet("validate")
	a.Spec.register(fs)
	fs.BoolVar(&a.NoColor, "no-color", false, "print no color (zfsinstall prints none; also $NO_COLOR)")
	return fs
}

// ParseValidate parses `zfsinstall validate` arguments.
func ParseValidate(args []string) (*Validate, error) {
	a := &Validate{}
	fs := validateFlags(a)
	pos, err := parse("validate", fs, args)
	if err != nil {
		return nil, err
	}
	a.Spec.Set = isSet(fs, "f")
	return a, noPositional("validate", pos, specOnly)
}

func factsFlags(a *Facts) *flag.FlagSet {
	fs := newFlagSet("facts")
	a.Target.register(fs)
	fs.BoolVar(&a.Refresh, "refresh", false, "also ask the enabled repositories what they offer (dnf repoquery)")
	registerDNF(fs, &a.DNFArgs)
	a.Output.register(fs, "print the facts as JSON (what plan --facts reads)")
	a.Logging.register(fs)
	return fs
}

// ParseFacts parses `zfsinstall facts` arguments.
func ParseFacts(args []string) (*Facts, error) {
	a := &Facts{}
	fs := factsFlags(a)
	pos, err := parse("facts", fs, args)
	if err != nil {
		return nil, err
	}
	if err := noPositional("facts", pos, func(string) string { return "" }); err != nil {
		return nil, err
	}
	return a, a.Logging.check("facts")
}

func planFlags(a *Plan) *flag.FlagSet {
	fs := newFlagSet("plan")
	a.Spec.register(fs)
	a.Target.register(fs)
	fs.Var((*multi)(&a.FactsPaths), "facts", "plan from the facts in `FILE|DIR` (saved with zfsinstall facts --json) instead of reading the host; a directory of *.json files, or several --facts, plans a fleet")
	fs.StringVar(&a.Out, "out", "", "save the plan to `FILE` for zfsinstall apply FILE")
	fs.BoolVar(&a.DetailedExitCode, "detailed-exitcode", false, "exit 0 when there are no changes, 1 on error, 2 when there are changes (for a fleet: 1 if any host has errors, else 2 if any has changes)")
	registerReleaseKey(fs, &a.ReleaseKey)
	fs.BoolVar(&a.Refresh, "refresh", false, "ask the enabled repositories what they offer while planning")
	registerDNF(fs, &a.DNFArgs)
	a.Output.register(fs, "print the plan as JSON (a fleet: one JSON object per host and line)")
	a.Logging.register(fs)
	return fs
}

// ParsePlan parses `zfsinstall plan` arguments.
func ParsePlan(args []string) (*Plan, error) {
	a := &Plan{}
	fs := planFlags(a)
	pos, err := parse("plan", fs, args)
	if err != nil {
		return nil, err
	}
	a.Spec.Set = isSet(fs, "f")
	if err := noPositional("plan", pos, specOrFacts); err != nil {
		return nil, err
	}
	if len(a.FactsPaths) > 0 {
		switch {
		case a.Out != "":
			return nil, usagef("plan", "--out with --facts: a plan made from saved facts cannot be applied; run zfsinstall plan --out on the host itself")
		case isSet(fs, "root"):
			return nil, usagef("plan", "--root with --facts: saved facts name their own root; plan from them, or plan the root itself without --facts")
		case a.Refresh:
			return nil, usagef("plan", "--refresh with --facts: planning from saved facts asks no repository; save them with zfsinstall facts --refresh --json instead")
		case len(a.DNFArgs) > 0:
			return nil, usagef("plan", "--dnf-arg with --facts: planning from saved facts runs no dnf")
		}
	}
	return a, a.Logging.check("plan")
}

func applyFlags(a *Apply) *flag.FlagSet {
	fs := newFlagSet("apply")
	a.Spec.register(fs)
	a.Target.register(fs)
	fs.BoolVar(&a.AutoApprove, "auto-approve", false, "do not ask for approval (a PLANFILE needs none: it was reviewed)")
	registerReleaseKey(fs, &a.ReleaseKey)
	fs.BoolVar(&a.Refresh, "refresh", false, "ask the enabled repositories what they offer while planning")
	registerDNF(fs, &a.DNFArgs)
	a.Output.register(fs, "print one JSON object at the end (steps done and skipped, versions installed, the failure) instead of progress")
	a.Logging.register(fs)
	return fs
}

// ParseApply parses `zfsinstall apply` arguments.
func ParseApply(args []string) (*Apply, error) {
	a := &Apply{}
	fs := applyFlags(a)
	pos, err := parse("apply", fs, args)
	if err != nil {
		return nil, err
	}
	a.Spec.Set = isSet(fs, "f")
	switch {
	case len(pos) > 1:
		return nil, usagef("apply", "apply takes at most one PLANFILE (got %q)", strings.Join(pos, " "))
	case len(pos) == 1 && filepath.Ext(pos[0]) == ".hcl":
		return nil, usagef("apply", "apply PLANFILE takes a plan saved by zfsinstall plan --out, and %s looks like a host spec; did you mean -f %s?", pos[0], pos[0])
	case len(pos) == 1:
		a.PlanFile = pos[0]
	}
	if a.PlanFile != "" {
		switch {
		case a.Spec.Set:
			return nil, usagef("apply", "apply takes -f SPEC or a PLANFILE, not both: a saved plan records the spec it was made from")
		case a.Kernel != "":
			return nil, usagef("apply", "--kernel with a PLANFILE: the saved plan records the kernel it was made for")
		case a.Refresh:
			return nil, usagef("apply", "--refresh with a PLANFILE: the saved plan records whether the repositories were asked")
		}
		a.Spec = Spec{}
	}
	if a.JSON && !a.AutoApprove && a.PlanFile == "" {
		return nil, usagef("apply", "apply --json cannot ask for approval: add --auto-approve, or apply a plan saved with zfsinstall plan --out")
	}
	return a, a.Logging.check("apply")
}

func verifyFlags(a *Verify) *flag.FlagSet {
	fs := newFlagSet("verify")
	a.Spec.register(fs)
	a.Target.register(fs)
	fs.StringVar(&a.Textfile, "textfile", "", "also write the result to `FILE.prom` for node_exporter's textfile collector (replaced atomically)")
	a.Output.register(fs, "print the report as JSON")
	a.Logging.register(fs)
	return fs
}

// ParseVerify parses `zfsinstall verify` arguments.
func ParseVerify(args []string) (*Verify, error) {
	a := &Verify{}
	fs := verifyFlags(a)
	pos, err := parse("verify", fs, args)
	if err != nil {
		return nil, err
	}
	a.Spec.Set = isSet(fs, "f")
	if err := noPositional("verify", pos, specOnly); err != nil {
		return nil, err
	}
	if a.Textfile != "" && (!strings.HasSuffix(a.Textfile, ".prom") || strings.HasPrefix(filepath.Base(a.Textfile), ".")) {
		// node_exporter's textfile collector reads only *.prom files
		// (collector/textfile.go: strings.HasSuffix(f.Name(), ".prom")).
		return nil, usagef("verify", "--textfile %s: node_exporter's textfile collector reads only files named *.prom; name it e.g. /var/lib/node_exporter/textfile_collector/zfsinstall.prom", a.Textfile)
	}
	return a, a.Logging.check("verify")
}

func guardFlags(a *Guard) *flag.FlagSet {
	fs := newFlagSet("guard")
	a.Target.register(fs)
	fs.BoolVar(&a.HoldDefault, "hold-default", false, "when ZFS would not work on RELEASE and it is the default boot entry, make the newest kernel ZFS works on the default again; when it works and --hold-until-built held it back, make it the default again (98-zfsinstall-guard.install)")
	fs.BoolVar(&a.HoldUntilBuilt, "hold-until-built", false, "on a DKMS host, keep the newest kernel ZFS works on the default boot entry while DKMS builds for RELEASE (39-zfsinstall-guard.install, before 40-dkms.install)")
	a.Output.register(fs, "print the report as JSON")
	a.Logging.register(fs)
	return fs
}

// ParseGuard parses `zfsinstall guard` arguments.
func ParseGuard(args []string) (*Guard, error) {
	a := &Guard{}
	fs := guardFlags(a)
	pos, err := parse("guard", fs, args)
	if err != nil {
		return nil, err
	}
	if err := noPositional("guard", pos, func(arg string) string {
		if strings.Count(arg, ".") >= 2 {
			return "--kernel " + arg
		}
		return ""
	}); err != nil {
		return nil, err
	}
	if a.Kernel == "" {
		return nil, usagef("guard", "guard needs --kernel RELEASE: the kernel about to be installed or booted (uname -r form)")
	}
	if a.HoldDefault && a.HoldUntilBuilt {
		return nil, usagef("guard", "--hold-default and --hold-until-built are the two plugins' halves: give one")
	}
	return a, a.Logging.check("guard")
}

func checkUpdateFlags(a *CheckUpdate) *flag.FlagSet {
	fs := newFlagSet("check-update")
	fs.StringVar(&a.Root, "root", "/", "judge the system installed under `DIR` (an install root or a mounted image)")
	fs.BoolVar(&a.Refresh, "refresh", false, "make dnf re-read the repository metadata first")
	fs.BoolVar(&a.DetailedExitCode, "detailed-exitcode", false, "exit 0 safe with nothing pending, 1 not safe, 2 safe with kernel or OpenZFS packages pending, 3 could not check")
	registerDNF(fs, &a.DNFArgs)
	a.Output.register(fs, "print the report as JSON")
	a.Logging.register(fs)
	return fs
}

// ParseCheckUpdate parses `zfsinstall check-update` arguments.
func ParseCheckUpdate(args []string) (*CheckUpdate, error) {
	a := &CheckUpdate{}
	pos, err := parse("check-update", checkUpdateFlags(a), args)
	if err != nil {
		return nil, err
	}
	if err := noPositional("check-update", pos, func(string) string { return "" }); err != nil {
		return nil, err
	}
	return a, a.Logging.check("check-update")
}

func holdFlags(a *Hold) *flag.FlagSet {
	fs := newFlagSet("hold")
	fs.StringVar(&a.Root, "root", "/", "hold kernels for the system installed under `DIR`")
	fs.BoolVar(&a.Refresh, "refresh", false, "make dnf re-read the repository metadata first (the timer's unit passes it)")
	registerDNF(fs, &a.DNFArgs)
	a.Output.register(fs, "print the result as JSON")
	a.Logging.register(fs)
	return fs
}

// ParseHold parses `zfsinstall hold` arguments.
func ParseHold(args []string) (*Hold, error) {
	a := &Hold{}
	pos, err := parse("hold", holdFlags(a), args)
	if err != nil {
		return nil, err
	}
	if err := noPositional("hold", pos, func(string) string { return "" }); err != nil {
		return nil, err
	}
	return a, a.Logging.check("hold")
}

// ParseRecipes parses `zfsinstall recipes` arguments.
func ParseRecipes(args []string) (*Recipes, error) {
	fs := newFlagSet("recipes")
	pos, err := parse("recipes", fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 1 {
		return nil, usagef("recipes", "recipes takes at most one NAME (got %q)", strings.Join(pos, " "))
	}
	a := &Recipes{}
	if len(pos) == 1 {
		a.Name = pos[0]
	}
	return a, nil
}

func versionFlags(a *Version) *flag.FlagSet {
	fs := newFlagSet("version")
	fs.BoolVar(&a.JSON, "json", false, "print the version as JSON")
	return fs
}

// ParseVersion parses `zfsinstall version` arguments.
func ParseVersion(args []string) (*Version, error) {
	a := &Version{}
	pos, err := parse("version", versionFlags(a), args)
	if err != nil {
		return nil, err
	}
	return a, noPositional("version", pos, func(string) string { return "" })
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
