package apply

import (
	"io/fs"

	"github.com/zfsinstall/zfsinstall/planner"
)

// fileKind writes a small file whole and atomically, or removes it.
type fileKind struct{}

func (fileKind) satisfied(a *applier, st planner.Step) (bool, error) {
	f := st.File
	if f == nil {
		return false, missingPayload(st)
	}
	data, err := a.h.ReadFile(f.Path)
	if st.Action == planner.Delete {
		return err != nil, nil
	}
	return err == nil && string(data) == f.Content, nil
}

func (fileKind) do(a *applier, st planner.Step) error {
	f := st.File
	if st.Action == planner.Delete {
		return a.h.Remove(f.Path)
	}
	mode := fs.FileMode(0o644)
	if f.Mode != 0 {
		mode = fs.FileMode(f.Mode)
	}
	return a.h.WriteFile(f.Path, []byte(f.Content), mode)
}
