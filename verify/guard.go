package verify

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/backends/kmod"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/planner"
)

// Guard says whether ZFS, as installed on h, would work after booting kver.
// It returns the checks made; any failed check means the next boot into
// kver would come up without ZFS.
func Guard(ctx context.Context, h host.Host, f *facts.Facts, kver string) Report {
	r := Report{OK: true}
	add := func(name string, ok bool, detail string) {
		r.OK = r.OK && ok
		r.Checks = append(r.Checks, Check{Name: name, OK: ok, Detail: detail})
	}
	k := catalog.ClassifyKernel(kver, f.Kernel.Owner(kver))
	zfsPkg, hasZFS := f.Installed("zfs")
	if !hasZFS {
		add("zfs installed", false, "zfs is not installed: nothing to guard (run zfsinstall apply first)")
		return r
	}
	_, hasKmod := f.Installed("kmod-zfs")
	_, hasDKMS := f.Installed("zfs-dkms")
	if !hasKmod && !hasDKMS {
		add("module package installed", false, "zfs "+zfsPkg.Version+" is installed but neither kmod-zfs nor zfs-dkms: no package provides the kernel module; run zfsinstall apply")
		return r
	}
	if hasKmod {
		ok, why := kmod.Backend{}.Supports(f.Distro, k)
		add("kmod fits kernel", ok, why)
		if !ok {
			return r
		}
		built := kmodMinors(h)
		has := false
		for _, m := range built {
			has = has || m == k.ELMinor
		}
		builtFor := "EL " + strings.Join(built, ", EL ")
		if len(built) == 0 {
			builtFor = "no EL minor release (no kmod-zfs module found under /lib/modules/*/extra)"
		}
		add("kmod published for EL "+k.ELMinor, has, fmt.Sprintf("the installed kmod-zfs is built for %s; kernel %s is EL %s", builtFor, kver, k.ELMinor)+
			map[bool]string{true: "", false: ": no kmod-zfs exists for this minor yet; keep booting the current kernel (exclude kernel* updates or versionlock the kernel) until OpenZFS publishes one, or switch to packaging = \"dkms\""}[has])
	}
	if hasDKMS {
		p, _ := f.Installed("zfs-dkms")
		err := backends.CheckKernel(p.Version, k, nil)
		add("OpenZFS "+p.Version+" supports Linux "+k.Upstream, err == nil, errText(err, "within the release's Linux-Minimum/Maximum"))
		want := planner.DevelNVRA(k)
		devel := false
		for _, q := range f.Packages {
			devel = devel || q.NVRA() == want
		}
		add("kernel-devel for "+kver, devel, map[bool]string{true: want + " installed: dkms can build at kernel install", false: want + " is not installed: dkms cannot build the module for this kernel; install it (it provides kernel-devel-uname-r = " + kver + ")"}[devel])
	}
	if host.Exists(h, "/lib/modules/"+kver) {
		got := backends.ModuleOnDisk(ctx, h, kver)
		add("module on disk for "+kver, got != "" && backends.SameVersion(got, zfsPkg.Version),
			fmt.Sprintf("modinfo -k %s zfs: %s (userland %s)", kver, orNoneS(got), zfsPkg.Version))
	}
	return r
}

func errText(err error, ok string) string {
	if err != nil {
		return err.Error()
	}
	return ok
}

// kmodMinors lists the EL minors the installed kmod-zfs modules were built
// for, from where kmod-zfs puts them (/lib/modules/<build kernel>/extra).
func kmodMinors(h host.Host) []string {
	seen := map[string]bool{}
	for _, pat := range []string{"/lib/modules/*/extra/zfs.ko*", "/lib/modules/*/extra/zfs/zfs.ko*"} {
		matches, _ := h.Glob(pat)
		for _, m := range matches {
			kv := strings.TrimPrefix(m, "/lib/modules/")
			kv = kv[:strings.IndexByte(kv, '/')]
			if info := catalog.ClassifyKernel(kv, ""); info.ELMinor != "" {
				seen[info.ELMinor] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}
