package update

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/catalog"
)

// moduleChange says what the update does to the module package.
func (ev *evaluation) moduleChange() Module {
	switch {
	case ev.before.Kmod != nil:
		return Module{Package: "kmod-zfs", From: versionRelease(*ev.before.Kmod), To: versionRelease(*ev.module.Kmod)}
	case ev.before.DKMS != nil:
		return Module{Package: "zfs-dkms", From: versionRelease(*ev.before.DKMS), To: versionRelease(*ev.module.DKMS)}
	}
	return Module{}
}

// problems are what makes the update unsafe (errors) or worth a look
// (warnings), each naming the kernel or package, the cause and the way out.
func (ev *evaluation) problems(r *Report) []Problem {
	var out []Problem
	errorf := func(summary, detail string, args ...any) {
		out = append(out, Problem{Severity: Error, Summary: summary, Detail: fmt.Sprintf(detail, args...)})
	}
	warnf := func(summary, detail string, args ...any) {
		out = append(out, Problem{Severity: Warning, Summary: summary, Detail: fmt.Sprintf(detail, args...)})
	}
	if ev.before.Kmod == nil && ev.before.DKMS == nil {
		warnf("OpenZFS is not installed", "neither kmod-zfs nor zfs-dkms is installed: no kernel is judged for ZFS (run zfsinstall apply first)")
		return out
	}
	way := "kernel.hold (on by default) keeps dnf from installing it: run `zfsinstall apply`, or `zfsinstall hold` where the hold is on"
	if ev.f.Files[HoldFile] != "" {
		way = "the kernel hold has not caught up with the repositories yet: run `zfsinstall hold` before `dnf upgrade`"
	}
	next := ev.nextBoot()
	// The newest kernel ZFS works on now, and after the update (oldest first).
	worksNow, worksAfter := "", ""
	var removed, kept []string
	for _, k := range ev.kernels {
		switch k.State {
		case Removes:
			removed = append(removed, k.Release)
		case Kept, Installs:
			kept = append(kept, k.Release)
			if k.Judged && k.Works {
				worksAfter = k.Release
			}
		}
		if k.WorksNow {
			worksNow = k.Release
		}
		if !k.Judged {
			continue
		}
		fail, _ := backends.FirstFailure(k.Findings)
		switch k.State {
		case Installs:
			if !k.Works {
				errorf("dnf would install kernel "+k.Release+", and ZFS would not work on it",
					"%s. Booting it leaves the pools unimported; %s", fail.Detail, way)
			}
		case Kept:
			switch {
			case k.Works:
			case k.Release == next:
				errorf("after the update ZFS would not work on kernel "+k.Release+", the next boot",
					"%s: the %s it installs does not fit this kernel; hold %s back (zfs.version) until it is published for this kernel", fail.Detail, r.Module.Package, r.Module.Package)
			case k.Running:
				warnf("after the update ZFS would not work on kernel "+k.Release+", the running one",
					"%s. The loaded module keeps working until the next boot, which goes to %s; choosing this kernel at the boot menu would come up without ZFS", fail.Detail, next)
			default:
				warnf("after the update ZFS would not work on kernel "+k.Release, "%s", fail.Detail)
			}
		case Offered:
			if !k.Works && !ev.held(k.Release) {
				warnf("kernel "+k.Release+" is offered and ZFS would not work on it",
					"%s. dnf would not install it in this update, but a later one may: %s", fail.Detail, way)
			}
		}
	}
	if len(removed) > 0 {
		detail := fmt.Sprintf("installonly_limit=%d: dnf removes %s and keeps %s (it never removes the running kernel)", r.InstallonlyLimit, strings.Join(removed, ", "), strings.Join(kept, ", "))
		switch {
		case worksAfter == "":
			errorf("after the update no installed kernel would have a working ZFS", "%s. Hold the new kernel back (kernel.hold) or raise installonly_limit in /etc/dnf/dnf.conf", detail)
		case worksNow != "" && slices.Contains(removed, worksNow) && compareKernels(worksAfter, worksNow) < 0:
			errorf("dnf would remove kernel "+worksNow+", the newest kernel ZFS works on", "%s; the newest kernel ZFS would work on after it is %s. Raise installonly_limit in /etc/dnf/dnf.conf, or hold the new kernel back (kernel.hold)", detail, worksAfter)
		default:
			out = append(out, Problem{Severity: Warning, Summary: "dnf would remove " + strings.Join(removed, ", "), Detail: detail + "; ZFS works on " + worksAfter + " after the update"})
		}
	} else if worksAfter == "" && len(kept) > 0 {
		errorf("after the update no installed kernel would have a working ZFS", "every kernel the host could boot fails a check above")
	}
	out = append(out, ev.openZFSProblems(r.Module)...)
	return out
}

// openZFSProblems judges an OpenZFS upgrade in the same update: a release
// with a known serious defect, a switch of branch (its libraries are
// renamed, its DKMS and kmod support differ), and the module that stays
// loaded until the next boot.
func (ev *evaluation) openZFSProblems(m Module) []Problem {
	if m.From == m.To || m.To == "" {
		return nil
	}
	var out []Problem
	to := backends.Short(m.To)
	for _, a := range catalog.Unaccepted(to, nil) {
		sev := Error
		if a.Severity != catalog.SeverityError {
			sev = Warning
		}
		out = append(out, Problem{Severity: sev, Summary: fmt.Sprintf("the update brings OpenZFS %s, which has advisory %s", to, a.ID),
			Detail: a.Impact + " (" + a.Source + "); hold OpenZFS at " + backends.Short(m.From) + " with zfs.version until a fixed release is offered"})
	}
	if branch(m.From) != branch(m.To) {
		out = append(out, Problem{Severity: Warning, Summary: fmt.Sprintf("the update moves OpenZFS from the %s branch to %s", branch(m.From), branch(m.To)),
			Detail: "a new branch renames the libraries (libzfs5 on 2.2, libzfs6 on 2.3, libzfs7 on 2.4) and changes which kernels its module supports; pin zfs.version (or zfs.repo = \"" + branch(m.From) + "\") to stay on the branch"})
	}
	out = append(out, Problem{Severity: Warning, Summary: fmt.Sprintf("%s %s -> %s: the loaded module stays %s until the next boot", m.Package, m.From, m.To, backends.Short(m.From)),
		Detail: "userland and module must be the same version (`zfs send` fails with \"invalid argument\" otherwise, openzfs/zfs#18559): reboot after the update, or reload the module when no pool is imported"})
	return out
}

func (ev *evaluation) held(rel string) bool {
	return slices.Contains(HeldReleases(ev.f.Files[HoldFile]), rel)
}

// nextBoot is the kernel the host boots after the update (decided in
// evaluate, before the kernels are judged: it is always judged).
func (ev *evaluation) nextBoot() string { return ev.next }

func branch(v string) string {
	parts := strings.SplitN(backends.Short(v), ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}
