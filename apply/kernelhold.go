package apply

import (
	"errors"
	"io/fs"

	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/update"
)

// kernelHoldKind lifts the kernel hold (kernel.hold turned off).
type kernelHoldKind struct{}

// satisfied: the hold's record is gone (it goes last, after dnf.conf).
func (kernelHoldKind) satisfied(a *applier, _ planner.Step) (bool, error) {
	_, err := a.h.Stat(update.HoldFile)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	return false, err
}

func (kernelHoldKind) do(a *applier, _ planner.Step) error {
	_, err := update.Release(a.h)
	return err
}
