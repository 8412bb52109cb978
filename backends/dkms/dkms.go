// Package dkms is the DKMS backend: zfs-dkms ships the module source and
// dkms builds it on the host for each kernel, against its exact kernel-devel.
package dkms

import (
	"context"
	"fmt"

	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/spec"
)

// Backend is the DKMS packaging.
type Backend struct{}

// Name implements backends.Backend.
func (Backend) Name() spec.Packaging { return spec.PackagingDKMS }

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

// Build implements backends.Backend: `dkms install` for one kernel, skipped
// when dkms already reports it installed.
func (Backend) Build(ctx context.Context, c *pkgmgr.Client, version, kver string) error {
	if c.DKMSState(version, kver) == "installed" {
		return nil
	}
	return c.DKMSInstall(ctx, version, kver)
}
