package apply

import (
	"fmt"

	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/repos"
)

// repoKind sets one section's enabled= line; every other byte of the file
// is kept and the file is replaced atomically.
type repoKind struct{}

func (repoKind) satisfied(a *applier, st planner.Step) (bool, error) {
	r := st.Repo
	if r == nil {
		return false, missingPayload(st)
	}
	s, err := section(a, r.Path, r.Section)
	return err == nil && s.Enabled == r.Enabled, err
}

func (repoKind) do(a *applier, st planner.Step) error { return editRepo(a, st) }

// holdKind sets (or removes) a section's includepkgs= hold.
type holdKind struct{}

func (holdKind) satisfied(a *applier, st planner.Step) (bool, error) {
	hs := st.Hold
	if hs == nil {
		return false, missingPayload(st)
	}
	s, err := section(a, hs.Path, hs.Section)
	return err == nil && s.Include == hs.Pattern, err
}

func (holdKind) do(a *applier, st planner.Step) error { return editRepo(a, st) }

// optionKind sets one option of a section (baseurl for a mirror, gpgkey
// for a minor-release $releasever, gpgcheck=1).
type optionKind struct{}

func (optionKind) satisfied(a *applier, st planner.Step) (bool, error) {
	o := st.Option
	if o == nil {
		return false, missingPayload(st)
	}
	rf, err := repos.Read(a.h, o.Path)
	if err != nil {
		return false, err
	}
	v, ok, err := rf.Option(o.Section, o.Key)
	return err == nil && ok && v == o.Value, err
}

func (optionKind) do(a *applier, st planner.Step) error { return editRepo(a, st) }

// repoEdit returns the repo file a repo, hold or option step edits and the
// edit itself; ok is false for other steps. The preflight applies the same
// edits to a copy, to ask the repositories as the plan leaves them.
func repoEdit(st planner.Step) (path string, edit func(*repos.File) error, ok bool) {
	switch {
	case st.Kind == planner.KindRepo && st.Repo != nil:
		return st.Repo.Path, func(rf *repos.File) error {
			_, err := rf.SetEnabled(st.Repo.Section, st.Repo.Enabled)
			return err
		}, true
	case st.Kind == planner.KindHold && st.Hold != nil:
		return st.Hold.Path, func(rf *repos.File) error {
			_, err := rf.SetOption(st.Hold.Section, "includepkgs", st.Hold.Pattern)
			return err
		}, true
	case st.Kind == planner.KindOption && st.Option != nil:
		return st.Option.Path, func(rf *repos.File) error {
			_, err := rf.SetOption(st.Option.Section, st.Option.Key, st.Option.Value)
			return err
		}, true
	}
	return "", nil, false
}

func editRepo(a *applier, st planner.Step) error {
	path, edit, _ := repoEdit(st)
	rf, err := repos.Read(a.h, path)
	if err != nil {
		return err
	}
	if err := edit(rf); err != nil {
		return err
	}
	return repos.Write(a.h, path, rf)
}

// section reads a repo section as it is on the host now.
func section(a *applier, path, id string) (repos.Section, error) {
	rf, err := repos.Read(a.h, path)
	if err != nil {
		return repos.Section{}, err
	}
	for _, s := range rf.Sections() {
		if s.ID == id {
			return s, nil
		}
	}
	return repos.Section{}, fmt.Errorf("%s has no [%s] section; the installed zfs-release does not offer it", path, id)
}

// missingPayload refuses a step whose kind's payload is absent.
func missingPayload(st planner.Step) error {
	return fmt.Errorf("step %s of kind %s carries no %s payload: this plan was not made by zfsinstall; run zfsinstall plan again", st.ID, st.Kind, st.Kind)
}
