package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/zfsinstall/zfsinstall/apply"
	"github.com/zfsinstall/zfsinstall/cmd/zfsinstall/internal/arguments"
	"github.com/zfsinstall/zfsinstall/gather"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/verify"
	"github.com/zfsinstall/zfsinstall/views"
)

// cmdVerify exits 0 when the host is healthy, 1 when a check failed, and 3
// when it could not check (bad arguments, a missing or broken spec, facts
// that cannot be gathered, a --textfile that cannot be written).
func cmdVerify(ctx context.Context, e *env, args []string) int {
	a, err := arguments.ParseVerify(args)
	if err != nil {
		return e.argsError(err, exitUnknown)
	}
	e.setupLog(a.Logging)
	view := views.NewReport(a.JSON, e.streams(), "verify", "")
	textfile := func(r *verify.Report) error {
		if a.Textfile == "" {
			return nil
		}
		// node_exporter reads the directory its --collector.textfile.directory
		// names; a missing one is a mistake in the path, never created here.
		if fi, err := os.Stat(filepath.Dir(a.Textfile)); err != nil || !fi.IsDir() {
			return fmt.Errorf("writing --textfile %s: the directory %s does not exist (it must be node_exporter's --collector.textfile.directory)", a.Textfile, filepath.Dir(a.Textfile))
		}
		var b bytes.Buffer
		views.Textfile(&b, r, time.Now())
		if err := host.WriteAtomic(a.Textfile, b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("writing --textfile: %w", err)
		}
		return nil
	}
	unknown := func(err error) int {
		if terr := textfile(nil); terr != nil {
			err = errors.Join(err, terr)
		}
		view.Unknown(err, exitUnknown)
		return exitUnknown
	}
	s, _, err := e.loadSpec(a.Spec)
	if err != nil {
		return unknown(fmt.Errorf("%w; nothing was checked", err))
	}
	h := e.newHost(a.Root, e.log)
	// An apply changing the host now would make any check a snapshot of a
	// half-done change: say so, and check nothing (issue 20 item 5).
	if pid, err := h.LockHolder(apply.LockPath); err != nil || pid != 0 {
		if err == nil {
			err = fmt.Errorf("zfsinstall apply (PID %d) is changing this host: it holds %s. What verify would see now is a change half done, so nothing was checked; run verify again when the apply has finished", pid, filepath.Join(h.Root(), apply.LockPath))
		}
		return unknown(err)
	}
	f, err := gather.Gather(ctx, h, gatherOptions(s, a.Kernel, false, nil))
	if err != nil {
		return unknown(fmt.Errorf("gathering facts: %w", err))
	}
	r := verify.Verify(f, s)
	if c, ok := verify.Loadable(h, f); ok {
		r.Add(c)
	}
	code := exitOK
	if !r.OK {
		code = exitError
	}
	if err := textfile(&r); err != nil {
		code = exitUnknown
		view.Report(r, code)
		fmt.Fprintf(e.stderr, "Error: %v\n", err)
		return code
	}
	view.Report(r, code)
	return code
}

// cmdGuard exits 0 when ZFS would work after booting the kernel, 1 when it
// would not, and 3 when it could not tell (bad arguments, facts that
// cannot be gathered, a kernel that is not installed) or could not hold
// the default boot entry back.
func cmdGuard(ctx context.Context, e *env, args []string) int {
	a, err := arguments.ParseGuard(args)
	if err != nil {
		return e.argsError(err, exitUnknown)
	}
	e.setupLog(a.Logging)
	view := views.NewReport(a.JSON, e.streams(), "guard", a.Kernel)
	h := e.newHost(a.Root, e.log)
	f, err := gather.Gather(ctx, h, gatherOptions(nil, a.Kernel, false, nil))
	if err != nil {
		view.Unknown(fmt.Errorf("gathering facts: %w", err), exitUnknown)
		return exitUnknown
	}
	if a.HoldUntilBuilt {
		// 39-zfsinstall-guard.install: before dkms builds; nothing to judge yet.
		c := verify.HoldUntilBuilt(ctx, h, f, a.Kernel)
		r, code := verify.Report{OK: c.OK, Checks: []verify.Check{c}}, exitOK
		if !c.OK {
			code = exitUnknown
		}
		view.Report(r, code)
		return code
	}
	r := verify.Guard(ctx, h, f, a.Kernel)
	code := exitOK
	if r.OK && a.HoldDefault {
		if c, held := verify.RestoreDefault(ctx, h, a.Kernel); held {
			r.Add(c)
			if !c.OK {
				code = exitUnknown
			}
		}
	}
	if !r.OK {
		code = exitError
		if len(r.Checks) > 0 && r.Checks[0].ID == "kernel-installed" {
			code = exitUnknown
		}
		if a.HoldDefault {
			hc := verify.HoldDefault(ctx, h, f, a.Kernel)
			r.Checks = append(r.Checks, hc)
			if !hc.OK {
				code = exitUnknown
			}
		}
	}
	view.Report(r, code)
	return code
}
