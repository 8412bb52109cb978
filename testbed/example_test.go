package testbed_test

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/zfsinstall/zfsinstall/testbed"
)

// An integration test runs zfsinstall against a fresh Rocky 9.4 root and checks the result
// with the machine's rpm and modinfo.
func Example() {
	var t *testing.T // the test's
	p := testbed.Build(t)
	r := testbed.NewRoot(t, p, "kernel-5.14.0-427.13.1.el9_4")
	cmd := exec.Command("/path/to/zfsinstall", "apply", "--root", r.Dir)
	cmd.Env = append(os.Environ(), r.Env()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zfsinstall: %v\n%s", err, out)
	}
	fmt.Println(r.Installed(t))
	fmt.Println(r.TryModinfo(testbed.Kernel94, "version", "zfs"))
}
