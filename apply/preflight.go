package apply

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/repos"
)

// Every refusal comes before the first change (issue 20). Before apply
// changes anything it:
//
//  1. checks every write it will make: its own files (host.CheckWrite: a
//     symlink out of the root, a read-only or immutable target) and the
//     paths rpm, dnf and systemctl write under the root (host.CheckTool);
//  2. fetches and verifies zfs-release when the plan installs it, and
//     reads the zfs.repo inside it;
//  3. prepares every package transaction: one repoquery for the versions
//     offered and their requirements, the version resolved with the
//     planner's rule, the kABI fit or DKMS build check, the library check,
//     and a `dnf --assumeno` resolve that refuses when dnf would choose a
//     kernel or install a package whose repository does not check
//     signatures. dnf is asked through a temporary repository
//     configuration, in a machine temporary directory: the root's
//     repository files as the plan leaves them, with the zfs.repo of the
//     verified zfs-release when it is not installed yet, so the OpenZFS
//     repositories are asked (and found unreachable) before anything is
//     installed. These are the queries apply made after installing
//     zfs-release, moved earlier: no dnf run is added, and the repository
//     ids and URLs are the ones the transaction uses, so dnf's metadata
//     cache serves both. With dnf 4 the repoquery and the resolve are one
//     dnf run (pkgmgr.Client.OfferedAndResolved: dnf's shell, the OpenZFS
//     version left to dnf; kept when dnf chose the version the planner's
//     rule resolves, acceptEarly), so the preflight loads the repository
//     metadata once, as the transaction does.
//
// One thing cannot move before the first change: when the first
// transaction installs a release package from a repository (epel-release
// for dkms), the repositories it brings are not known before it is
// installed, so the --assumeno resolves of later transactions run right
// after it, still before any repository file is edited.

// preflight does the above and returns the prepared transactions by
// number.
func (a *applier) preflight() (map[int]*prepared, error) {
	if err := a.checkWrites(); err != nil {
		return nil, err
	}
	ready := map[int]*prepared{}
	var order []int
	for _, st := range a.p.Steps {
		if st.Txn != 0 && !slices.Contains(order, st.Txn) {
			order = append(order, st.Txn)
		}
	}
	for _, txn := range order {
		pr, err := a.prepare(txnSteps(a.p, txn))
		if err != nil {
			return nil, err
		}
		ready[txn] = pr
		release := slices.ContainsFunc(pr.todo, func(st planner.Step) bool { return st.Kind == planner.KindRelease })
		for _, st := range pr.todo {
			switch {
			case st.Kind == planner.KindRelease:
				if _, err := a.loadRelease(st); err != nil {
					return nil, &StepError{st, err}
				}
			case release && st.Package != nil && st.Action == planner.Create:
				// A release package from a repository (epel-release)
				// beside zfs-release: the repositories it brings exist
				// only once it is in.
				a.reposPending = true
			}
		}
	}
	return ready, nil
}

// checkWrites checks, before the first change, every write the plan's
// steps make: zfsinstall's own files, what rpm, dnf and systemctl write
// under the root (their state; host.CheckTool), and that the directories
// packages, DKMS builds and initramfs images go to can be written (a
// read-only /usr, as on image-mode hosts, made rpm fail after zfs-release
// was in). Programs run chrooted (rpm's payload, dkms, dracut) resolve
// inside the root by construction, so only writability is checked there.
func (a *applier) checkWrites() error {
	programs := map[string][]host.ToolPath{}
	for _, st := range a.p.Steps {
		var targets []string
		switch {
		case st.File != nil:
			targets = []string{st.File.Path}
		case st.Kind == planner.KindRepo || st.Kind == planner.KindHold || st.Kind == planner.KindOption:
			p, _, _ := repoEdit(st)
			targets = []string{p}
		case st.Kind == planner.KindService:
			programs["systemctl"] = pkgmgr.SystemctlWrites()
		case st.Kind == planner.KindKey || st.Txn != 0:
			programs["rpm"] = pkgmgr.RPMWrites(true)
			if st.Kind == planner.KindRelease {
				targets = []string{repos.ZFSRepoPath}
			}
			if st.Kind == planner.KindPackage {
				programs["dnf"] = pkgmgr.DNFWrites(a.h, true)
				targets = []string{"/usr/sbin/zfs", "/usr/lib/modules/"}
			}
		case st.DKMS != nil:
			targets = []string{pkgmgr.DKMSTree + "/", "/usr/lib/modules/" + st.DKMS.Kernel + "/"}
			if err := a.procForDKMS(); err != nil {
				return fmt.Errorf("refusing before any change: step %s (%s %s): %w", st.ID, st.Action, st.Summary, err)
			}
		case st.Command != nil && st.Command.Creates != "":
			targets = []string{st.Command.Creates}
		case st.Command != nil && len(st.Command.Argv) > 0 && st.Command.Argv[0] == "dracut":
			targets = []string{"/boot/"}
		}
		for _, target := range targets {
			if err := a.h.CheckWrite(target); err != nil {
				return fmt.Errorf("refusing before any change: step %s (%s %s) would write %s: %w", st.ID, st.Action, st.Summary, target, err)
			}
		}
	}
	for _, program := range []string{"rpm", "dnf", "systemctl"} {
		if paths, ok := programs[program]; ok {
			if err := a.h.CheckTool(program, paths...); err != nil {
				return fmt.Errorf("refusing before any change: %w", err)
			}
		}
	}
	return nil
}

// procForDKMS refuses a DKMS build in a managed root without /proc: dkms
// runs chrooted there, and it is a bash script that reads its input
// through <(...) and /dev/fd, which need /proc ("dkms will not function
// properly if /proc is not mounted", dkms at 3.0.10; found by the test bed
// running the real dkms). An installer's target root has /proc mounted;
// a root prepared by hand may not.
func (a *applier) procForDKMS() error {
	if a.h.Root() == "/" || host.Exists(a.h, "/proc/self/status") {
		return nil
	}
	return fmt.Errorf("dkms builds the module chrooted in %s and needs /proc mounted there (dkms: \"dkms will not function properly if /proc is not mounted\"): mount -t proc proc %s/proc, as an installer does for its target, then apply again", a.h.Root(), a.h.Root())
}

// plannedRepos is the repository configuration dnf will read when the
// package transactions run: the host's repository files with the plan's
// edits of zfs.repo made, and, when zfs.repo is not there yet, the one in
// the verified zfs-release (which rpm installs first).
func (a *applier) plannedRepos() (*repos.DNFConfig, error) {
	cfg, err := repos.ReadDNFConfig(a.h)
	if err != nil {
		return nil, err
	}
	var data []byte
	from := repos.ZFSRepoPath
	switch f := cfg.File(repos.ZFSRepoPath); {
	case f != nil:
		data = f.Bytes()
	case a.rel != nil:
		data = a.rel.info.Repo
		from = "the zfs.repo of " + a.rel.info.Name + "-" + a.rel.info.Version + "-" + a.rel.info.Release
	default:
		return cfg, nil
	}
	planned, err := repos.Parse(repos.ZFSRepoPath, data)
	if err != nil {
		return nil, err
	}
	for _, st := range a.p.Steps {
		p, edit, ok := repoEdit(st)
		if !ok || p != repos.ZFSRepoPath {
			continue
		}
		if err := edit(planned); err != nil {
			return nil, &StepError{st, fmt.Errorf("refusing before any change: %s: %w", from, err)}
		}
	}
	cfg.Put(repos.ZFSRepoPath, planned)
	return cfg, nil
}

// plannedQuery writes cfg to a private machine directory (removed when
// apply ends) and returns a query that reads only it, with the
// repositories a transaction enables for itself.
func (a *applier) plannedQuery(cfg *repos.DNFConfig, enable []string) (pkgmgr.Query, error) {
	dir, remove, err := cfg.WriteTemp()
	if err != nil {
		return pkgmgr.Query{}, err
	}
	a.cleanups = append(a.cleanups, remove)
	return pkgmgr.Query{Enable: slices.Clone(enable), ReposDir: dir}, nil
}

// unsigned refuses a transaction in which dnf would install a package from
// a repository whose GPG checks are off in cfg (issue 20 item 1: a
// zfs-release trusted with --release-key whose zfs.repo said gpgcheck=0
// let an unsigned kmod-zfs in). A local file ("@commandline") is one
// zfsinstall verified itself (zfs-release) or a release package the plan
// names by URL.
func unsigned(changes []pkgmgr.Change, cfg *repos.DNFConfig, when string) error {
	var bad []string
	for _, ch := range changes {
		if ch.Action == "remove" || strings.HasPrefix(ch.Repo, "@") {
			continue
		}
		checked, found := cfg.GPGChecked(ch.Repo)
		switch {
		case !found:
			bad = append(bad, fmt.Sprintf("%s-%s from [%s], which no repository file zfsinstall reads defines (so it cannot tell whether dnf checks its signatures)", ch.Name, ch.Version, ch.Repo))
		case !checked:
			bad = append(bad, fmt.Sprintf("%s-%s from [%s], whose GPG checks are off", ch.Name, ch.Version, ch.Repo))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("refusing %s: dnf would install %s; zfsinstall never lets an unsigned package in. Turn gpgcheck on for the repository (gpgcheck=1 in its section, or in [main] of %s), or plan again: the plan turns it on for OpenZFS's own sections",
		when, strings.Join(bad, "; "), repos.DNFConf)
}
