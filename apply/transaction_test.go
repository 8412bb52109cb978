package apply

import (
	"testing"

	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/planner"
)

// TestAcceptEarly: the transaction dnf resolved with the OpenZFS version left to it stands
// for the pinned one only when dnf installs every OpenZFS package of the transaction at
// exactly the version the planner's rule resolved.
func TestAcceptEarly(t *testing.T) {
	zfs := []planner.Step{{Package: &planner.PackageStep{Name: "zfs", ZFS: true}}, {Package: &planner.PackageStep{Name: "kmod-zfs", ZFS: true}}}
	row := func(action, name, version string) pkgmgr.Change {
		return pkgmgr.Change{Action: action, Name: name, Arch: "x86_64", Version: version, Repo: "zfs-kmod"}
	}
	tests := map[string]struct {
		changes []pkgmgr.Change
		zfs     []planner.Step
		want    bool
	}{
		"both at the version":                  {[]pkgmgr.Change{row("install", "zfs", "2.2.8-1.el9"), row("install", "kmod-zfs", "2.2.8-1.el9"), row("install", "libzfs5", "2.2.8-1.el9")}, zfs, true},
		"an upgrade to it":                     {[]pkgmgr.Change{row("upgrade", "zfs", "2.2.8-1.el9"), row("upgrade", "kmod-zfs", "2.2.8-1.el9")}, zfs, true},
		"another version":                      {[]pkgmgr.Change{row("install", "zfs", "2.2.7-1.el9"), row("install", "kmod-zfs", "2.2.7-1.el9")}, zfs, false},
		"a package dnf leaves alone":           {[]pkgmgr.Change{row("install", "kmod-zfs", "2.2.8-1.el9")}, zfs, false},
		"removed, not installed":               {[]pkgmgr.Change{row("remove", "zfs", "2.2.8-1.el9"), row("install", "kmod-zfs", "2.2.8-1.el9")}, zfs, false},
		"a version that only starts the same":  {[]pkgmgr.Change{row("install", "zfs", "2.2.80-1.el9"), row("install", "kmod-zfs", "2.2.80-1.el9")}, zfs, false},
		"no OpenZFS package: the same request": {[]pkgmgr.Change{row("install", "kernel-devel", "5.14.0-427.13.1.el9_4")}, nil, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := acceptEarly(tc.changes, tc.zfs, "2.2.8"); got != tc.want {
				t.Errorf("acceptEarly = %v, want %v", got, tc.want)
			}
		})
	}
}
