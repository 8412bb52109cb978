// Command mkbed builds the real package-manager test bed and one install
// root that plays an EL9 host, for `make demo` and for trying zfsinstall by
// hand. It prints shell assignments the caller sources:
//
//	ROOT, BED_HOME (the HOME dnf and rpm need), RELEASE_RPM, RELEASE_KEY, DNF_ARG.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zfsinstall/zfsinstall/testbed"
)

func main() {
	dir := flag.String("dir", "", "directory for the packages and the root (required)")
	hostKind := flag.String("host", "elrepo-lt", "elrepo-lt: Rocky 9.4 booted into ELRepo kernel-lt 6.1.80 (the seed article's host); stock: Rocky 9.4 with its stock kernel")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "mkbed: -dir is required")
		os.Exit(2)
	}
	install := []string{"kernel-" + strings.TrimSuffix(testbed.Kernel94, ".x86_64")}
	switch *hostKind {
	case "elrepo-lt":
		install = append(install, "kernel-lt-"+strings.TrimSuffix(testbed.KernelLT, ".x86_64"))
	case "stock":
	default:
		fmt.Fprintf(os.Stderr, "mkbed: -host must be elrepo-lt or stock, not %q\n", *hostKind)
		os.Exit(2)
	}
	start := time.Now()
	p, err := testbed.BuildTo(filepath.Join(*dir, "bed"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "mkbed: building the test packages: %v\n", err)
		os.Exit(1)
	}
	defer p.Close()
	built := time.Since(start)
	r, err := testbed.NewRootAt(filepath.Join(*dir, "root"), p, install...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mkbed: making the root: %v\n", err)
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
