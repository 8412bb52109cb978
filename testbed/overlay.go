package testbed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// The root's userland. A bed root is an EL9 install root whose /usr is an overlay: the
// machine's Debian /usr read-only below, the root's own files above. So the programs EL's
// packages call (bash, coreutils, sed, gawk, find, make, gcc, binutils, openssl, xz, ...) are
// the machine's real ones, and the tools the bed's EL packages ship (kmod's depmod/modinfo/
// modprobe, systemd-udev's kernel-install, dkms) are Debian's real ones copied into those
// packages (tools.go: realTools). What rpm installs, changes or erases in the root lands in the
// upper layer only; the machine's /usr is never written (the overlay's lower layer is
// read-only by construction).
//
// The upper layer starts with whiteouts and opaque directories for everything an EL package
// of the bed owns, so that a root without that package does not have the machine's copy:
// /usr/lib/modules (the machine's kernels), /usr/lib/kernel (Debian's kernel-install
// plugins), /usr/lib/dkms, /usr/lib/dracut, and the files listed in hiddenFiles. /proc is
// mounted and /dev has the basic nodes, as in an installer's target root (mountProcDev).

// opaqueDirs hide the machine's directory of the same name entirely.
var opaqueDirs = []string{"lib/modules", "lib/kernel", "lib/dkms", "lib/dracut", "src/kernels"}

// hiddenFiles are the machine's files that the root has only when the EL package owning them
// is installed (kmod, systemd-udev, dkms, dracut, grubby), or never (Debian's own helpers).
var hiddenFiles = []string{
	"bin/kmod", "sbin/depmod", "sbin/modinfo", "sbin/modprobe", "sbin/insmod", "sbin/rmmod", "sbin/lsmod",
	"bin/kernel-install", "sbin/dkms", "bin/dracut", "bin/lsinitrd", "bin/dracut-catimages",
	"sbin/weak-modules", "sbin/grubby", "sbin/update-initramfs", "sbin/mkinitramfs",
}

// overlayDirs are where a root's overlay lives: upper and work beside the root.
func overlayDirs(root string) (upper, work string) {
	return root + ".usr-upper", root + ".usr-work"
}

// mountUserland mounts the overlay on root/usr, creating the upper layer's whiteouts first.
func mountUserland(root string) error {
	upper, work := overlayDirs(root)
	for _, d := range []string{upper, work, filepath.Join(root, "usr")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for _, d := range opaqueDirs {
		p := filepath.Join(upper, d)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		if err := unix.Setxattr(p, "trusted.overlay.opaque", []byte("y"), 0); err != nil {
			return fmt.Errorf("marking %s opaque: %w", d, err)
		}
	}
	for _, f := range hiddenFiles {
		p := filepath.Join(upper, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := unix.Mknod(p, unix.S_IFCHR, 0); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("whiteout %s: %w", f, err)
		}
	}
	opts := "lowerdir=/usr,upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", filepath.Join(root, "usr"), "overlay", 0, opts); err != nil {
		return fmt.Errorf("mounting the root's /usr (overlay %s): %w; the test bed needs root with CAP_SYS_ADMIN", opts, err)
	}
	return mountProcDev(root)
}

// mountProcDev gives the root what an installer's target root has while it runs %post or an
// installer-root tool: /proc mounted and the basic device nodes. Real dkms needs both ("dkms
// will not function properly if /proc is not mounted"; its process substitutions read
// /dev/fd). /dev holds nodes made with mknod, not a bind mount of the machine's /dev, so
// nothing removing the root can reach the machine's devices.
func mountProcDev(root string) error {
	dev := filepath.Join(root, "dev")
	if err := os.MkdirAll(dev, 0o755); err != nil {
		return err
	}
	for _, n := range []struct {
		name         string
		major, minor uint32
	}{{"null", 1, 3}, {"zero", 1, 5}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}} {
		p := filepath.Join(dev, n.name)
		if err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(n.major, n.minor))); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("making %s: %w", p, err)
		}
		os.Chmod(p, 0o666)
	}
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	proc := filepath.Join(root, "proc")
	if err := os.MkdirAll(proc, 0o555); err != nil {
		return err
	}
	if err := unix.Mount("proc", proc, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mounting /proc in the root: %w", err)
	}
	return nil
}

// unmountUserland unmounts what mountUserland mounted and anything mounted below the root
// (/proc, /dev of a dkms chroot). A busy mount is detached lazily.
func unmountUserland(root string) error {
	below, err := mountsBelow(root)
	if err != nil {
		return err
	}
	var errs []error
	for i := len(below) - 1; i >= 0; i-- {
		if err := unix.Unmount(below[i], 0); err != nil {
			if err := unix.Unmount(below[i], unix.MNT_DETACH); err != nil {
				errs = append(errs, fmt.Errorf("unmounting %s: %w", below[i], err))
			}
		}
	}
	return errors.Join(errs...)
}

// mountsBelow lists the mount points at root or below it, in the order they were mounted.
func mountsBelow(root string) ([]string, error) {
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return nil, err
	}
	var below []string
	for _, l := range strings.Split(string(mounts), "\n") {
		f := strings.Fields(l)
		if len(f) > 1 && (f[1] == root || strings.HasPrefix(f[1], root+"/")) {
			below = append(below, f[1])
		}
	}
	return below, nil
}
