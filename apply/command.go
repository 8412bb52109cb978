package apply

import (
	"strings"

	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/planner"
)

// commandKind runs one program the planner chose (dracut, mokutil) inside
// the managed root. Without a check command it is done once it ran.
type commandKind struct{}

func (commandKind) satisfied(a *applier, st planner.Step) (bool, error) {
	c := st.Command
	if c == nil {
		return false, missingPayload(st)
	}
	if c.Creates != "" {
		return host.Exists(a.h, c.Creates), nil
	}
	if len(c.CheckArgv) > 0 && !a.done[st.ID] {
		res, _ := a.run(host.InRoot(a.h, c.CheckArgv...)...)
		return strings.Contains(string(res.Stdout)+string(res.Stderr), c.CheckOutput), nil
	}
	return a.done[st.ID], nil
}

func (commandKind) do(a *applier, st planner.Step) error {
	if _, err := a.run(host.InRoot(a.h, st.Command.Argv...)...); err != nil {
		return err
	}
	a.done[st.ID] = true
	return nil
}
