package main

import (
	"context"
	"fmt"

	"github.com/zfsinstall/zfsinstall/apply"
	"github.com/zfsinstall/zfsinstall/cmd/zfsinstall/internal/arguments"
	"github.com/zfsinstall/zfsinstall/gather"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/update"
	"github.com/zfsinstall/zfsinstall/views"
)

// cmdCheckUpdate judges the pending dnf upgrade and changes nothing. It
// exits 0 when the update is safe for ZFS, 1 when it is not, and 3 when it
// could not check; with -detailed-exitcode, 2 when it is safe and kernel
// or OpenZFS packages are pending (a timer can run `dnf upgrade` on 0 or 2
// and page someone on 1 or 3).
func cmdCheckUpdate(ctx context.Context, e *env, args []string) int {
	a, err := arguments.ParseCheckUpdate(args)
	if err != nil {
		return e.argsError(err, exitUnknown)
	}
	e.setupLog(a.Logging)
	view := views.NewUpdate(a.JSON, e.streams(), "check-update")
	dnfArgs := e.dnfArgs(a.DNFArgs)
	h := e.newHost(a.Root, e.log)
	f, err := gather.Gather(ctx, h, gather.Options{DNFArgs: dnfArgs})
	if err != nil {
		view.Unknown(fmt.Errorf("gathering facts: %w", err), exitUnknown)
		return exitUnknown
	}
	if !f.Distro.Supported() {
		view.Unknown(fmt.Errorf("this host runs %s, which zfsinstall does not support", f.Distro.Name), exitUnknown)
		return exitUnknown
	}
	r, err := update.Check(ctx, pkgmgr.New(h, dnfArgs), f, pkgmgr.Query{Refresh: a.Refresh})
	if err != nil {
		view.Unknown(fmt.Errorf("checking the pending update: %w", err), exitUnknown)
		return exitUnknown
	}
	code := exitOK
	switch {
	case !r.Safe:
		code = exitError
	case a.DetailedExitCode && len(r.Changes) > 0:
		code = exitChanges
	}
	view.Report(r, code)
	return code
}

// cmdHold re-evaluates the kernel hold and writes it. It takes apply's
// lock (both edit dnf.conf) and exits 0 when done, 1 on any error; the
// hold written before stays in place on an error.
func cmdHold(ctx context.Context, e *env, args []string) int {
	a, err := arguments.ParseHold(args)
	if err != nil {
		return e.argsError(err, exitError)
	}
	e.setupLog(a.Logging)
	view := views.NewUpdate(a.JSON, e.streams(), "hold")
	if err := checkPrivileges(a.Root); err != nil {
		view.Unknown(err, exitError)
		return exitError
	}
	h := e.newHost(a.Root, e.log)
	res, err := e.hold(ctx, h, e.dnfArgs(a.DNFArgs), a.Refresh)
	if err != nil {
		view.Unknown(err, exitError)
		return exitError
	}
	view.Hold(res, exitOK)
	return exitOK
}

// hold re-evaluates the kernel hold of the host h under apply's lock, from
// facts gathered now.
func (e *env) hold(ctx context.Context, h host.Host, dnfArgs []string, refresh bool) (*update.HoldResult, error) {
	release, err := h.Lock(apply.LockPath)
	if err != nil {
		return nil, err
	}
	defer release()
	f, err := gather.Gather(ctx, h, gather.Options{DNFArgs: dnfArgs})
	if err != nil {
		return nil, fmt.Errorf("gathering facts: %w", err)
	}
	if !f.Distro.Supported() {
		return nil, fmt.Errorf("this host runs %s, which zfsinstall does not support", f.Distro.Name)
	}
	res, err := update.Hold(ctx, pkgmgr.New(h, dnfArgs), f, pkgmgr.Query{Refresh: refresh})
	if err != nil {
		return nil, fmt.Errorf("%w; the kernel hold as it was stays in place", err)
	}
	return res, nil
}
