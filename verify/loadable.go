package verify

import (
	"strings"

	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
)

// Loadable checks, from the files on the disk, that the installed
// kmod-zfs's module loads on the target kernel and on every other kernel
// with a boot entry: matching kernel(SYMBOL) CRCs are not enough
// (backends.CheckLoadable: the kernel's struct module, module_layout, a
// build kernel newer than the kernel, openzfs/zfs#17165, #17924, #14411).
// One check with a stable ID; false when there is nothing to check (no
// kmod-zfs, or its module is not on the disk).
func Loadable(h host.Host, f *facts.Facts) (Check, bool) {
	kmod, ok := f.Installed("kmod-zfs")
	if !ok {
		return Check{}, false
	}
	m := backends.KmodModuleABI(h, kmod.Version)
	if m == nil {
		return Check{}, false
	}
	c := Check{ID: "module-loadable", Name: "module loads on the bootable kernels", OK: true}
	var good, bad []string
	for _, ik := range f.Kernel.Installed {
		if ik.Release != f.Kernel.Target && !ik.BootEntry {
			continue
		}
		l := backends.CheckLoadable(*m, ik.Release, backends.ReadKernelABI(h, ik.Release))
		if fail, failed := backends.FirstFailure(l.Findings); failed {
			bad = append(bad, ik.Release+": "+fail.Detail)
			continue
		}
		good = append(good, ik.Release)
	}
	if len(good)+len(bad) == 0 {
		return Check{}, false
	}
	c.Detail = "kmod-zfs " + kmod.Version + " (" + m.File + ") loads on " + strings.Join(good, ", ")
	if len(bad) > 0 {
		c.OK = false
		c.Detail = "kmod-zfs " + kmod.Version + " would be refused by " + strings.Join(bad, "; ") + ". Boot a kernel it loads on, or switch to packaging = \"dkms\""
	}
	return c, true
}

// Add appends a check to the report, which it fails when the check failed.
func (r *Report) Add(c Check) {
	if !c.OK && !c.Skipped {
		r.OK = false
	}
	r.Checks = append(r.Checks, c)
}
