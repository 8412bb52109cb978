package views

import (
	"bytes"
	"strings"
	"testing"

	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/update"
)

func TestUpdateHuman(t *testing.T) {
	const kNew, kOld = "5.14.0-570.17.1.el9_6.x86_64", "5.14.0-427.13.1.el9_4.x86_64"
	r := &update.Report{
		Changes: []pkgmgr.Change{{Action: "install", Name: "kernel-core", Arch: "x86_64", Version: "5.14.0-570.17.1.el9_6", Repo: "baseos"}},
		Others:  3,
		Module:  update.Module{Package: "kmod-zfs", From: "2.2.8-1.el9", To: "2.2.8-1.el9"},
		Kernels: []update.Kernel{
			{Release: kOld, State: update.Kept, Running: true, Default: true, Judged: true, Works: true, WorksNow: true},
			{Release: kNew, State: update.Installs, Judged: true, Findings: []backends.Finding{
				{ID: "kmod-kabi-fits", Made: true, Detail: "symbols differ"},
				{ID: "kmod-module-layout", OK: true, Detail: "not on the disk yet"},
			}},
		},
		InstallonlyLimit: 3,
		Hold:             update.HoldState{Enabled: true, Held: []update.HeldKernel{}, Evaluated: []update.HeldKernel{{Release: kNew}}},
		Problems:         []update.Problem{{Severity: update.Error, Summary: "dnf would install kernel " + kNew + ", and ZFS would not work on it", Detail: "symbols differ"}},
	}
	var out bytes.Buffer
	NewUpdate(false, Streams{Out: &out, Err: &out}, "check-update").Report(r, 1)
	for _, want := range []string{
		"  + kernel-core 5.14.0-570.17.1.el9_6 x86_64 (install)\n  and 3 other packages\n",
		"Kernels, judged with kmod-zfs 2.2.8-1.el9 (unchanged by the update):\n",
		"  " + kOld + "       kept,running,default ZFS works\n",
		"      [FAIL] kmod-kabi-fits: symbols differ\n      [wait] kmod-module-layout: not on the disk yet\n",
		"Kernel hold: on; no kernel held.\nKernel hold: out of date; re-evaluated now it would hold [" + kNew + "]: run zfsinstall hold.\n",
		"  error: dnf would install kernel " + kNew,
		"\nNOT safe: 1 error, 0 warnings. Do not run dnf upgrade before they are resolved.\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
