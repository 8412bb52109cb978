// Package apply carries out a plan on a host: for each step it checks
// whether the host already satisfies it (and skips it), does it, and
// verifies it. It stops at the first failure, naming the step; because every
// step re-checks the host, a re-run continues from where the host is.
//
// Each step kind has one file holding its check and its action (repo.go,
// file.go, service.go, ...); release and package steps are batched into
// dnf transactions (transaction.go). Progress is reported through Hooks,
// never printed here.
package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/pkgmgr"
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
	// Hooks receive progress for people (a view); nil: none.
	Hooks Hooks
	// FetchTimeout bounds the zfs-release download.
	FetchTimeout time.Duration
}

// Hooks are told about each step as apply goes (Terraform's hooks): the
// view that implements them decides how progress is shown.
type Hooks interface {
	// Skipped: the host already satisfied the step.
	Skipped(st planner.Step)
	// Started: the step is being carried out.
	Started(st planner.Step)
	// Done: the step was carried out and verified.
	Done(st planner.Step, took time.Duration)
}

type noHooks struct{}

func (noHooks) Skipped(planner.Step)             {}
func (noHooks) Started(planner.Step)             {}
func (noHooks) Done(planner.Step, time.Duration) {}

// Result reports what an apply did.
type Result struct {
	Done    []string // step IDs carried out
	Skipped []string // step IDs the host already satisfied
	// Transactions counts the dnf transactions run.
	Transactions int
	// Installed are the packages of the zfs release apply resolved and
	// installed ("zfs-2.2.8-1.el9.x86_64"), for people and JSON output.
	Installed []string
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
	ctx   context.Context
	h     host.Host
	c     *pkgmgr.Client
	f     *facts.Facts
	p     *planner.Plan
	opts  Options
	res   *Result
	log   logrus.FieldLogger
	hooks Hooks
	b     backends.Backend
	done  map[string]bool // command steps that ran
	zfs   string          // the installed zfs version, once read; a transaction reads it again
}

// kind is how apply checks and carries out one kind of step.
type kind interface {
	// satisfied checks the host itself, never the facts the plan was made from.
	satisfied(a *applier, st planner.Step) (bool, error)
	do(a *applier, st planner.Step) error
}

// kinds maps each step kind run on its own to its handler; release and
// package steps go through transaction instead.
var kinds = map[planner.Kind]kind{
	planner.KindKey:        keyKind{},
	planner.KindRepo:       repoKind{},
	planner.KindHold:       holdKind{},
	planner.KindOption:     optionKind{},
	planner.KindDKMS:       dkmsKind{},
	planner.KindFile:       fileKind{},
	planner.KindService:    serviceKind{},
	planner.KindModule:     moduleKind{},
	planner.KindCommand:    commandKind{},
	planner.KindKernelHold: kernelHoldKind{},
}

// Apply carries out p on h. f are the facts the plan was checked against.
func Apply(ctx context.Context, h host.Host, f *facts.Facts, p *planner.Plan, opts Options) (*Result, error) {
	if p.HasErrors() {
		return nil, fmt.Errorf("the plan has errors: fix them and plan again")
	}
	if err := pkgmgr.CheckDNFArgs(opts.DNFArgs); err != nil {
		return nil, err
	}
	if opts.Log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		opts.Log = l
	}
	if opts.Hooks == nil {
		opts.Hooks = noHooks{}
	}
	if opts.FetchTimeout == 0 {
		opts.FetchTimeout = 60 * time.Second
	}
	release, err := h.Lock(LockPath)
	if err != nil {
		return nil, err
	}
	defer release()
	a := &applier{ctx: ctx, h: h, c: pkgmgr.New(h, opts.DNFArgs), f: f, p: p, opts: opts, res: &Result{},
		log: opts.Log, hooks: opts.Hooks, b: backends.For(p.Packaging), done: map[string]bool{}}
	// Transactions after the first are prepared (resolved and checked
	// against the repositories, dnf asked without running it) as soon as
	// the first one is done, before any repo file changes: a refusal that
	// can be known then comes before the host changes. The first
	// transaction installs zfs-release, without which the OpenZFS
	// repositories cannot be asked.
	started := map[int]bool{}
	ready := map[int]*prepared{}
	first, preparedRest := 0, false
	for i := 0; i < len(p.Steps); i++ {
		st := p.Steps[i]
		if err := ctx.Err(); err != nil {
			return a.res, interrupted(st, false)
		}
		if first == 0 && st.Txn != 0 {
			first = st.Txn
		}
		if !preparedRest && st.Txn != first {
			preparedRest = true
			for _, later := range p.Steps {
				if later.Txn != 0 && later.Txn != first && ready[later.Txn] == nil {
					pr, err := a.prepare(txnSteps(p, later.Txn))
					if err != nil {
						return a.res, stopped(err)
					}
					ready[later.Txn] = pr
				}
			}
		}
		if st.Txn != 0 {
			if started[st.Txn] {
				continue
			}
			started[st.Txn] = true
			if err := a.transaction(txnSteps(p, st.Txn), ready[st.Txn]); err != nil {
				return a.res, stopped(err)
			}
			continue
		}
		if st.Kind == planner.KindService {
			j := i + 1
			for j < len(p.Steps) && p.Steps[j].Kind == planner.KindService && p.Steps[j].Txn == 0 {
				j++
			}
			if err := a.services(p.Steps[i:j]); err != nil {
				return a.res, stopped(err)
			}
			i = j - 1
			continue
		}
		if err := a.step(st); err != nil {
			return a.res, stopped(err)
		}
	}
	if err := a.verifyModules(); err != nil {
		return a.res, err
	}
	return a.res, nil
}

// stopped turns a step failure caused by an interrupt (Ctrl-C, SIGTERM)
// into the message that says where apply stopped.
func stopped(err error) error {
	var se *StepError
	if errors.As(err, &se) && errors.Is(err, host.ErrInterrupted) {
		return interrupted(se.Step, true)
	}
	return err
}

// interrupted says where an interrupted apply stopped and that a re-run
// continues from there.
func interrupted(st planner.Step, during bool) error {
	where := "before step " + st.ID + ": nothing of it was done"
	if during {
		where = "during step " + st.ID + " (" + st.Summary + "): the command it ran was asked to stop and allowed to finish cleanly (rpm blocks signals during its transaction, so packages are whole)"
	}
	return fmt.Errorf("%w: apply stopped %s. Steps finished before it stay done; run zfsinstall apply again: every step re-checks the host, so it continues from where the host is", host.ErrInterrupted, where)
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

// step runs one step that is not part of a transaction: check, do, verify.
func (a *applier) step(st planner.Step) error {
	k, ok := kinds[st.Kind]
	if !ok {
		return &StepError{st, fmt.Errorf("unknown step kind %q", st.Kind)}
	}
	if done, err := a.check(k, st); done || err != nil {
		return err
	}
	a.hooks.Started(st)
	start := time.Now()
	if err := k.do(a, st); err != nil {
		a.log.WithFields(logrus.Fields{"step": st.ID}).WithError(err).Error("step failed")
		return &StepError{st, err}
	}
	if err := a.verified(k, st); err != nil {
		return err
	}
	a.finished(st, time.Since(start).Round(time.Millisecond))
	return nil
}

// check asks the host whether it already satisfies st, and skips the step
// when it does.
func (a *applier) check(k kind, st planner.Step) (done bool, err error) {
	ok, err := k.satisfied(a, st)
	if err != nil {
		return false, &StepError{st, fmt.Errorf("checking: %w", err)}
	}
	if ok {
		a.log.WithFields(logrus.Fields{"step": st.ID, "action": string(st.Action)}).Info("already satisfied")
		a.skipped(st)
	}
	return ok, nil
}

// verified checks, after st was carried out, that the host shows it.
func (a *applier) verified(k kind, st planner.Step) error {
	ok, err := k.satisfied(a, st)
	if err == nil && !ok {
		err = fmt.Errorf("the change was made but the host still does not show it")
	}
	if err != nil {
		return &StepError{st, fmt.Errorf("verifying: %w", err)}
	}
	return nil
}

func (a *applier) skipped(st planner.Step) {
	a.hooks.Skipped(st)
	a.res.Skipped = append(a.res.Skipped, st.ID)
}

func (a *applier) finished(st planner.Step, took time.Duration) {
	a.log.WithFields(logrus.Fields{"step": st.ID, "duration": took}).Info("step done")
	a.hooks.Done(st, took)
	a.res.Done = append(a.res.Done, st.ID)
}

func (a *applier) run(argv ...string) (host.Result, error) {
	return a.h.Run(a.ctx, host.Cmd{Argv: argv})
}

// userland is the installed zfs version (2.2.7), "" when not installed.
// Only transactions change it, and each reads it back, so rpm is asked at
// most once more.
func (a *applier) userland() (string, error) {
	if a.zfs != "" {
		return a.zfs, nil
	}
	pkgs, err := a.c.Installed(a.ctx, "zfs")
	if err != nil || len(pkgs) == 0 {
		return "", err
	}
	a.zfs = pkgmgr.Newest(pkgs)["zfs"].Version
	return a.zfs, nil
}

// verifyModules proves, after everything else, that each target kernel has
// a module of the userland's version on disk.
func (a *applier) verifyModules() error {
	ver, err := a.userland()
	if err != nil || ver == "" {
		return err
	}
	for _, k := range a.p.Kernels() {
		if err := backends.VerifyModule(a.ctx, a.h, k, ver); err != nil {
			return fmt.Errorf("verifying the module after apply: %w", err)
		}
	}
	return nil
}
