package apply

import (
	"fmt"

	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/planner"
)

// dkmsKind builds and installs the module for one kernel, then proves with
// modinfo that the module is there: a DKMS build can "succeed" without one.
type dkmsKind struct{}

func (dkmsKind) satisfied(a *applier, st planner.Step) (bool, error) {
	if st.DKMS == nil {
		return false, missingPayload(st)
	}
	ver, err := dkmsVersion(a, st)
	if err != nil {
		return false, err
	}
	return a.c.DKMSState(ver, st.DKMS.Kernel) == "installed", nil
}

func (dkmsKind) do(a *applier, st planner.Step) error {
	ver, err := dkmsVersion(a, st)
	if err != nil {
		return err
	}
	if err := a.b.Build(a.ctx, a.c, ver, st.DKMS.Kernel); err != nil {
		return fmt.Errorf("building zfs %s for %s: %w", ver, st.DKMS.Kernel, err)
	}
	return backends.VerifyModule(a.ctx, a.h, st.DKMS.Kernel, ver)
}

// dkmsVersion is the zfs-dkms version to build: the planned one, or the
// one the package transaction installed.
func dkmsVersion(a *applier, st planner.Step) (string, error) {
	if st.DKMS.Version != "" {
		return st.DKMS.Version, nil
	}
	pkgs, err := a.c.Installed(a.ctx, "zfs-dkms")
	if err != nil {
		return "", err
	}
	p, ok := pkgmgr.Newest(pkgs)["zfs-dkms"]
	if !ok {
		return "", fmt.Errorf("zfs-dkms is not installed, so there is nothing for dkms to build")
	}
	return p.Version, nil
}
