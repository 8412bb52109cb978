// Command mkbed builds the real package-manager test bed and one install
// root that plays an EL9 host (-host: elrepo-lt, stock, zstream, elrepo-only,
// el96, fit, aarch64), optionally with filler for benchmarks (-filler N
// packages in the rpm database, -kernels K extra kernels, -real-size
// repositories the size of a real EL9 host's, testbed/realsize.go), for `make demo`,
// benchmark scripts and trying zfsinstall by hand. It prints shell
// assignments the caller sources:
//
//	ROOT, BED_HOME (the HOME dnf and rpm need), RELEASE_RPM, RELEASE_KEY, DNF_ARG.
//
// The root's /usr is an overlay over the machine's /usr and /proc is mounted in it
// (testbed/overlay.go); they stay mounted for the caller, who unmounts them when done:
// umount -R "$ROOT/usr" "$ROOT/proc".
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/zfsinstall/zfsinstall/testbed"
)

// hosts are the roots mkbed can make: what is installed, and the architecture.
var hosts = map[string]struct {
	install []string
	arch    string
	about   string
}{
	"elrepo-lt":   {[]string{"kernel-" + trim(testbed.Kernel94), "kernel-lt-" + trim(testbed.KernelLT)}, "", "Rocky 9.4 booted into ELRepo kernel-lt 6.1.80 (the seed article's host)"},
	"stock":       {[]string{"kernel-" + trim(testbed.Kernel94)}, "", "Rocky 9.4 with its stock kernel"},
	"zstream":     {[]string{"kernel-" + trim(testbed.Kernel94Z)}, "", "Rocky 9.4 with only the z-stream kernel 427.16.1, which kmod-zfs (built for 427.13.1) does not fit (openzfs/zfs#16219, #17987)"},
	"elrepo-only": {[]string{"kernel-lt-" + trim(testbed.KernelLT), "kernel-lt-devel-" + trim(testbed.KernelLT)}, "", "kernel-lt and its headers, no stock kernel: zfs-dkms 2.2.8 pulls a stock kernel-core"},
	"el96":        {[]string{"kernel-" + trim(testbed.Kernel96), "kernel-devel-matched-" + trim(testbed.Kernel96)}, "", "the 9.6 kernel 570.17.1 and its headers: zfs-dkms 2.1.16 fails to build (openzfs/zfs#17349)"},
	"fit":         {nil, "", "only the synthetic 9.5 kernel whose kABI fits 9.4's kmods (openzfs/zfs#16271 pattern)"},
	"aarch64":     {[]string{"kernel-" + trim(testbed.Kernel94)}, "aarch64", "Rocky 9.4 aarch64: no OpenZFS repository for it (openzfs/zfs#13266)"},
}

func trim(kver string) string {
	return strings.TrimSuffix(strings.TrimSuffix(kver, ".x86_64"), ".aarch64")
}

func main() {
	dir := flag.String("dir", "", "directory for the packages and the root (required)")
	var names []string
	for n := range hosts {
		names = append(names, n)
	}
	sort.Strings(names)
	var help strings.Builder
	for _, n := range names {
		fmt.Fprintf(&help, "\n%s: %s", n, hosts[n].about)
	}
	hostKind := flag.String("host", "elrepo-lt", "the host the root plays:"+help.String())
	filler := flag.Int("filler", 0, "register this many filler packages in the root's rpm database (benchmarks)")
	extraKernels := flag.Int("kernels", 0, "install this many extra kernels (kernel-core 5.14.0-427.0.N.el9_4) into the root (benchmarks)")
	realSize := flag.Bool("real-size", false, "make BaseOS, AppStream and EPEL as large as a real EL9 host's (1,100, 5,700 and 20,000 packages; built once per machine, then cached) and give extra kernels real-size kABI provides")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "mkbed: -dir is required")
		os.Exit(2)
	}
	h, ok := hosts[*hostKind]
	if !ok {
		fmt.Fprintf(os.Stderr, "mkbed: -host must be one of %s, not %q\n", strings.Join(names, ", "), *hostKind)
		os.Exit(2)
	}
	if *filler < 0 || *extraKernels < 0 {
		fmt.Fprintln(os.Stderr, "mkbed: -filler and -kernels must not be negative")
		os.Exit(2)
	}
	start := time.Now()
	p, err := testbed.BuildTo(filepath.Join(*dir, "bed"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "mkbed: building the test packages: %v\n", err)
		os.Exit(1)
	}
	defer p.Close()
	if *realSize {
		if err := p.TryRealSize(); err != nil {
			fmt.Fprintf(os.Stderr, "mkbed: %v\n", err)
			os.Exit(1)
		}
	}
	built := time.Since(start)
	install := h.install
	if *hostKind == "fit" {
		if install, err = p.TryKernelRPMs(testbed.Kernel95Fit); err != nil {
			fmt.Fprintf(os.Stderr, "mkbed: %v\n", err)
			os.Exit(1)
		}
	}
	var r *testbed.Root
	if h.arch != "" {
		r, err = testbed.NewRootArchAt(filepath.Join(*dir, "root"), p, h.arch, install...)
	} else {
		r, err = testbed.NewRootAt(filepath.Join(*dir, "root"), p, install...)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mkbed: making the root: %v\n", err)
		os.Exit(1)
	}
	if err := r.TryAddFiller(*filler); err != nil {
		fmt.Fprintf(os.Stderr, "mkbed: %v\n", err)
		os.Exit(1)
	}
	if err := r.TryAddKernels(*extraKernels); err != nil {
		fmt.Fprintf(os.Stderr, "mkbed: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "mkbed: %d test RPMs built and signed in %s; root %s ready in %s\n",
		len(p.List()), built.Round(time.Millisecond), r.Dir, (time.Since(start) - built).Round(time.Millisecond))
	fmt.Printf("ROOT=%s\nBED_HOME=%s\nRELEASE_RPM=%s\nRELEASE_KEY=%s\n", r.Dir, r.Home, p.ZFSRelease, p.KeyFile)
	for _, a := range r.DNFArgs() {
		if strings.HasPrefix(a, "--disableplugin") {
			fmt.Printf("DNF_ARG=%s\n", a)
		}
	}
}
