// Package apply carries out a plan on a host: for each step it checks
// whether the host already satisfies it (and skips it), does it, and
// verifies it. It stops at the first failure, naming the step; because every
// step re-checks the host, a re-run continues from where the host is.
package apply

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/backends/dkms"
	"github.com/zfsinstall/zfsinstall/backends/kmod"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/repos"
)

// LockPath is the lock that keeps two applies off one host (or root).
const LockPath = "/run/zfsinstall.lock"

// Options steer an apply.
type Options struct {
	// DNFArgs are extra arguments for every dnf call.
	DNFArgs []string
	// TrustedKeys replace the pinned OpenZFS keys (--release-key); nil = pinned.
	TrustedKeys []repos.Key
	// InsecureReleaseURL allows an http:// release_rpm.
	InsecureReleaseURL bool
	// Log receives structured progress.
	Log logrus.FieldLogger
	// Out receives human progress lines (Terraform style); may be nil.
	Out io.Writer
	// FetchTimeout bounds the zfs-release download.
	FetchTimeout time.Duration
}

// Result reports what an apply did.
type Result struct {
	Done    []string // step IDs carried out
	Skipped []string // step IDs the host already satisfied
	// Transactions counts the dnf transactions run.
	Transactions int
}

// StepError is a failed step: which step, and the underlying cause (a
// *host.CmdError carries the command, exit code and stderr tail).
type StepError struct {
	Step planner.Step
	Err  error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("step %s (%s %s) failed: %v", e.Step.ID, e.Step.Action, e.Step.Summary, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

type applier struct {
	ctx  context.Context
	h    host.Host
	f    *facts.Facts
	p    *planner.Plan
	opts Options
	res  *Result
	log  logrus.FieldLogger
	b    backends.Backend
	done map[string]bool // command steps that ran
}

// Apply carries out p on h. f are the facts the plan was checked against.
func Apply(ctx context.Context, h host.Host, f *facts.Facts, p *planner.Plan, opts Options) (*Result, error) {
	if p.HasErrors() {
		return nil, fmt.Errorf("the plan has errors: fix them and plan again")
	}
	if opts.Log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		opts.Log = l
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.FetchTimeout == 0 {
		opts.FetchTimeout = 60 * time.Second
	}
	release, err := h.Lock(LockPath)
	if err != nil {
		return nil, err
	}
	defer release()
	a := &applier{ctx: ctx, h: h, f: f, p: p, opts: opts, res: &Result{}, log: opts.Log, done: map[string]bool{}}
	a.b = kmod.Backend{}
	if p.Packaging == "dkms" {
		a.b = dkms.Backend{}
	}
	done := map[int]bool{}
	for _, st := range p.Steps {
		if st.Txn != 0 {
			if done[st.Txn] {
				continue
			}
			done[st.Txn] = true
			if err := a.transaction(txnSteps(p, st.Txn)); err != nil {
				return a.res, err
			}
			continue
		}
		if err := a.step(st); err != nil {
			return a.res, err
		}
	}
	if err := a.verifyModules(); err != nil {
		return a.res, err
	}
	return a.res, nil
}

func txnSteps(p *planner.Plan, txn int) []planner.Step {
	var out []planner.Step
	for _, s := range p.Steps {
		if s.Txn == txn {
			out = append(out, s)
		}
	}
	return out
}

func (a *applier) progress(st planner.Step, format string, args ...any) {
	fmt.Fprintf(a.opts.Out, "%s: %s\n", st.ID, fmt.Sprintf(format, args...))
}

// step runs one non-package step: check, do, verify.
func (a *applier) step(st planner.Step) error {
	log := a.log.WithFields(logrus.Fields{"step": st.ID, "action": string(st.Action)})
	ok, err := a.satisfied(st)
	if err != nil {
		return &StepError{st, fmt.Errorf("checking: %w", err)}
	}
	if ok {
		log.Info("already satisfied")
		a.progress(st, "already in place, skipped")
		a.res.Skipped = append(a.res.Skipped, st.ID)
		return nil
	}
	a.progress(st, "%s...", st.Summary)
	start := time.Now()
	if err := a.do(st); err != nil {
		log.WithError(err).Error("step failed")
		return &StepError{st, err}
	}
	ok, err = a.satisfied(st)
	if err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("the change was made but the host still does not show it")
		}
		return &StepError{st, fmt.Errorf("verifying: %w", err)}
	}
	log.WithField("duration", time.Since(start).Round(time.Millisecond)).Info("step done")
	a.progress(st, "done [%s]", time.Since(start).Round(time.Millisecond))
	a.res.Done = append(a.res.Done, st.ID)
	return nil
}

// satisfied checks the host itself, never the facts the plan was made from.
func (a *applier) satisfied(st planner.Step) (bool, error) {
	switch st.Kind {
	case planner.KindRepo:
		s, err := a.section(st)
		return err == nil && s.Enabled == st.Enabled, err
	case planner.KindHold:
		s, err := a.section(st)
		return err == nil && s.Include == st.Content, err
	case planner.KindFile:
		data, err := a.h.ReadFile(st.Path)
		if st.Action == planner.Delete {
			return err != nil, nil
		}
		return err == nil && string(data) == st.Content, nil
	case planner.KindService:
		links, _ := a.h.Glob("/etc/systemd/system/*.wants/" + st.Unit)
		return (len(links) > 0) == st.Enabled, nil
	case planner.KindKey:
		return a.keyImported(st.Key)
	case planner.KindDKMS:
		ver, err := a.dkmsVersion(st)
		if err != nil {
			return false, err
		}
		return dkms.Status(a.ctx, a.h, ver, st.Kernel) == "installed", nil
	case planner.KindCommand:
		if len(st.CheckArgv) > 0 && !a.done[st.ID] {
			res, _ := a.run(facts.InRoot(a.h, st.CheckArgv...)...)
			return strings.Contains(string(res.Stdout)+string(res.Stderr), st.CheckOutput), nil
		}
		return a.done[st.ID], nil // no state to check: done once it ran
	case planner.KindModule:
		b, err := a.h.ReadFile("/sys/module/zfs/version")
		if err != nil {
			return false, nil
		}
		userland := a.userland()
		return userland == "" || backends.SameVersion(strings.TrimSpace(string(b)), userland), nil
	}
	return false, fmt.Errorf("unknown step kind %q", st.Kind)
}

func (a *applier) do(st planner.Step) error {
	switch st.Kind {
	case planner.KindRepo, planner.KindHold:
		rf, err := repos.Read(a.h, st.Path)
		if err != nil {
			return err
		}
		if st.Kind == planner.KindRepo {
			_, err = rf.SetEnabled(st.Section, st.Enabled)
		} else {
			_, err = rf.SetOption(st.Section, "includepkgs", st.Content)
		}
		if err != nil {
			return err
		}
		return repos.Write(a.h, st.Path, rf)
	case planner.KindFile:
		if st.Action == planner.Delete {
			return a.h.Remove(st.Path)
		}
		mode := fs.FileMode(0o644)
		if st.Mode != 0 {
			mode = fs.FileMode(st.Mode)
		}
		return a.h.WriteFile(st.Path, []byte(st.Content), mode)
	case planner.KindCommand:
		if _, err := a.run(facts.InRoot(a.h, st.Argv...)...); err != nil {
			return err
		}
		a.done[st.ID] = true
		return nil
	case planner.KindService:
		verb := "disable"
		if st.Enabled {
			verb = "enable"
		}
		argv := []string{"systemctl"}
		if a.h.Root() != "/" {
			argv = append(argv, "--root", a.h.Root())
		}
		_, err := a.run(append(argv, verb, st.Unit)...)
		return err
	case planner.KindKey:
		return a.importKey(st.Key)
	case planner.KindDKMS:
		ver, err := a.dkmsVersion(st)
		if err != nil {
			return err
		}
		if err := a.b.Build(a.ctx, a.h, ver, st.Kernel); err != nil {
			return fmt.Errorf("building zfs %s for %s: %w", ver, st.Kernel, err)
		}
		return backends.VerifyModule(a.ctx, a.h, st.Kernel, ver)
	case planner.KindModule:
		if st.Action == planner.Update {
			if _, err := a.run("modprobe", "-r", "zfs"); err != nil {
				return fmt.Errorf("unloading the old module (a pool may have been imported since plan): %w", err)
			}
		}
		_, err := a.run("modprobe", "zfs")
		return err
	}
	return fmt.Errorf("unknown step kind %q", st.Kind)
}

// section reads the repo section a repo or hold step is about, as it is on
// the host now.
func (a *applier) section(st planner.Step) (repos.Section, error) {
	rf, err := repos.Read(a.h, st.Path)
	if err != nil {
		return repos.Section{}, err
	}
	for _, s := range rf.Sections() {
		if s.ID == st.Section {
			return s, nil
		}
	}
	return repos.Section{}, fmt.Errorf("%s has no [%s] section; the installed zfs-release does not offer it", st.Path, st.Section)
}

func (a *applier) run(argv ...string) (host.Result, error) {
	return a.h.Run(a.ctx, host.Cmd{Argv: argv})
}

// userland is the installed zfs version as modinfo prints it (2.2.7-1).
func (a *applier) userland() string {
	pkgs, _ := a.query("zfs")
	if p, ok := pkgs["zfs"]; ok {
		return p.Version
	}
	return ""
}

func (a *applier) dkmsVersion(st planner.Step) (string, error) {
	if st.Version != "" {
		return st.Version, nil
	}
	pkgs, err := a.query("zfs-dkms")
	if err != nil {
		return "", err
	}
	p, ok := pkgs["zfs-dkms"]
	if !ok {
		return "", fmt.Errorf("zfs-dkms is not installed, so there is nothing for dkms to build")
	}
	return p.Version, nil
}

func (a *applier) targetKernels() []string {
	if len(a.p.TargetKernels) > 0 {
		return a.p.TargetKernels
	}
	return []string{a.p.TargetKernel}
}

// verifyModules proves, after everything else, that each target kernel has
// a module of the userland's version on disk.
func (a *applier) verifyModules() error {
	ver := a.userland()
	if ver == "" {
		return nil
	}
	for _, k := range a.targetKernels() {
		if err := backends.VerifyModule(a.ctx, a.h, k, ver); err != nil {
			return fmt.Errorf("verifying the module after apply: %w", err)
		}
	}
	return nil
}
