package apply

import (
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
	verb := "disable"
	if st.Service.Enabled {
		verb = "enable"
	}
	argv := []string{"systemctl"}
	if a.h.Root() != "/" {
		argv = append(argv, "--root", a.h.Root())
	}
	_, err := a.run(append(argv, verb, st.Service.Unit)...)
	return err
}
