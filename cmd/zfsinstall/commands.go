package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zfsinstall/zfsinstall/cmd/zfsinstall/internal/arguments"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/gather"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/recipes"
	"github.com/zfsinstall/zfsinstall/repos"
	"github.com/zfsinstall/zfsinstall/spec"
	"github.com/zfsinstall/zfsinstall/views"
)

func cmdValidate(_ context.Context, e *env, args []string) int {
	a, err := arguments.ParseValidate(args)
	if err != nil {
		return e.argsError(err, exitError)
	}
	if _, _, err := e.loadSpec(a.Spec); err != nil {
		return e.fail("%v", err)
	}
	fmt.Fprintf(e.stdout, "%s: the spec is valid.\n", a.Spec.File)
	return exitOK
}

// loadSpec reads and parses the spec. Its located diagnostics go to
// standard error (`file:line:col: error: ...` with the source line); the
// error says why the spec cannot be used, for the command to report once
// as its `Error:` line: the file could not be read (a missing default spec
// with the way to write one), or the diagnostics above have errors.
func (e *env) loadSpec(a arguments.Spec) (*spec.Spec, map[string]*hcl.File, error) {
	s, files, diags := spec.ParseFile(a.File)
	if files == nil { // not read: the diagnostics say why, with no location
		var why []string
		for _, d := range diags {
			why = append(why, cmp.Or(d.Detail, d.Summary))
		}
		err := fmt.Errorf("reading the spec %s: %s", a.File, strings.Join(why, "; "))
		if _, statErr := os.Stat(a.File); errors.Is(statErr, fs.ErrNotExist) && !a.Set {
			err = fmt.Errorf("%w; write a host spec at ./%s or pass -f SPEC (`zfsinstall recipes` prints examples to start from)", err, arguments.DefaultSpec)
		}
		return nil, nil, err
	}
	if len(diags) > 0 {
		spec.WriteDiagnostics(e.stderr, files, diags)
	}
	if diags.HasErrors() {
		return nil, files, fmt.Errorf("the spec %s has errors (see above)", a.File)
	}
	return s, files, nil
}

// gatherOptions maps the spec and options to fact-gathering options.
func gatherOptions(s *spec.Spec, kernel string, refresh bool, dnfArgs []string) gather.Options {
	o := gather.Options{Kernel: kernel, QueryRepos: refresh, DNFArgs: dnfArgs}
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

func cmdFacts(ctx context.Context, e *env, args []string) int {
	a, err := arguments.ParseFacts(args)
	if err != nil {
		return e.argsError(err, exitError)
	}
	e.setupLog(a.Logging)
	f, err := gather.Gather(ctx, e.newHost(a.Root, e.log), gatherOptions(nil, a.Kernel, a.Refresh, e.dnfArgs(a.DNFArgs)))
	if err != nil {
		return e.fail("gathering facts: %v", err)
	}
	if a.JSON {
		views.JSON(e.stdout, f)
	} else {
		views.Facts(e.stdout, f)
	}
	return exitOK
}

func cmdRecipes(_ context.Context, e *env, args []string) int {
	a, err := arguments.ParseRecipes(args)
	if err != nil {
		return e.argsError(err, exitError)
	}
	if a.Name == "" {
		for _, n := range recipes.Names() {
			fmt.Fprintln(e.stdout, n)
		}
		return exitOK
	}
	data, err := recipes.Get(a.Name)
	if err != nil {
		return e.fail("%v (zfsinstall recipes lists them)", err)
	}
	e.stdout.Write(data)
	return exitOK
}

// The build stamp, set by make build (and so by every target that ships
// the binary) with -ldflags -X: version from the VERSION file, commit,
// commitTime and modified ("true" or "false") from git. Empty in a plain
// go build, which reports the build info's module version and VCS stamp
// instead.
var version, commit, commitTime, modified string

func cmdVersion(_ context.Context, e *env, args []string) int {
	a, err := arguments.ParseVersion(args)
	if err != nil {
		return e.argsError(err, exitError)
	}
	views.Version(e.stdout, versionInfo(), a.JSON)
	return exitOK
}

// versionInfo reads the version from main.version and the build info
// runtime/debug keeps in the binary.
func versionInfo() views.VersionInfo {
	v := views.VersionInfo{FormatVersion: views.FormatVersion, Version: version, Module: "github.com/zfsinstall/zfsinstall",
		ModuleVersion: "(unknown)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path != "" {
			v.Module = bi.Main.Path
		}
		if bi.Main.Version != "" {
			v.ModuleVersion = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.time":
				v.CommitTime = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if commit != "" {
		v.Commit, v.CommitTime, v.Modified = commit, commitTime, modified == "true"
	}
	if v.Version == "" {
		v.Version = v.ModuleVersion
	}
	return v
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

// maxKeySize bounds --release-key: an armored rsa4096 public key is about
// 3 KiB (RPM-GPG-KEY-openzfs-2022 is 3.1 KiB).
const maxKeySize = 1 << 20

// readKey reads the armored key of --release-key ("" = none): a regular
// file of at most maxKeySize bytes (host.ReadRegular).
func readKey(path string) (*repos.Key, error) {
	if path == "" {
		return nil, nil
	}
	data, err := host.ReadRegular(path, maxKeySize)
	if err != nil {
		return nil, fmt.Errorf("reading --release-key: %w", err)
	}
	k, err := repos.ParseKey(path, data)
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// releaseChecker verifies the zfs-release package at plan time when it is
// to be installed: a local file always, a URL when it can be fetched
// quickly (never when planning from saved facts, which is offline by
// design). It remembers each outcome by source and distribution, so a
// fleet reads and verifies a local package once, not once per host.
type releaseChecker struct {
	e      *env
	s      *spec.Spec
	key    *repos.Key
	online bool
	h      host.Host // whose dnf.conf proxy a download uses; nil when offline
	mu     sync.Mutex
	seen   map[string]*planner.ReleaseCheck
}

// check returns the outcome for the host f describes; nil means "could not
// check now" (apply checks before installing anyway).
func (rc *releaseChecker) check(ctx context.Context, f *facts.Facts) *planner.ReleaseCheck {
	if _, ok := f.Installed("zfs-release"); ok || !f.Distro.Supported() {
		return nil
	}
	src := rc.s.ZFS.ReleaseRPM
	if src == "" {
		var err error
		if src, err = repos.ReleaseURL(f.Distro); err != nil {
			return nil // the planner reports it
		}
	}
	if strings.Contains(src, "://") && !rc.online {
		return nil // planning from saved facts is offline by design
	}
	distro, _ := json.Marshal(f.Distro)
	memo := src + "\x00" + string(distro)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if c, ok := rc.seen[memo]; ok {
		return c
	}
	c := rc.verify(ctx, src, f)
	if rc.seen == nil {
		rc.seen = map[string]*planner.ReleaseCheck{}
	}
	rc.seen[memo] = c
	return c
}

func (rc *releaseChecker) verify(ctx context.Context, src string, f *facts.Facts) *planner.ReleaseCheck {
	data, err := repos.Load(ctx, rc.h, src, rc.s.ZFS.InsecureReleaseURL, 10*time.Second)
	if err != nil && strings.Contains(src, "://") {
		rc.e.log.WithError(err).Info("zfs-release not fetched at plan time; apply will fetch and verify it")
		return nil
	}
	if err != nil {
		return &planner.ReleaseCheck{Err: err}
	}
	var trusted []repos.Key
	if rc.key != nil {
		trusted = []repos.Key{*rc.key}
	}
	info, err := repos.VerifyRelease(data, f.Distro, trusted)
	return &planner.ReleaseCheck{Info: info, Err: err}
}
