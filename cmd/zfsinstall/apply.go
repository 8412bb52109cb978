package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zfsinstall/zfsinstall/apply"
	"github.com/zfsinstall/zfsinstall/cmd/zfsinstall/internal/arguments"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/repos"
	"github.com/zfsinstall/zfsinstall/spec"
	"github.com/zfsinstall/zfsinstall/views"
)

func cmdApply(ctx context.Context, e *env, args []string) int {
	a, err := arguments.ParseApply(args)
	if err != nil {
		return e.argsError(err, exitError)
	}
	e.setupLog(a.Logging)
	view := views.NewApply(a.JSON, e.streams())
	failed := func(err error) int {
		view.Outcome(views.ApplyOutcome{Err: err})
		return exitError
	}
	key, err := readKey(a.ReleaseKey)
	if err != nil {
		return failed(err)
	}
	if err := checkPrivileges(a.Root); err != nil {
		return failed(err)
	}
	req := planRequest{root: a.Root, kernel: a.Kernel, refresh: a.Refresh, key: key, dnfArgs: e.dnfArgs(a.DNFArgs)}
	h := e.newHost(a.Root, e.log)
	var s *spec.Spec
	var files map[string]*hcl.File
	var f *facts.Facts
	var p *planner.Plan
	approved := a.AutoApprove
	if a.PlanFile != "" {
		if s, f, p, err = e.replan(ctx, h, a.PlanFile, req); err != nil {
			return failed(err)
		}
		approved = true // the saved plan was reviewed: that was the approval
	} else {
		if s, files, err = e.loadSpec(a.Spec); err != nil {
			return failed(fmt.Errorf("%w; nothing was changed", err))
		}
		if f, p, err = e.planHost(ctx, h, s, req); err != nil {
			return failed(err)
		}
	}
	view.Plan(p, f, files)
	if p.HasErrors() {
		view.Outcome(views.ApplyOutcome{Plan: p})
		return exitError
	}
	res := &apply.Result{}
	if len(p.Steps) > 0 {
		if !approved && !view.Approve(e.stdin) {
			return exitError
		}
		opts := apply.Options{DNFArgs: req.dnfArgs, Log: e.log, Hooks: view, InsecureReleaseURL: s.ZFS.InsecureReleaseURL}
		if key != nil {
			opts.TrustedKeys = []repos.Key{*key}
		}
		if res, err = apply.Apply(ctx, h, f, p, opts); err != nil {
			view.Outcome(views.ApplyOutcome{Plan: p, Result: res, Err: err, RebootReasons: rebootReasons(f, p, res)})
			return exitError
		}
	}
	out := views.ApplyOutcome{Plan: p, Result: res, RebootReasons: rebootReasons(f, p, res)}
	if p.KernelHold {
		// What the hold holds depends on what the repositories offer
		// now, so it is re-evaluated after every apply, converged or not.
		if out.Hold, err = e.hold(ctx, h, req.dnfArgs, req.refresh); err != nil {
			out.Err = fmt.Errorf("the steps are done, but the kernel hold could not be re-evaluated: %w", err)
		}
	}
	view.Outcome(out)
	if out.Err != nil {
		return exitError
	}
	return exitOK
}

// replan re-makes a saved plan and returns it only when it equals the
// saved one: the options apply was given must match those recorded (root,
// release key, dnf arguments), the recorded spec is parsed again, the
// host's facts gathered with the recorded options and checked against the
// saved facts digest, zfs-release verified and the plan made as plan made
// it. The steps in the file are never carried out; the plan returned is
// the one zfsinstall made now.
func (e *env) replan(ctx context.Context, h host.Host, path string, req planRequest) (*spec.Spec, *facts.Facts, *planner.Plan, error) {
	sp, err := readSavedPlan(path)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := sp.checkOptions(path, h.Root(), req); err != nil {
		return nil, nil, nil, err
	}
	s, diags := spec.Parse(sp.SpecFile, []byte(sp.Spec))
	if diags.HasErrors() {
		spec.WriteDiagnostics(e.stderr, nil, diags)
		return nil, nil, nil, fmt.Errorf("%s: %s (its recorded spec does not parse)", path, planEdited)
	}
	if err := sp.checkGather(path, s); err != nil {
		return nil, nil, nil, err
	}
	req.kernel, req.refresh = sp.Options.Kernel, sp.Options.Refresh
	f, p, err := e.planHost(ctx, h, s, req)
	if err != nil {
		return nil, nil, nil, err
	}
	if planner.Digest(f) != sp.Plan.FactsDigest {
		return nil, nil, nil, fmt.Errorf("saved plan is stale: the host changed since %s was made (packages, repos, kernels or files differ); run zfsinstall plan again", path)
	}
	if diffs := planDiff(sp.Plan, p, 8); len(diffs) > 0 {
		return nil, nil, nil, errors.New(path + ": " + planEdited + "; it differs at:\n  " + strings.Join(diffs, "\n  "))
	}
	return s, f, p, nil
}
