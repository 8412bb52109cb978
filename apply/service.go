package apply

import (
	"time"

	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/planner"
)

// serviceKind enables or disables a systemd unit; the wants symlinks are
// the state, so it reads the same on a live host, in a chroot or a root.
type serviceKind struct{}

func (serviceKind) satisfied(a *applier, st planner.Step) (bool, error) {
	s := st.Service
	if s == nil {
		return false, missingPayload(st)
	}
	links, _ := a.h.Glob("/etc/systemd/system/*.wants/" + s.Unit)
	return (len(links) > 0) == s.Enabled, nil
}

func (serviceKind) do(a *applier, st planner.Step) error {
	return a.systemctl(st.Service.Enabled, st.Service.Unit)
}

// systemctl enables or disables units in one call, once the unit
// directory it writes is checked to stay inside the root.
func (a *applier) systemctl(enable bool, units ...string) error {
	if err := a.h.CheckTool("systemctl", pkgmgr.SystemctlWrites()...); err != nil {
		return err
	}
	argv := []string{"systemctl"}
	if a.h.Root() != "/" {
		argv = append(argv, "--root", a.h.Root())
	}
	verb := "disable"
	if enable {
		verb = "enable"
	}
	_, err := a.run(append(append(argv, verb), units...)...)
	return err
}

// services carries out consecutive service steps with one systemctl call
// per verb instead of one per unit. Each step is still checked before (and
// skipped when its links are there) and verified after. systemctl changes
// nothing when one unit of a call fails (a unit file missing), so after a
// failed call each unit still to do gets a call of its own, and the error
// is the failing unit's.
func (a *applier) services(steps []planner.Step) error {
	var todo []planner.Step
	units := map[bool][]string{}
	for _, st := range steps {
		if done, err := a.check(serviceKind{}, st); err != nil {
			return err
		} else if done {
			continue
		}
		todo = append(todo, st)
		units[st.Service.Enabled] = append(units[st.Service.Enabled], st.Service.Unit)
	}
	if len(todo) == 0 {
		return nil
	}
	for _, st := range todo {
		a.hooks.Started(st)
	}
	start := time.Now()
	var batchErr error
	for _, enable := range []bool{false, true} {
		if len(units[enable]) > 0 && batchErr == nil {
			batchErr = a.systemctl(enable, units[enable]...)
		}
	}
	for _, st := range todo {
		if batchErr != nil && a.verified(serviceKind{}, st) != nil {
			if err := (serviceKind{}).do(a, st); err != nil {
				return &StepError{st, err}
			}
		}
		if err := a.verified(serviceKind{}, st); err != nil {
			return err
		}
		a.finished(st, time.Since(start).Round(time.Millisecond))
	}
	return nil
}
