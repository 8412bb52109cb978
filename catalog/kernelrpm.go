package catalog

import "regexp"

// kernelPackageRe matches the names of the packages that make up a kernel
// or its headers: kernel, kernel-core, kernel-modules(-core|-extra|...),
// kernel-devel, kernel-devel-matched, and the same for the variants and the
// ELRepo and UEK flavors (kernel-rt-core, kernel-64k-debug-devel,
// kernel-lt-core, kernel-ml-devel, kernel-uek-core). kernel-headers,
// kernel-tools and kernel-srpm-macros are user space and do not match.
var kernelPackageRe = regexp.MustCompile(`^kernel(-(rt|debug|64k|rt-debug|64k-debug|lt|ml|uek|zfcpdump))?(-(core|modules|modules-core|modules-extra|modules-internal|modules-partner|devel|devel-matched|uki-virt))?$`)

// IsKernelPackage reports whether name is a package of a kernel (or of its
// headers for building modules), one that dnf must never install, remove
// or downgrade unless the plan names it.
func IsKernelPackage(name string) bool { return kernelPackageRe.MatchString(name) }
