package verify

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
)

// A DKMS build that fails when a kernel is installed stops kernel-install
// before the guard's plugin (98) can hold the default back:
//
//   - dkms 3.2.0's kernel-install plugin (EPEL's 40-dkms.install,
//     dell/dkms redhat_kernel_install.d.in at v3.2.0) exits with the status
//     of `dkms kernel_postinst`, non-zero when the build fails;
//   - systemd 252's kernel-install (EL9's; Debian 12 ships the same
//     script, /usr/bin/kernel-install) exits at the first plugin that fails
//     ("[ $err -ne 0 ] && exit $err"), so 50-dracut, 90-loaderentry and
//     98-zfsinstall-guard never run, while 20-grub has already made the new
//     kernel the default. The test bed showed it with the real tools.
//
// So on DKMS hosts the guard runs twice: 39-zfsinstall-guard.install, after
// 20-grub and before 40-dkms, keeps the previous kernel the default until
// the build is done (HoldUntilBuilt), and 98-zfsinstall-guard.install,
// reached only when every plugin before it succeeded, makes the new kernel
// the default again once ZFS works on it (RestoreDefault). When the build
// fails, kernel-install stops and the previous kernel stays the default.

// heldMark records a default boot entry held back until a DKMS build: the
// kernel being installed and the kernel kept as the default. It lives in
// /run (tmpfs): a reboot in between forgets it, and the previous default
// simply stays.
const heldMark = "/run/zfsinstall/guard-held"

// HoldUntilBuilt keeps the previous kernel the default boot entry while
// DKMS builds for kver, on hosts whose module comes from zfs-dkms and when
// kver has become the default (20-grub.install with UPDATEDEFAULT=yes).
func HoldUntilBuilt(ctx context.Context, h host.Host, f *facts.Facts, kver string) Check {
	c := Check{ID: "hold-until-built", Name: "default boot entry until the DKMS build", OK: true}
	switch {
	case !hasPackage(f, "zfs-dkms"):
		c.Detail = "zfs-dkms is not installed: nothing is built when a kernel is installed"
		return c
	case f.Kernel.Default != kver:
		c.Detail = fmt.Sprintf("the default boot entry is %s, not %s: nothing to hold", orNoneS(f.Kernel.Default), kver)
		return c
	}
	prev := previousWorking(ctx, h, f, kver)
	if prev == "" {
		c.OK = false
		c.Detail = fmt.Sprintf("%s is the default boot entry and no other installed kernel has a working ZFS to keep as the default while DKMS builds for it", kver)
		return c
	}
	if err := setDefault(ctx, h, prev); err != nil {
		c.OK = false
		c.Detail = fmt.Sprintf("keeping %s the default while DKMS builds for %s failed: %v", prev, kver, err)
		return c
	}
	if err := writeMark(h, kver, prev); err != nil {
		c.OK = false
		c.Detail = fmt.Sprintf("%s is the default while DKMS builds for %s, but recording it failed: %v; make %s the default by hand once ZFS works on it", prev, kver, err, kver)
		return c
	}
	c.Detail = fmt.Sprintf("%s stays the default boot entry while DKMS builds for %s; 98-zfsinstall-guard.install makes %s the default once ZFS works on it, and if the build fails kernel-install stops before that, so %s stays the default", prev, kver, kver, prev)
	return c
}

// RestoreDefault makes kver the default boot entry again when
// HoldUntilBuilt held it back and ZFS now works on it (the guard passed).
// ok is false when nothing was held for kver.
func RestoreDefault(ctx context.Context, h host.Host, kver string) (Check, bool) {
	held, prev, err := readMark(h)
	if err != nil || held != kver {
		return Check{}, false
	}
	c := Check{ID: "hold-default", Name: "default boot entry"}
	if err := setDefault(ctx, h, kver); err != nil {
		c.Detail = fmt.Sprintf("ZFS works on %s, but making it the default boot entry again failed: %v (%s stays the default)", kver, err, prev)
		return c, true
	}
	if err := h.Remove(heldMark); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.Detail = fmt.Sprintf("%s is the default boot entry again, but removing %s failed: %v", kver, heldMark, err)
		return c, true
	}
	c.OK = true
	c.Detail = fmt.Sprintf("ZFS works on %s: it is the default boot entry again (%s was, while DKMS built for it)", kver, prev)
	return c, true
}

func writeMark(h host.Host, kver, prev string) error {
	if err := h.MkdirAll("/run/zfsinstall", 0o755); err != nil {
		return err
	}
	return h.WriteFile(heldMark, []byte(kver+" "+prev+"\n"), 0o644)
}

func readMark(h host.Host) (kver, prev string, err error) {
	b, err := h.ReadFile(heldMark)
	if err != nil {
		return "", "", err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return "", "", fmt.Errorf("%s: want two kernel releases", heldMark)
	}
	return f[0], f[1], nil
}

func hasPackage(f *facts.Facts, name string) bool {
	_, ok := f.Installed(name)
	return ok
}
