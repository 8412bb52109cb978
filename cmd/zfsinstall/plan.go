package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/zfsinstall/zfsinstall/cmd/zfsinstall/internal/arguments"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/gather"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/repos"
	"github.com/zfsinstall/zfsinstall/spec"
	"github.com/zfsinstall/zfsinstall/views"
)

// planRequest is what a plan of a host read now is made from, apart from
// the spec: the command-line options.
type planRequest struct {
	root    string
	kernel  string
	refresh bool
	key     *repos.Key
	dnfArgs []string
}

// planHost gathers the facts of h, verifies zfs-release when the plan
// installs it, and plans s for it. plan, apply and apply PLANFILE all plan
// through here, so a saved plan is re-made exactly as it was made.
//
// With --refresh the repositories are asked after zfs-release is verified:
// on a host without it, through the zfs.repo inside the package.
func (e *env) planHost(ctx context.Context, h host.Host, s *spec.Spec, req planRequest) (*facts.Facts, *planner.Plan, error) {
	opts := gatherOptions(s, req.kernel, false, req.dnfArgs)
	f, err := gather.Gather(ctx, h, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("gathering facts: %w", err)
	}
	rc := &releaseChecker{e: e, s: s, key: req.key, online: true, h: h}
	check := rc.check(ctx, f)
	if req.refresh {
		var repo []byte
		if check != nil && check.Err == nil {
			repo = check.Info.Repo
		}
		if err := gather.QueryAvailable(ctx, h, f, opts, repo); err != nil {
			return nil, nil, fmt.Errorf("gathering facts: %w", err)
		}
	}
	p := planner.Make(s, f, planner.Options{Kernel: req.kernel, ReleaseKey: req.key, Binary: binaryIn(h), ReleaseCheck: check})
	return f, p, nil
}

// maxFactsSize bounds a facts file: a host with real-size kernels (24,618
// kABI symbols each) and three kernels saves about 3 MB of facts (issue
// 23); ten times that leaves room for more kernels, and a fleet planned in
// parallel reads one file per core.
const maxFactsSize = 32 << 20

// readFacts reads facts saved with zfsinstall facts --json: a regular file
// of at most maxFactsSize bytes (host.ReadRegular: a FIFO or device is
// refused without blocking).
func readFacts(path string) (*facts.Facts, error) {
	data, err := host.ReadRegular(path, maxFactsSize)
	if err != nil {
		return nil, fmt.Errorf("reading facts: %w", err)
	}
	f := &facts.Facts{}
	if err := json.Unmarshal(data, f); err != nil {
		return nil, fmt.Errorf("%s is not facts JSON from `zfsinstall facts --json`: %v", path, err)
	}
	return f, nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

func cmdPlan(ctx context.Context, e *env, args []string) int {
	a, err := arguments.ParsePlan(args)
	if err != nil {
		return e.argsError(err, exitError)
	}
	e.setupLog(a.Logging)
	key, err := readKey(a.ReleaseKey)
	if err != nil {
		return e.fail("%v", err)
	}
	s, files, err := e.loadSpec(a.Spec)
	if err != nil {
		return e.fail("%v", err)
	}
	if a.Fleet(isDir) {
		return e.planFleet(ctx, a, s, key)
	}
	req := planRequest{root: a.Root, kernel: a.Kernel, refresh: a.Refresh, key: key, dnfArgs: e.dnfArgs(a.DNFArgs)}
	var f *facts.Facts
	var p *planner.Plan
	if len(a.FactsPaths) == 1 {
		if f, err = readFacts(a.FactsPaths[0]); err != nil {
			return e.fail("%v", err)
		}
		rc := &releaseChecker{e: e, s: s, key: key}
		p = planner.Make(s, f, planner.Options{Kernel: a.Kernel, ReleaseKey: key, ReleaseCheck: rc.check(ctx, f)})
	} else if f, p, err = e.planHost(ctx, e.newHost(a.Root, e.log), s, req); err != nil {
		return e.fail("%v", err)
	}
	view := views.NewPlan(a.JSON, e.streams())
	view.Plan(p, f, files)
	if p.HasErrors() {
		return exitError
	}
	if a.Out != "" {
		if err := newSavedPlan(s, req, f, p).write(a.Out); err != nil {
			return e.fail("saving the plan: %v", err)
		}
		view.Saved(a.Out, applyCommand(a.Out, f.Root, a.ReleaseKey, req.dnfArgs))
	}
	if a.DetailedExitCode && len(p.Steps) > 0 {
		return exitChanges
	}
	return exitOK
}

// factsFiles expands --facts values: a file as it is, a directory to its
// *.json files.
func factsFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if !isDir(p) {
			out = append(out, p)
			continue
		}
		m, err := filepath.Glob(filepath.Join(p, "*.json"))
		if err != nil || len(m) == 0 {
			return nil, fmt.Errorf("--facts %s: the directory holds no *.json facts files (save each host's with zfsinstall facts --json > %s/HOST.json)", p, strings.TrimSuffix(p, "/"))
		}
		out = append(out, m...)
	}
	return out, nil
}

// planFleet plans every host whose facts a.FactsPaths name against s, in
// parallel, and shows one entry per host, sorted by name. A facts file
// that cannot be read is that host's error; the others are still planned.
// Exit 1 when any host has errors, else with -detailed-exitcode 2 when any
// has changes, else 0.
func (e *env) planFleet(ctx context.Context, a *arguments.Plan, s *spec.Spec, key *repos.Key) int {
	paths, err := factsFiles(a.FactsPaths)
	if err != nil {
		return e.fail("%v", err)
	}
	hosts := make([]views.FleetHost, len(paths))
	byName := map[string]string{}
	for i, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		if other, dup := byName[name]; dup {
			return e.fail("two facts files for host %s: %s and %s; a fleet names each host by its file name", name, other, p)
		}
		byName[name] = p
		hosts[i] = views.FleetHost{Name: name, File: p}
	}
	rc := &releaseChecker{e: e, s: s, key: key}
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f, err := readFacts(hosts[i].File)
				if err != nil {
					hosts[i].Err = err
					continue
				}
				hosts[i].Plan = planner.Make(s, f, planner.Options{Kernel: a.Kernel, ReleaseKey: key, ReleaseCheck: rc.check(ctx, f)})
			}
		}()
	}
	for i := range hosts {
		next <- i
	}
	close(next)
	wg.Wait()
	sort.Slice(hosts, func(i, j int) bool { return hosts[i].Name < hosts[j].Name })
	views.NewFleet(a.JSON, e.streams()).Fleet(hosts)
	code := exitOK
	for _, h := range hosts {
		switch {
		case h.Err != nil || h.Plan.HasErrors():
			return exitError
		case a.DetailedExitCode && len(h.Plan.Steps) > 0:
			code = exitChanges
		}
	}
	return code
}
