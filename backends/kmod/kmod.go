// Package kmod is the kABI-tracking kmod backend: kmod-zfs carries modules
// prebuilt upstream against one EL kernel, linked into later kernels by
// weak-modules when their kernel(SYMBOL) versions match. Matching is not
// promised across z-stream updates (openzfs/zfs#16219): each kernel is
// judged by its symbols (backends.FitKmod) and its files (CheckLoadable).
package kmod

import (
	"context"
	"fmt"

	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/spec"
)

// Backend is the kmod packaging.
type Backend struct{}

// Name implements backends.Backend.
func (Backend) Name() spec.Packaging { return spec.PackagingKmod }

// ModulePackage implements backends.Backend.
func (Backend) ModulePackage() string { return "kmod-zfs" }

// KmodRepos implements backends.Backend.
func (Backend) KmodRepos() bool { return true }

// NeedsDevel implements backends.Backend: nothing is compiled on the host.
func (Backend) NeedsDevel() bool { return false }

// NeedsEPEL implements backends.Backend.
func (Backend) NeedsEPEL() bool { return false }

// Build implements backends.Backend: the module arrives prebuilt.
func (Backend) Build(context.Context, *pkgmgr.Client, string, string) error { return nil }

// Supports implements backends.Backend: only the distribution's own kernels
// keep the kABI the modules were built against.
func (Backend) Supports(d facts.Distro, k catalog.KernelInfo) (bool, string) {
	notFound := fmt.Sprintf("it would end in `modprobe: FATAL: Module zfs not found in directory /lib/modules/%s`", k.Release)
	switch {
	case d.Family == facts.FamilyFedora:
		return false, "Fedora has no kABI-tracking kmod packages (zfs.repo for Fedora has no kmod sections)"
	case k.Flavor == catalog.FlavorELRepoLT || k.Flavor == catalog.FlavorELRepoML:
		return false, fmt.Sprintf("kernel %s is an ELRepo %s kernel: kmod-zfs is built only against the distribution's kernel ABI, so %s", k.Release, k.Flavor[len("elrepo-"):], notFound)
	case k.Flavor == catalog.FlavorUEK:
		return false, fmt.Sprintf("kernel %s is Oracle's Unbreakable Enterprise Kernel, which does not keep the RHEL kernel ABI kmod-zfs is built against; %s", k.Release, notFound)
	case k.Flavor == catalog.FlavorStream:
		return false, fmt.Sprintf("kernel %s is a CentOS Stream kernel: Stream makes no kABI promise and no kmod is published for it; %s", k.Release, notFound)
	case k.Flavor != catalog.FlavorStock:
		return false, fmt.Sprintf("kernel %s is not a stock Enterprise Linux kernel (%s); %s", k.Release, k.Flavor, notFound)
	case k.Variant != catalog.VariantNone:
		return false, fmt.Sprintf("kernel %s is the %s variant: kmod-zfs is built only for the standard kernel's ABI; %s", k.Release, k.Variant, notFound)
	}
	return true, fmt.Sprintf("kernel %s is a stock EL %s kernel: the prebuilt kABI-tracking kmod-zfs needs no compiler or kernel-devel on the host", k.Release, k.ELMinor)
}
