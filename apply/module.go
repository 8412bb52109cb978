package apply

import (
	"fmt"
	"strings"

	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/planner"
)

// moduleKind loads the zfs module, unloading a stale one first.
type moduleKind struct{}

func (moduleKind) satisfied(a *applier, st planner.Step) (bool, error) {
	if st.Module == nil {
		return false, missingPayload(st)
	}
	b, err := a.h.ReadFile("/sys/module/zfs/version")
	if err != nil {
		return false, nil
	}
	userland, err := a.userland()
	if err != nil {
		return false, err
	}
	return userland == "" || backends.SameVersion(strings.TrimSpace(string(b)), userland), nil
}

func (moduleKind) do(a *applier, st planner.Step) error {
	if st.Module.Reload {
		if _, err := a.run("modprobe", "-r", "zfs"); err != nil {
			return fmt.Errorf("unloading the old module (a pool may have been imported since plan): %w", err)
		}
	}
	_, err := a.run("modprobe", "zfs")
	return err
}
