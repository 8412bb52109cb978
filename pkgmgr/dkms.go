package pkgmgr

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
)

// ParseDKMSStatus reads `dkms status` in both the DKMS 3 form
// ("zfs/2.2.7, 6.1.80-1.el9.elrepo.x86_64, x86_64: installed") and the DKMS 2
// form ("zfs, 2.2.7, 6.1.80-1.el9.elrepo.x86_64, x86_64: installed").
func ParseDKMSStatus(out []byte) []facts.DKMSEntry {
	var entries []facts.DKMSEntry
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		i := strings.LastIndex(line, ": ")
		if i < 0 {
			continue
		}
		head, state := line[:i], strings.TrimSpace(line[i+2:])
		fields := strings.Split(head, ", ")
		if m, v, ok := strings.Cut(fields[0], "/"); ok {
			fields = append([]string{m, v}, fields[1:]...)
		}
		e := facts.DKMSEntry{Module: fields[0]}
		if st := strings.Fields(state); len(st) > 0 {
			e.State = st[0]
		}
		if len(fields) > 1 {
			e.Version = fields[1]
		}
		if len(fields) > 2 {
			e.Kernel = fields[2]
		}
		entries = append(entries, e)
	}
	return entries
}

// DKMSStatus returns dkms's entries for the zfs module (all versions and
// kernels); nil when dkms cannot be asked.
func (c *Client) DKMSStatus(ctx context.Context) []facts.DKMSEntry {
	res, err := c.run(ctx, host.InRoot(c.h, "dkms", "status", "-m", "zfs"))
	if err != nil {
		return nil
	}
	return ParseDKMSStatus(res.Stdout)
}

// DKMSState returns dkms's view of zfs/version on kver ("installed",
// "built", "added" or "").
func (c *Client) DKMSState(ctx context.Context, version, kver string) string {
	res, err := c.run(ctx, host.InRoot(c.h, "dkms", "status", "-m", "zfs", "-v", version, "-k", kver))
	if err != nil {
		return ""
	}
	for _, e := range ParseDKMSStatus(res.Stdout) {
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
