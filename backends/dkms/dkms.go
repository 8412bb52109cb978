// Package dkms is the DKMS backend: zfs-dkms ships the module source and
// dkms builds it on the host for each kernel, against its exact kernel-devel.
package dkms

import (
	"context"
	"errors"
	"fmt"

	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
)

// Backend is the DKMS packaging.
type Backend struct{}

// Name implements backends.Backend.
func (Backend) Name() string { return "dkms" }

// ModulePackage implements backends.Backend.
func (Backend) ModulePackage() string { return "zfs-dkms" }

// KmodRepos implements backends.Backend.
func (Backend) KmodRepos() bool { return false }

// NeedsDevel implements backends.Backend: dkms compiles against kernel-devel.
func (Backend) NeedsDevel() bool { return true }

// NeedsEPEL implements backends.Backend: dkms itself comes from EPEL on EL.
func (Backend) NeedsEPEL() bool { return true }

// Supports implements backends.Backend. DKMS builds for any kernel whose
// devel package can be had; whether this release builds on this kernel
// version is the compatibility pre-flight's job.
func (Backend) Supports(d facts.Distro, k catalog.KernelInfo) (bool, string) {
	return true, fmt.Sprintf("DKMS builds the module on this host for kernel %s against its exact kernel-devel", k.Release)
}

// Status returns dkms's view of zfs/version on kver ("installed", "built",
// "added" or "").
func Status(ctx context.Context, h host.Host, version, kver string) string {
	res, err := h.Run(ctx, host.Cmd{Argv: facts.InRoot(h, "dkms", "status", "-m", "zfs", "-v", version, "-k", kver)})
	if err != nil {
		return ""
	}
	for _, e := range facts.ParseDKMSStatus(res.Stdout) {
		if e.Version == version && (e.Kernel == kver || e.Kernel == "") {
			return e.State
		}
	}
	return ""
}

// MakeLog is where dkms leaves the compiler output of a build.
func MakeLog(version string) string { return "/var/lib/dkms/zfs/" + version + "/build/make.log" }

// Build implements backends.Backend: `dkms install` for one kernel, skipped
// when dkms already reports it installed. On failure the error carries the
// tail of make.log, which is where the real cause is.
func (Backend) Build(ctx context.Context, h host.Host, version, kver string) error {
	if Status(ctx, h, version, kver) == "installed" {
		return nil
	}
	_, err := h.Run(ctx, host.Cmd{Argv: facts.InRoot(h, "dkms", "install", "-m", "zfs", "-v", version, "-k", kver)})
	if err == nil {
		return nil
	}
	var ce *host.CmdError
	if errors.As(err, &ce) {
		if log, rerr := h.ReadFile(MakeLog(version)); rerr == nil {
			return fmt.Errorf("%w\nlast lines of %s:\n%s", err, MakeLog(version), host.Tail(log, 15))
		}
	}
	return err
}
