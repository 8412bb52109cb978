package pkgmgr

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
)

// DKMSTree is the dkms tree's root, where dkms keeps every module version
// it was given and what it built and installed.
const DKMSTree = "/var/lib/dkms"

// DKMSStatus reads what `dkms status -m zfs` reports from the dkms tree
// itself, without running dkms (dell/dkms dkms.in: a version is added when
// $dkms_tree/zfs/VERSION exists, built for a kernel when
// VERSION/KVER/ARCH/module does, installed when the link
// $dkms_tree/zfs/kernel-KVER-ARCH points at VERSION/KVER/ARCH). Sorted by
// version, then kernel.
func (c *Client) DKMSStatus() []facts.DKMSEntry {
	base := DKMSTree + "/zfs"
	installed := map[string]bool{} // "VERSION/KVER/ARCH"
	links, _ := c.h.Glob(base + "/kernel-*")
	for _, l := range links {
		if target, err := c.h.Readlink(l); err == nil {
			installed[strings.TrimPrefix(path.Clean(target), base+"/")] = true
		}
	}
	var entries []facts.DKMSEntry
	versions, _ := c.h.Glob(base + "/*")
	sort.Strings(versions)
	for _, vdir := range versions {
		version := path.Base(vdir)
		if strings.HasPrefix(version, "kernel-") || version == "original_module" {
			continue
		}
		built, _ := c.h.Glob(vdir + "/*/*/module")
		sort.Strings(built)
		if len(built) == 0 {
			entries = append(entries, facts.DKMSEntry{Module: "zfs", Version: version, State: "added"})
			continue
		}
		for _, m := range built {
			karch := strings.TrimPrefix(path.Dir(m), vdir+"/") // KVER/ARCH
			kver := path.Dir(karch)
			state := "built"
			if installed[version+"/"+karch] {
				state = "installed"
			}
			entries = append(entries, facts.DKMSEntry{Module: "zfs", Version: version, Kernel: kver, State: state})
		}
	}
	return entries
}

// DKMSState returns the dkms tree's state of zfs/version on kver
// ("installed", "built", "added" or "").
func (c *Client) DKMSState(version, kver string) string {
	for _, e := range c.DKMSStatus() {
		if e.Version == version && (e.Kernel == kver || e.Kernel == "") {
			return e.State
		}
	}
	return ""
}

// DKMSMakeLog is where dkms leaves the compiler output of a build.
func DKMSMakeLog(version string) string { return "/var/lib/dkms/zfs/" + version + "/build/make.log" }

// DKMSInstall runs `dkms install` of zfs/version for one kernel (always
// with -k: the build is for the target kernel, not the one this runs on).
// On failure the error carries the tail of make.log, where the real cause is.
func (c *Client) DKMSInstall(ctx context.Context, version, kver string) error {
	_, err := c.run(ctx, host.InRoot(c.h, "dkms", "install", "-m", "zfs", "-v", version, "-k", kver))
	if err == nil {
		return nil
	}
	var ce *host.CmdError
	if errors.As(err, &ce) {
		if log, rerr := c.h.ReadFile(DKMSMakeLog(version)); rerr == nil {
			return fmt.Errorf("%w\nlast lines of %s:\n%s", err, DKMSMakeLog(version), host.Tail(log, 15))
		}
	}
	return err
}
