package apply

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/cavaliergopher/rpm"
	"github.com/hashicorp/go-version"
	"github.com/sirupsen/logrus"
	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/facts/gather"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/repos"
)

// query returns the installed packages among names (newest of each), in one rpm call.
func (a *applier) query(names ...string) (map[string]facts.Package, error) {
	res, err := a.h.Run(a.ctx, host.Cmd{Argv: facts.RPMArgs(a.h, append([]string{"-q", "--qf", facts.QF}, names...)...)})
	if err != nil {
		// rpm -q exits with the number of packages not installed.
		if _, ok := err.(*host.CmdError); !ok {
			return nil, err
		}
	}
	out := map[string]facts.Package{}
	for _, p := range facts.ParsePackages(res.Stdout) {
		if old, ok := out[p.Name]; !ok || facts.ComparePackages(p, old) > 0 {
			out[p.Name] = p
		}
	}
	return out, nil
}

// pkgSatisfied checks one package step against the installed set.
func pkgSatisfied(st planner.Step, installed map[string]facts.Package, all []facts.Package) bool {
	if st.Kind == planner.KindRelease {
		_, ok := installed["zfs-release"]
		return ok
	}
	name := pkgName(st.Package)
	if st.Action == planner.Delete {
		_, ok := installed[name]
		return !ok
	}
	if strings.HasPrefix(st.ID, "package.kernel") {
		return slices.ContainsFunc(all, func(p facts.Package) bool { return p.NVRA() == st.Package })
	}
	p, ok := installed[name]
	if !ok {
		return false
	}
	if st.Constraint != "" {
		c, err := version.NewConstraint(st.Constraint)
		v, verr := version.NewVersion(p.Version)
		if err == nil && verr == nil && !c.Check(v) {
			return false
		}
	}
	return true
}

// pkgName strips a version from a dnf spec: "zfs-2.2.7" -> "zfs".
func pkgName(spec string) string {
	for _, n := range []string{"zfs-release", "zfs-dkms", "kmod-zfs", "zfs", "epel-release", "dkms"} {
		if spec == n || strings.HasPrefix(spec, n+"-") && spec[len(n)+1] >= '0' && spec[len(n)+1] <= '9' {
			return n
		}
	}
	return spec
}

// transaction runs a group of package steps as one dnf transaction (plus,
// for zfs-release, the verification and key import that must precede it).
func (a *applier) transaction(steps []planner.Step) error {
	names := []string{"zfs-release"} // never the release file itself: rpm -q FILE.rpm queries the file
	for _, st := range steps {
		if st.Kind != planner.KindRelease {
			names = append(names, pkgName(st.Package))
		}
	}
	installed, err := a.query(names...)
	if err != nil {
		return &StepError{steps[0], fmt.Errorf("checking installed packages: %w", err)}
	}
	all, err := a.installedKernelDevel()
	if err != nil {
		return &StepError{steps[0], err}
	}
	var todo []planner.Step
	for _, st := range steps {
		if pkgSatisfied(st, installed, all) {
			a.progress(st, "already in place, skipped")
			a.res.Skipped = append(a.res.Skipped, st.ID)
			continue
		}
		todo = append(todo, st)
	}
	if len(todo) == 0 {
		return nil
	}
	var install, remove, enable []string
	cleanup := func() {}
	defer func() { cleanup() }()
	for _, st := range todo {
		for _, r := range st.EnableRepos {
			enable = appendUnique(enable, r)
		}
		switch {
		case st.Kind == planner.KindRelease:
			file, key, done, err := a.fetchRelease(st)
			if err != nil {
				return &StepError{st, err}
			}
			cleanup = done
			if err := a.importKeyData(key); err != nil {
				return &StepError{st, fmt.Errorf("importing %s: %w", key.Name, err)}
			}
			install = append(install, file)
		case st.Action == planner.Delete:
			remove = append(remove, st.Package)
		default:
			install = append(install, st.Package)
		}
	}
	install, err = a.resolveVersions(todo, install)
	if err != nil {
		return &StepError{todo[0], err}
	}
	if st, err := a.develOffered(todo, enable); err != nil {
		return &StepError{st, err}
	}
	for _, st := range todo {
		a.progress(st, "%s...", st.Summary)
	}
	if err := a.dnfTransaction(install, remove, enable); err != nil {
		return &StepError{todo[len(todo)-1], err}
	}
	// Verify every step of the transaction against the rpm database.
	installed, err = a.query(names...)
	if err != nil {
		return &StepError{todo[0], err}
	}
	if all, err = a.installedKernelDevel(); err != nil {
		return &StepError{todo[0], err}
	}
	for _, st := range todo {
		if !pkgSatisfied(st, installed, all) {
			return &StepError{st, fmt.Errorf("verifying: dnf finished but the rpm database does not show %s %s", st.Action, st.Package)}
		}
		a.res.Done = append(a.res.Done, st.ID)
		a.progress(st, "done")
	}
	return nil
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// installedKernelDevel lists installed kernel-devel packages of every flavor.
func (a *applier) installedKernelDevel() ([]facts.Package, error) {
	res, err := a.h.Run(a.ctx, host.Cmd{Argv: facts.RPMArgs(a.h, "-qa", "--qf", facts.QF, "kernel*-devel", "kernel*-devel-matched")})
	if err != nil {
		return nil, fmt.Errorf("listing kernel-devel packages: %w", err)
	}
	return facts.ParsePackages(res.Stdout), nil
}

// resolveVersions makes zfs and its module package resolve to one version:
// the newest that both are offered in and that satisfies the constraint.
// Installing them unpinned could pair a new userland with an older module.
func (a *applier) resolveVersions(todo []planner.Step, install []string) ([]string, error) {
	var zfsSteps []int
	constraint := ""
	for i, st := range install {
		n := pkgName(st)
		if (n == "zfs" || n == "zfs-dkms" || n == "kmod-zfs") && n == st {
			zfsSteps = append(zfsSteps, i)
		}
	}
	for _, st := range todo {
		if st.Constraint != "" {
			constraint = st.Constraint
		}
	}
	if len(zfsSteps) == 0 {
		return install, nil
	}
	names := []string{}
	for _, i := range zfsSteps {
		names = append(names, install[i])
	}
	installedZFS, _ := a.query("zfs", "zfs-dkms", "kmod-zfs")
	offered, err := a.offered(names)
	if err != nil {
		return nil, err
	}
	// Versions every needed package is offered in (or, for zfs, installed at).
	var common []string
	for v := range offered[names[0]] {
		ok := true
		for _, n := range names[1:] {
			if !offered[n][v] {
				ok = false
			}
		}
		if ok {
			common = append(common, v)
		}
	}
	if p, ok := installedZFS["zfs"]; ok && len(names) == 1 && names[0] != "zfs" {
		// Only the module package is new: it must match the installed userland.
		common = nil
		if offered[names[0]][p.Version] {
			common = []string{p.Version}
		}
	}
	var c version.Constraints
	if constraint != "" {
		if c, err = version.NewConstraint(constraint); err != nil {
			return nil, err
		}
	}
	best := ""
	var skipped []string
	for _, v := range common {
		pv, err := version.NewVersion(v)
		if err != nil || (c != nil && !c.Check(pv)) {
			continue
		}
		if bad := catalog.Unaccepted(v, a.p.AllowKnownBad); len(bad) > 0 {
			var ids []string
			for _, adv := range bad {
				ids = append(ids, adv.ID)
			}
			skipped = append(skipped, v+" ("+strings.Join(ids, ", ")+")")
			continue
		}
		if best == "" || rpm.CompareVersions(v, best) > 0 {
			best = v
		}
	}
	if best == "" {
		known := ""
		if len(skipped) > 0 {
			sort.Strings(skipped)
			known = "; skipped for known serious defects: " + strings.Join(skipped, ", ") + " (accept one with zfs.allow_known_bad)"
		}
		return nil, fmt.Errorf("no version of %s satisfying %q is offered by the enabled repositories (offered: %s%s); check zfs.version and zfs.repo, or `dnf repoquery %s`",
			strings.Join(names, " and "), orAny(constraint), describeOffered(offered), known, strings.Join(names, " "))
	}
	if p, ok := installedZFS["zfs"]; ok && rpm.CompareVersions(best, p.Version) < 0 && !a.p.AllowDowngrade {
		return nil, fmt.Errorf("refusing to downgrade zfs from %s to %s, the newest release zfs.version (%q) allows in the enabled section: set allow_downgrade = true if that is intended, or widen zfs.version", p.Version, best, orAny(constraint))
	}
	if a.b.Name() == "dkms" {
		reqs, err := a.dkmsRequires(best)
		if err != nil {
			return nil, err
		}
		for _, k := range a.targetKernels() {
			ki := catalog.ClassifyKernel(k, "")
			if err := backends.CheckKernel(best, ki, c); err != nil {
				return nil, fmt.Errorf("refusing before installing ZFS: %w", err)
			}
			if err := backends.CheckRequires("zfs-dkms-"+best, reqs, ki); err != nil {
				return nil, fmt.Errorf("refusing before installing ZFS: %w", err)
			}
		}
	} else if err := a.kmodFits(best); err != nil {
		return nil, fmt.Errorf("refusing before installing ZFS: %w", err)
	}
	for _, i := range zfsSteps {
		install[i] = install[i] + "-" + best
	}
	a.log.WithFields(logrus.Fields{"version": best, "constraint": constraint}).Info("resolved OpenZFS version")
	return install, nil
}

func orAny(c string) string {
	if c == "" {
		return "any"
	}
	return c
}

func describeOffered(o map[string]map[string]bool) string {
	var parts []string
	for n, vs := range o {
		var l []string
		for v := range vs {
			l = append(l, v)
		}
		sort.Strings(l)
		if len(l) == 0 {
			l = []string{"none"}
		}
		parts = append(parts, n+" "+strings.Join(l, ", "))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// offered asks the enabled repos which versions of names they carry.
func (a *applier) offered(names []string) (map[string]map[string]bool, error) {
	args := append([]string{"repoquery", "-q", "--available", "--qf", `%{name}\t%{version}\n`}, names...)
	res, err := a.h.Run(a.ctx, host.Cmd{Argv: facts.DNFArgs(a.h, a.opts.DNFArgs, args...)})
	if err != nil {
		return nil, explainDNF(fmt.Errorf("asking the repositories which OpenZFS versions they offer: %w", err))
	}
	out := map[string]map[string]bool{}
	for _, n := range names {
		out[n] = map[string]bool{}
	}
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		n, v, ok := strings.Cut(line, "\t")
		if ok && out[n] != nil {
			out[n][v] = true
		}
	}
	return out, nil
}

// dnfTransaction runs one dnf transaction: a plain install, a plain remove,
// or, when both are needed, `dnf shell` with both in one transaction so the
// host never sits between two packagings.
func (a *applier) dnfTransaction(install, remove, enable []string) error {
	var opts []string
	for _, r := range enable {
		opts = append(opts, "--enablerepo="+r)
	}
	opts = append(opts, "-y")
	var args []string
	switch {
	case len(remove) == 0:
		args = append(append(opts, "install"), install...)
	case len(install) == 0:
		args = append(append(opts, "remove"), remove...)
	default:
		script, done, err := tempFile("dnf-shell-*", "remove "+strings.Join(remove, " ")+"\ninstall "+strings.Join(install, " ")+"\nrun\n")
		if err != nil {
			return err
		}
		defer done()
		args = append(opts, "shell", script)
	}
	if err := a.importRepoKeys(enable); err != nil {
		return err
	}
	a.res.Transactions++
	_, err := a.h.Run(a.ctx, host.Cmd{Argv: facts.DNFArgs(a.h, a.opts.DNFArgs, args...)})
	if err != nil {
		return explainDNF(fmt.Errorf("dnf transaction: %w", err))
	}
	return nil
}

var (
	reUnreachable = regexp.MustCompile(`Failed to download metadata for repo '([^']+)'`)
	reUnsigned    = regexp.MustCompile(`Package (\S+) is not signed|(\S+\.rpm)[^\n]*GPG check FAILED|The GPG keys listed for the "([^"]+)"`)
	reNoMatch     = regexp.MustCompile(`No match for argument: (\S+)`)
)

// explainDNF puts the cause and the way out in front of a failed dnf
// command's own words, for the failures seen in the field.
func explainDNF(err error) error {
	var ce *host.CmdError
	if !errors.As(err, &ce) {
		return err
	}
	out := string(ce.Stderr) + string(ce.Stdout)
	switch {
	case ce.ExitCode < 0 || ce.ExitCode == 137:
		return fmt.Errorf("dnf was killed in the middle of its transaction; rpm installs package by package, so the packages done so far are whole and the rest are not there. Run zfsinstall apply again: it re-reads the rpm database and finishes the job.\n%w", err)
	case reUnreachable.MatchString(out):
		return fmt.Errorf("repository %s cannot be reached: check its baseurl or mirror and the network, or disable it; nothing was installed in this transaction.\n%w", reUnreachable.FindStringSubmatch(out)[1], err)
	case reUnsigned.MatchString(out):
		return fmt.Errorf("a package failed its signature check and dnf refused the whole transaction (zfsinstall never turns GPG checks off): have the repository's owner sign it or remove it from the mirror, then run apply again.\n%w", err)
	case reNoMatch.MatchString(out):
		return fmt.Errorf("no enabled repository offers %s.\n%w", reNoMatch.FindStringSubmatch(out)[1], err)
	}
	return err
}

// tempFile writes content to a machine temp file (dnf reads local package
// files and shell scripts from the machine, not from an install root).
func tempFile(pattern, content string) (string, func(), error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return "", nil, err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", nil, err
	}
	f.Close()
	return f.Name(), func() { os.Remove(f.Name()) }, nil
}

// fetchRelease gets the zfs-release package (download or local file),
// verifies it against the trusted keys, and writes the verified bytes to a
// private file that dnf installs, so what is installed is what was checked.
func (a *applier) fetchRelease(st planner.Step) (string, repos.Key, func(), error) {
	var data []byte
	var err error
	if strings.Contains(st.Package, "://") {
		data, err = repos.Fetch(a.ctx, st.Package, a.opts.InsecureReleaseURL, a.opts.FetchTimeout)
	} else {
		data, err = os.ReadFile(st.Package)
	}
	if err != nil {
		return "", repos.Key{}, nil, fmt.Errorf("reading zfs-release from %s: %w", st.Package, err)
	}
	trusted := a.opts.TrustedKeys
	if trusted == nil {
		trusted = repos.PinnedKeys()
	}
	info, err := repos.VerifyRelease(data, a.f.Distro, trusted)
	if err != nil {
		return "", repos.Key{}, nil, err
	}
	if st.Content != "" && info.SHA256 != st.Content {
		return "", repos.Key{}, nil, fmt.Errorf("%s changed since it was verified at plan time (sha256 %s, planned %s): refusing; run zfsinstall plan again", st.Package, info.SHA256, st.Content)
	}
	var key repos.Key
	for _, k := range trusted {
		if k.Name == info.SignedBy {
			key = k
		}
	}
	dir, err := os.MkdirTemp("", "zfsinstall-release-*")
	if err != nil {
		return "", key, nil, err
	}
	file := filepath.Join(dir, info.Name+"-"+info.Version+"-"+info.Release+"."+info.Arch+".rpm")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		os.RemoveAll(dir)
		return "", key, nil, err
	}
	a.log.WithFields(logrus.Fields{"package": filepath.Base(file), "signed_by": info.SignedBy, "sha256": info.SHA256}).Info("zfs-release verified")
	return file, key, func() { os.RemoveAll(dir) }, nil
}

// keyImported reports whether the rpm database holds the key named.
func (a *applier) keyImported(name string) (bool, error) {
	k, err := a.trustedKey(name)
	if err != nil {
		return false, err
	}
	res, err := a.h.Run(a.ctx, host.Cmd{Argv: facts.RPMArgs(a.h, "-q", "gpg-pubkey-"+k.ShortID())})
	if err != nil {
		if _, ok := err.(*host.CmdError); ok {
			return false, nil
		}
		return false, err
	}
	return len(res.Stdout) > 0, nil
}

func (a *applier) trustedKey(name string) (repos.Key, error) {
	trusted := a.opts.TrustedKeys
	if trusted == nil {
		trusted = repos.PinnedKeys()
	}
	for _, k := range trusted {
		if k.Name == name {
			return k, nil
		}
	}
	if len(a.opts.TrustedKeys) == 1 {
		return a.opts.TrustedKeys[0], nil
	}
	return repos.Key{}, fmt.Errorf("no trusted key named %s", name)
}

func (a *applier) importKey(name string) error {
	k, err := a.trustedKey(name)
	if err != nil {
		return err
	}
	return a.importKeyData(k)
}

// importKeyData imports the embedded (pinned) key bytes, not the copy the
// package drops under /etc/pki, so the trust anchor is what was verified.
func (a *applier) importKeyData(k repos.Key) error {
	if ok, err := a.keyImported(k.Name); err == nil && ok {
		return nil
	}
	file, done, err := tempFile("zfsinstall-key-*", string(k.Armored))
	if err != nil {
		return err
	}
	defer done()
	_, err = a.h.Run(a.ctx, host.Cmd{Argv: facts.RPMArgs(a.h, "--import", file)})
	return err
}

// importRepoKeys imports, for an install root, the keys named by the
// gpgkey=file:// lines of the repos a transaction uses. dnf --installroot
// reads those paths from the machine, not the root, so without this every
// signed package fails with "Curl error (37): Couldn't open file". The keys
// come from release packages already in the root (the zfs-release among
// them was verified before it was installed); on a live host dnf imports
// them itself. Importing a key the database already has is a no-op.
func (a *applier) importRepoKeys(enable []string) error {
	if a.h.Root() == "/" {
		return nil
	}
	list, err := repos.ReadAll(a.h)
	if err != nil {
		return err
	}
	vars := strings.NewReplacer("$releasever", a.f.Distro.Releasever, "$basearch", a.f.Arch)
	done := map[string]bool{}
	for _, r := range list {
		if !r.Enabled && !slices.Contains(enable, r.ID) {
			continue
		}
		for _, url := range strings.FieldsFunc(r.GPGKey, func(c rune) bool { return c == ' ' || c == ',' || c == '\n' || c == '\t' }) {
			path, ok := strings.CutPrefix(vars.Replace(url), "file://")
			if !ok || done[path] || !host.Exists(a.h, path) {
				continue
			}
			done[path] = true
			if _, err := a.h.Run(a.ctx, host.Cmd{Argv: facts.RPMArgs(a.h, "--import", filepath.Join(a.h.Root(), path))}); err != nil {
				return fmt.Errorf("importing %s (gpgkey of repo %s) into the root's rpm database: %w", path, r.ID, err)
			}
		}
	}
	return nil
}

// develOffered checks, before the transaction, that the repositories still
// carry the exact kernel-devel packages the plan needs. Mirrors drop an old
// z-stream kernel's packages once a newer one is out; dnf would only say
// "No match for argument", after the other packages were resolved.
func (a *applier) develOffered(todo []planner.Step, enable []string) (planner.Step, error) {
	var want []planner.Step
	for _, st := range todo {
		if strings.HasPrefix(st.ID, "package.kernel") && st.Action == planner.Create {
			want = append(want, st)
		}
	}
	if len(want) == 0 {
		return planner.Step{}, nil
	}
	args := []string{"repoquery", "-q", "--available", "--qf", `%{name}-%{version}-%{release}.%{arch}\n`}
	for _, r := range enable {
		args = append(args, "--enablerepo="+r)
	}
	for _, st := range want {
		args = append(args, st.Package)
	}
	res, err := a.h.Run(a.ctx, host.Cmd{Argv: facts.DNFArgs(a.h, a.opts.DNFArgs, args...)})
	if err != nil {
		return want[0], explainDNF(fmt.Errorf("asking the repositories for kernel-devel: %w", err))
	}
	offered := map[string]bool{}
	for _, l := range strings.Split(string(res.Stdout), "\n") {
		offered[strings.TrimSpace(l)] = true
	}
	for _, st := range want {
		if !offered[st.Package] {
			return st, fmt.Errorf("%s is not offered by any enabled repository: mirrors drop an old z-stream kernel's packages once a newer kernel is out, and DKMS needs exactly this one. Two ways out: "+
				"(1) update the kernel and reboot into it (dnf update 'kernel*' && reboot), then run zfsinstall apply again; "+
				"(2) enable a repository that still carries it (the distribution's vault for this minor release, e.g. Rocky's dl.rockylinux.org/vault or AlmaLinux's vault.almalinux.org) and run zfsinstall apply again. Nothing was installed in this transaction", st.Package)
		}
	}
	return planner.Step{}, nil
}

// kmodFits checks that the kmod-zfs about to be installed was built for the
// EL minor release of every target kernel (its modules live under
// /lib/modules/<build kernel>; weak-modules carries them to later z-stream
// kernels of the same minor only).
func (a *applier) kmodFits(version string) error {
	res, err := a.h.Run(a.ctx, host.Cmd{Argv: facts.DNFArgs(a.h, a.opts.DNFArgs, "repoquery", "-q", "--available", "--qf", `@pkg %{version}-%{release}\n%{files}\n`, "kmod-zfs-"+version)})
	if err != nil {
		return explainDNF(fmt.Errorf("asking which kernel kmod-zfs %s is built for: %w", version, err))
	}
	for _, built := range gather.ParseKmodFiles(res.Stdout) {
		have := catalog.ClassifyKernel(built, "").ELMinor
		for _, k := range a.targetKernels() {
			if want := catalog.ClassifyKernel(k, "").ELMinor; want != have {
				return fmt.Errorf("kmod-zfs %s is built for EL %s (kernel %s) but the target kernel %s is EL %s: no kABI-tracking kmod is published for EL %s yet, so the module would not load. Use packaging = \"dkms\", or keep booting an EL %s kernel until OpenZFS publishes one", version, have, built, k, want, want, have)
			}
		}
	}
	return nil
}

// dkmsRequires reads zfs-dkms's own kernel requirements from the repository
// metadata (what dnf will enforce), rather than trusting the release table.
func (a *applier) dkmsRequires(version string) ([]backends.KernelRequirement, error) {
	res, err := a.h.Run(a.ctx, host.Cmd{Argv: facts.DNFArgs(a.h, a.opts.DNFArgs, "repoquery", "-q", "--available", "--requires", "zfs-dkms-"+version)})
	if err != nil {
		return nil, explainDNF(fmt.Errorf("reading the requirements of zfs-dkms %s: %w", version, err))
	}
	return backends.ParseKernelRequires(string(res.Stdout)), nil
}
