package views

import (
	"fmt"
	"io"

	"github.com/zfsinstall/zfsinstall/facts"
)

// Facts prints facts for people. (facts --json prints the Facts value
// itself with JSON: it is what plan --facts reads.)
func Facts(w io.Writer, f *facts.Facts) {
	fmt.Fprintf(w, "distro:        %s (id %s, version %s, family %s)\n", f.Distro.Name, f.Distro.ID, f.Distro.VersionID, f.Distro.Family)
	fmt.Fprintf(w, "kernel:        running %s, target %s (%s%s, EL minor %s)\n", f.Kernel.Running, f.Kernel.Target, f.Kernel.Flavor, variant(string(f.Kernel.Variant)), orDash(f.Kernel.ELMinor))
	for _, k := range f.Kernel.Installed {
		fmt.Fprintf(w, "  installed:   %s (%s, %s)\n", k.Release, k.Package, k.Flavor)
	}
	fmt.Fprintf(w, "zfs:           userland %s, module on disk %s, loaded %s\n", orDash(f.ZFS.Userland), orDash(f.ZFS.ModuleOnDisk), orDash(f.ZFS.ModuleLoaded))
	fmt.Fprintf(w, "secure boot:   %s\nchroot:        %v\n", f.SecureBoot, f.Chroot)
	fmt.Fprintln(w, "packages:")
	for _, p := range f.Packages {
		fmt.Fprintf(w, "  %s\n", p.NVRA())
	}
	fmt.Fprintln(w, "repos:")
	for _, r := range f.Repos {
		fmt.Fprintf(w, "  %-24s enabled=%s  %s\n", r.ID, map[bool]string{true: "1", false: "0"}[r.Enabled], r.File)
	}
	if !f.Available.Known {
		fmt.Fprintf(w, "available:     unknown (%s)\n", f.Available.Reason)
	} else {
		fmt.Fprintln(w, "available:")
		for _, p := range f.Available.Packages {
			fmt.Fprintf(w, "  %s (%s)\n", p.NVRA(), p.Repo)
		}
	}
}

func variant(v string) string {
	if v == "" {
		return ""
	}
	return "+" + v
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
