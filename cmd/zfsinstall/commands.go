package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zfsinstall/zfsinstall/apply"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/gather"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/recipes"
	"github.com/zfsinstall/zfsinstall/repos"
	"github.com/zfsinstall/zfsinstall/spec"
	"github.com/zfsinstall/zfsinstall/verify"
	"github.com/zfsinstall/zfsinstall/views"
)

func cmdValidate(_ context.Context, e *env, args []string) int {
	var c common
	fs := newFlagSet(e, "validate", "validate [-f SPEC]")
	c.register(fs, true)
	if _, err := parse(fs, args); err != nil {
		return exitError
	}
	if err := c.setup(e, fs); err != nil {
		return fail(e, "%v", err)
	}
	if _, _, ok := loadSpec(e, &c, true); !ok {
		return exitError
	}
	fmt.Fprintf(e.stdout, "%s: the spec is valid.\n", c.specFile)
	return exitOK
}

// loadSpec reads the spec, printing diagnostics. A missing default spec file
// is an empty spec only when must is false (verify, facts).
func loadSpec(e *env, c *common, must bool) (*spec.Spec, map[string]*hcl.File, bool) {
	if _, err := os.Stat(c.specFile); errors.Is(err, fs.ErrNotExist) && !c.specSet && !must {
		s := spec.Default()
		return s, nil, true
	}
	s, files, diags := spec.ParseFile(c.specFile)
	if len(diags) > 0 {
		spec.WriteDiagnostics(e.stderr, files, diags)
	}
	if diags.HasErrors() {
		if _, err := os.Stat(c.specFile); errors.Is(err, fs.ErrNotExist) && !c.specSet {
			fmt.Fprintf(e.stderr, "Write a host spec at ./zfsinstall.hcl or pass -f SPEC; `zfsinstall recipes` prints examples to start from.\n")
		}
		return nil, files, false
	}
	return s, files, true
}

// gatherOptions maps the spec and flags to fact-gathering options.
func gatherOptions(c *common, s *spec.Spec) gather.Options {
	o := gather.Options{Kernel: c.kernel, DNFArgs: c.dnfArgs}
	if s != nil {
		o.Stream = s.ZFS.Repo
	}
	if o.Kernel == "" && s != nil {
		switch s.Kernel.Target {
		case "running", "all", "":
		case "default":
			o.DefaultKernel = true
		default:
			o.Kernel = s.Kernel.Target
		}
	}
	return o
}

func (c *common) host(e *env) host.Host {
	return host.NewReal(c.root, e.log)
}

func cmdFacts(ctx context.Context, e *env, args []string) int {
	var c common
	var refresh bool
	fs := newFlagSet(e, "facts", "facts [--root DIR] [--kernel RELEASE] [--json] [--refresh]")
	c.register(fs, false)
	fs.BoolVar(&refresh, "refresh", false, "also ask the enabled repositories what they offer (dnf repoquery)")
	if _, err := parse(fs, args); err != nil {
		return exitError
	}
	if err := c.setup(e, fs); err != nil {
		return fail(e, "%v", err)
	}
	o := gatherOptions(&c, nil)
	o.QueryRepos = refresh
	f, err := gather.Gather(ctx, c.host(e), o)
	if err != nil {
		return fail(e, "gathering facts: %v", err)
	}
	if c.jsonOut {
		views.JSON(e.stdout, f)
	} else {
		views.Facts(e.stdout, f)
	}
	return exitOK
}

// savedPlan is what plan --out writes and apply PLANFILE reads.
type savedPlan struct {
	FormatVersion string         `json:"format_version"`
	Root          string         `json:"root"`
	Gather        gather.Options `json:"gather"`
	SpecFile      string         `json:"spec_file"`
	Plan          *planner.Plan  `json:"plan"`
}

type planFlags struct {
	common
	out        string
	factsFile  string
	detailed   bool
	releaseKey string
	refresh    bool
	// key is --release-key, read once by setup.
	key *repos.Key
}

// setup does the common setup and reads --release-key.
func (p *planFlags) setup(e *env, fs *flag.FlagSet) error {
	if err := p.common.setup(e, fs); err != nil {
		return err
	}
	if p.releaseKey == "" {
		return nil
	}
	data, err := os.ReadFile(p.releaseKey)
	if err != nil {
		return fmt.Errorf("reading --release-key: %w", err)
	}
	k, err := repos.ParseKey(p.releaseKey, data)
	if err != nil {
		return err
	}
	p.key = &k
	return nil
}

func (p *planFlags) register(fs *flag.FlagSet) {
	p.common.register(fs, true)
	fs.StringVar(&p.out, "out", "", "save the plan to FILE for `zfsinstall apply FILE`")
	fs.StringVar(&p.factsFile, "facts", "", "plan from facts saved with `zfsinstall facts --json` instead of probing the host")
	fs.BoolVar(&p.detailed, "detailed-exitcode", false, "exit 0 when there are no changes, 1 on error, 2 when there are changes")
	fs.StringVar(&p.releaseKey, "release-key", "", "armored public key that replaces the pinned OpenZFS keys for zfs-release (private mirrors that re-sign; test beds)")
	fs.BoolVar(&p.refresh, "refresh", false, "ask the enabled repositories what they offer while planning")
}

// makePlan loads spec and facts and plans. It prints diagnostics of the
// spec itself; plan diagnostics are the caller's to render.
func makePlan(ctx context.Context, e *env, p *planFlags) (*spec.Spec, map[string]*hcl.File, *facts.Facts, *planner.Plan, bool) {
	s, files, ok := loadSpec(e, &p.common, true)
	if !ok {
		return nil, nil, nil, nil, false
	}
	var f *facts.Facts
	if p.factsFile != "" {
		data, err := os.ReadFile(p.factsFile)
		if err != nil {
			fail(e, "reading facts: %v", err)
			return nil, nil, nil, nil, false
		}
		f = &facts.Facts{}
		if err := json.Unmarshal(data, f); err != nil {
			fail(e, "%s is not facts JSON from `zfsinstall facts --json`: %v", p.factsFile, err)
			return nil, nil, nil, nil, false
		}
	} else {
		o := gatherOptions(&p.common, s)
		o.QueryRepos = p.refresh
		var err error
		if f, err = gather.Gather(ctx, p.host(e), o); err != nil {
			fail(e, "gathering facts: %v", err)
			return nil, nil, nil, nil, false
		}
	}
	opts := planner.Options{Kernel: p.kernel, ReleaseKey: p.key}
	if p.factsFile == "" {
		opts.Binary = binaryIn(p.host(e))
	}
	opts.ReleaseCheck = checkRelease(ctx, e, p.host(e), s, f, opts.ReleaseKey, p.factsFile == "")
	plan := planner.Make(s, f, opts)
	return s, files, f, plan, true
}

func cmdPlan(ctx context.Context, e *env, args []string) int {
	var p planFlags
	fs := newFlagSet(e, "plan", "plan [-f SPEC] [--root DIR] [--kernel RELEASE] [--facts FILE] [--out FILE] [--json] [-detailed-exitcode]")
	p.register(fs)
	if _, err := parse(fs, args); err != nil {
		return exitError
	}
	if err := p.setup(e, fs); err != nil {
		return fail(e, "%v", err)
	}
	_, files, f, plan, ok := makePlan(ctx, e, &p)
	if !ok {
		return exitError
	}
	if p.jsonOut {
		views.PlanJSON(e.stdout, plan)
	} else {
		views.Plan(e.stdout, plan, f, files)
	}
	if plan.HasErrors() {
		return exitError
	}
	if p.out != "" {
		sp := savedPlan{FormatVersion: planner.FormatVersion, Root: f.Root, Gather: gatherOptions(&p.common, nil), SpecFile: p.specFile, Plan: plan}
		if p.factsFile != "" {
			return fail(e, "--out with --facts: a plan made from saved facts cannot be applied here; plan on the host itself")
		}
		data, _ := json.MarshalIndent(sp, "", "  ")
		if err := host.WriteAtomic(p.out, append(data, '\n'), 0o600); err != nil {
			return fail(e, "saving the plan: %v", err)
		}
		if !p.jsonOut {
			fmt.Fprintf(e.stdout, "\nSaved the plan to %s. To carry out exactly these steps, run:\n  zfsinstall apply %s\n", p.out, p.out)
		}
	}
	if p.detailed && len(plan.Steps) > 0 {
		return exitChanges
	}
	return exitOK
}

func cmdApply(ctx context.Context, e *env, args []string) int {
	var p planFlags
	var autoApprove bool
	fs := newFlagSet(e, "apply", "apply [-f SPEC | PLANFILE] [--root DIR] [--auto-approve]")
	p.register(fs)
	fs.BoolVar(&autoApprove, "auto-approve", false, "skip the interactive approval")
	pos, err := parse(fs, args)
	if err != nil {
		return exitError
	}
	if err := p.setup(e, fs); err != nil {
		return fail(e, "%v", err)
	}
	if p.factsFile != "" {
		return fail(e, "apply cannot use --facts: it must read the host it changes")
	}
	if err := checkPrivileges(p.root); err != nil {
		return fail(e, "%v", err)
	}
	h := p.host(e)
	var plan *planner.Plan
	var f *facts.Facts
	var files map[string]*hcl.File
	var s *spec.Spec
	if len(pos) > 0 {
		// apply PLANFILE: exactly the saved steps, on the host they were planned for.
		data, err := os.ReadFile(pos[0])
		if err != nil {
			return fail(e, "reading saved plan: %v", err)
		}
		var sp savedPlan
		if err := json.Unmarshal(data, &sp); err != nil || sp.Plan == nil {
			return fail(e, "%s is not a plan saved by `zfsinstall plan --out`", pos[0])
		}
		if sp.Root != h.Root() {
			return fail(e, "saved plan is for root %s, not %s: pass --root %s", sp.Root, h.Root(), sp.Root)
		}
		sp.Gather.DNFArgs = p.dnfArgs
		if f, err = gather.Gather(ctx, h, sp.Gather); err != nil {
			return fail(e, "gathering facts: %v", err)
		}
		if planner.Digest(f) != sp.Plan.FactsDigest {
			return fail(e, "saved plan is stale: the host changed since %s was made (packages, repos, kernels or files differ). Run zfsinstall plan again.", pos[0])
		}
		plan = sp.Plan
		autoApprove = true // the saved plan was the approval
	} else {
		var ok bool
		if s, files, f, plan, ok = makePlan(ctx, e, &p); !ok {
			return exitError
		}
	}
	views.Plan(e.stdout, plan, f, files)
	if plan.HasErrors() {
		return exitError
	}
	if len(plan.Steps) == 0 {
		return exitOK
	}
	if !autoApprove {
		fmt.Fprint(e.stdout, "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
		line, _ := bufio.NewReader(e.stdin).ReadString('\n')
		if strings.TrimSpace(line) != "yes" {
			fmt.Fprintln(e.stdout, "\nApply cancelled.")
			return exitError
		}
	}
	fmt.Fprintln(e.stdout)
	opts := apply.Options{DNFArgs: p.dnfArgs, Log: e.log, Hooks: views.ApplyProgress(e.stdout)}
	if s != nil {
		opts.InsecureReleaseURL = s.ZFS.InsecureReleaseURL
	}
	if p.key != nil {
		opts.TrustedKeys = []repos.Key{*p.key}
	}
	res, err := apply.Apply(ctx, h, f, plan, opts)
	if err != nil {
		fmt.Fprintf(e.stderr, "\nError: %v\n\nSteps finished before the failure stay done and files are only ever replaced whole. Fix the cause and run zfsinstall apply again: every step re-checks the host first, so it continues from where the host is.\n", err)
		return exitError
	}
	add, change, remove := plan.Counts()
	fmt.Fprintf(e.stdout, "\nApply complete! Steps: %d added, %d changed, %d removed (%d already in place; %d dnf transactions).\n",
		add, change, remove, len(res.Skipped), res.Transactions)
	return exitOK
}

// checkPrivileges refuses to change the real system without root; a --root
// tree the user owns is fine (image builds, tests).
func checkPrivileges(root string) error {
	if os.Geteuid() == 0 {
		return nil
	}
	if root != "/" {
		if fi, err := os.Stat(root); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == os.Geteuid() {
				return nil
			}
		}
	}
	return errors.New("apply changes packages and system files and must run as root: run it with sudo (or point --root at a tree you own)")
}

func cmdVerify(ctx context.Context, e *env, args []string) int {
	var c common
	fs := newFlagSet(e, "verify", "verify [-f SPEC] [--root DIR] [--json]")
	c.register(fs, true)
	if _, err := parse(fs, args); err != nil {
		return exitError
	}
	if err := c.setup(e, fs); err != nil {
		return fail(e, "%v", err)
	}
	s, _, ok := loadSpec(e, &c, false)
	if !ok {
		return exitError
	}
	f, err := gather.Gather(ctx, c.host(e), gatherOptions(&c, s))
	if err != nil {
		return fail(e, "gathering facts: %v", err)
	}
	r := verify.Verify(f, s)
	if c.jsonOut {
		views.JSON(e.stdout, r)
	} else {
		views.Report(e.stdout, "Verify", r)
	}
	if !r.OK {
		return exitError
	}
	return exitOK
}

func cmdGuard(ctx context.Context, e *env, args []string) int {
	var c common
	var hold bool
	fs := newFlagSet(e, "guard", "guard --kernel RELEASE [--hold-default] [--root DIR] [--json]")
	c.register(fs, false)
	fs.BoolVar(&hold, "hold-default", false, "when ZFS would not work on RELEASE and it is the default boot entry, make the newest kernel ZFS works on the default again (the kernel-install plugin uses this)")
	if _, err := parse(fs, args); err != nil {
		return exitError
	}
	if err := c.setup(e, fs); err != nil {
		return fail(e, "%v", err)
	}
	if c.kernel == "" {
		return fail(e, "guard needs --kernel RELEASE: the kernel about to be installed or booted (uname -r form)")
	}
	h := c.host(e)
	f, err := gather.Gather(ctx, h, gatherOptions(&c, nil))
	if err != nil {
		fail(e, "gathering facts: %v", err)
		return exitUnknown
	}
	r := verify.Guard(ctx, h, f, c.kernel)
	code := exitOK
	if !r.OK {
		code = exitError
		if len(r.Checks) > 0 && r.Checks[0].Name == "kernel installed" {
			code = exitUnknown
		}
		if hold {
			hc := verify.HoldDefault(ctx, h, f, c.kernel)
			r.Checks = append(r.Checks, hc)
			if !hc.OK {
				code = exitUnknown
			}
		}
	}
	if c.jsonOut {
		views.JSON(e.stdout, r)
	} else {
		views.Report(e.stdout, "Guard", r)
	}
	if code != exitOK {
		fmt.Fprintf(e.stderr, "zfsinstall guard: ZFS would not work after booting %s (see the failed checks above)\n", c.kernel)
	}
	return code
}

// binaryIn is the path, on the managed host, of the zfsinstall the day-2
// unit and hook run: this binary's own path on a live host; under --root
// its path inside the root when it runs from there (kickstart %post
// --nochroot), else the root's own /usr/sbin/zfsinstall or
// /usr/local/sbin/zfsinstall, else planner.DefaultBinary (where the RPM
// installs it).
func binaryIn(h host.Host) string {
	self := selfPath()
	if h.Root() == "/" {
		return self
	}
	if rel, err := filepath.Rel(h.Root(), self); err == nil && !strings.HasPrefix(rel, "..") {
		return "/" + rel
	}
	for _, p := range []string{planner.DefaultBinary, "/usr/local/sbin/zfsinstall"} {
		if host.Exists(h, p) {
			return p
		}
	}
	return planner.DefaultBinary
}

// selfPath is the path of the running zfsinstall binary, symlinks
// resolved.
func selfPath() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

func cmdRecipes(_ context.Context, e *env, args []string) int {
	if len(args) == 0 {
		for _, n := range recipes.Names() {
			fmt.Fprintln(e.stdout, n)
		}
		return exitOK
	}
	data, err := recipes.Get(args[0])
	if err != nil {
		return fail(e, "%v (zfsinstall recipes lists them)", err)
	}
	e.stdout.Write(data)
	return exitOK
}

// checkRelease verifies the zfs-release package at plan time when it is to
// be installed: a local file always, a URL when it can be fetched quickly
// (never when planning from saved facts, which is offline by design).
// Nil means "could not check now"; apply checks before installing anyway.
func checkRelease(ctx context.Context, e *env, h host.Host, s *spec.Spec, f *facts.Facts, key *repos.Key, online bool) *planner.ReleaseCheck {
	if _, ok := f.Installed("zfs-release"); ok || !f.Distro.Supported() {
		return nil
	}
	src := s.ZFS.ReleaseRPM
	if src == "" {
		var err error
		if src, err = repos.ReleaseURL(f.Distro); err != nil {
			return nil // the planner reports it
		}
	}
	if strings.Contains(src, "://") && !online {
		return nil // planning from saved facts is offline by design
	}
	data, err := repos.Load(ctx, h, src, s.ZFS.InsecureReleaseURL, 10*time.Second)
	if err != nil && strings.Contains(src, "://") {
		e.log.WithError(err).Info("zfs-release not fetched at plan time; apply will fetch and verify it")
		return nil
	}
	if err != nil {
		return &planner.ReleaseCheck{Err: err}
	}
	var trusted []repos.Key
	if key != nil {
		trusted = []repos.Key{*key}
	}
	info, err := repos.VerifyRelease(data, f.Distro, trusted)
	return &planner.ReleaseCheck{Info: info, Err: err}
}
