package planner

import (
	"strings"

	"github.com/zfsinstall/zfsinstall/catalog"
)

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// host refuses a distribution zfsinstall does not manage.
func (pl *planner) host() bool {
	d := pl.f.Distro
	if !d.Supported() {
		name := d.Name
		if name == "" {
			name = d.ID + " " + d.VersionID
		}
		pl.errorf("", "unsupported distribution: "+name,
			"zfsinstall manages OpenZFS on Enterprise Linux 7-10 (RHEL, Rocky Linux, AlmaLinux, Oracle Linux, CentOS Stream) and Fedora; "+
				"this host's /etc/os-release says ID=%q VERSION_ID=%q. On other distributions use their own OpenZFS packages.", d.ID, d.VersionID)
		return false
	}
	if a := pl.f.Arch; a != "" && a != "x86_64" && pl.s.ZFS.Mirror == "" {
		pl.errorf("", "OpenZFS publishes no packages for "+a,
			"the OpenZFS repositories (download.zfsonlinux.org) carry EL and Fedora packages for x86_64 only; on %s every request gets 403, and with skip_if_unavailable=False that makes every later dnf call on the host fail (openzfs/zfs#13266, #11089, #12463). "+
				"Nothing was changed. Build OpenZFS from source for %s (https://openzfs.github.io/openzfs-docs/Developer%%20Resources/Building%%20ZFS.html) into a repository laid out like download.zfsonlinux.org and name it with zfs.mirror.", a, a)
		return false
	}
	if _, ok := pl.f.Installed("dnf"); d.Major == 7 && !ok {
		pl.errorf("", "EL7 without dnf",
			"zfsinstall drives dnf, and EL %s ships yum. Install dnf from the extras repository first (yum install dnf dnf-plugins-core), then plan again; it uses zfs-release 2-3, the last release package for EL7. (EL7 is past the end of its maintenance; moving the host to EL8 or later is the lasting way out.)", d.VersionID)
		return false
	}
	return true
}

// targets resolves the kernels the module must work on.
func (pl *planner) targets() bool {
	k := pl.f.Kernel
	want := pl.s.Kernel.Target
	if pl.opts.Kernel != "" {
		want = pl.opts.Kernel
	}
	var rels []string
	switch want {
	case "", "running":
		if pl.f.Chroot && len(k.Installed) == 0 && pl.opts.Kernel == "" && k.Target == k.Running {
			pl.errorf("kernel.target", "no kernel installed in "+pl.f.Root,
				"inside a chroot or --root the target is the newest kernel in the root's rpm database, and there is none (`uname -r` here is %s, the machine's own kernel, not the one the root boots). Install a kernel in the root first, or name the target with --kernel RELEASE or kernel.target.", k.Running)
			return false
		}
		rels = []string{k.Target}
	case "default":
		if k.Default == "" {
			pl.warnf("kernel.target", "next boot's kernel unknown",
				"kernel.target = \"default\" but the default kernel could not be read (no grubby); planning for %s instead.", k.Target)
			rels = []string{k.Target}
		} else {
			rels = []string{k.Default}
		}
	case "all":
		for _, ik := range k.Installed {
			rels = append(rels, ik.Release)
		}
	default:
		if _, ok := pl.installedKernel(want); !ok {
			attr := "kernel.target"
			if pl.opts.Kernel != "" {
				attr = ""
			}
			var have []string
			for _, ik := range k.Installed {
				have = append(have, ik.Release)
			}
			pl.errorf(attr, "kernel "+want+" is not installed",
				"the target kernel must be installed in %s's rpm database: zfsinstall reads what it provides (its kABI), its boot entry and its devel package from there, and would otherwise prepare ZFS for a kernel that never boots. Installed: %s. Install the kernel first, or name one of those.",
				pl.f.Root, orNone(strings.Join(have, ", ")))
			return false
		}
		rels = []string{want}
	}
	if len(rels) == 0 || rels[0] == "" {
		pl.errorf("kernel.target", "no target kernel",
			"no kernel is installed under %s and `uname -r` gave nothing; install a kernel first or name one with --kernel RELEASE.", pl.f.Root)
		return false
	}
	for _, r := range rels {
		pl.kernels = append(pl.kernels, catalog.ClassifyKernel(r, pl.f.Kernel.Owner(r)))
	}
	pl.p.TargetKernel = rels[0]
	if len(rels) > 1 {
		pl.p.TargetKernels = rels
	}
	return true
}
