package gather

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/testbed"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbed.Cleanup()
	os.Exit(code)
}

// TestFactsKeepOnlyRequiredSymbols: on a bed root whose kernels provide the real-size kABI
// (about 10,500 kernel(SYMBOL) = CRC each, from Debian's Module.symvers) with kmod-zfs
// installed, the facts carry for each kernel only the symbols a kmod-zfs requires, each
// with the kernel's value (issue 23 item 6: a facts file of three such kernels with every
// symbol was 2.9 MB), and are read for every kernel when the repositories were asked.
func TestFactsKeepOnlyRequiredSymbols(t *testing.T) {
	testbed.Require(t)
	p := testbed.Build(t)
	r := testbed.NewRoot(t, p, "kernel-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64"),
		"kernel-"+strings.TrimSuffix(testbed.Kernel94Z, ".x86_64"), "kmod-zfs")
	t.Setenv("HOME", r.Home) // dnf finds the root's rpm database through HOME's .rpmmacros
	provides := strings.Count(r.RPM(t, "-q", "--provides", "kernel-core-"+strings.TrimSuffix(testbed.Kernel94, ".x86_64")), "kernel(")
	if provides < 10000 {
		t.Fatalf("kernel-core provides %d kernel symbols: not the real-size set this test is about", provides)
	}
	var dnfArgs []string // the Debian plugins that write to the machine, off
	for _, a := range r.DNFArgs() {
		if strings.HasPrefix(a, "--disableplugin") {
			dnfArgs = append(dnfArgs, a)
		}
	}
	f, err := Gather(context.Background(), host.NewReal(r.Dir, nil), Options{QueryRepos: true, DNFArgs: dnfArgs})
	if err != nil {
		t.Fatal(err)
	}
	kmod, ok := f.Installed("kmod-zfs")
	if !ok {
		t.Fatal("kmod-zfs is not in the facts")
	}
	want := backends.KmodSymbols(kmod.Requires)
	if len(want) < 50 {
		t.Fatalf("kmod-zfs requires %d kernel symbols: not a real kmod", len(want))
	}
	if len(f.Kernel.Installed) != 2 {
		t.Fatalf("kernels in the facts: %+v", f.Kernel.Installed)
	}
	for _, k := range f.Kernel.Installed {
		if !k.SymbolsRead || len(k.Symbols) == 0 {
			t.Errorf("%s: symbols not read (%d)", k.Release, len(k.Symbols))
		}
		for sym := range k.Symbols {
			if _, ok := want[sym]; !ok {
				t.Errorf("%s: the facts keep %s, which no kmod-zfs requires", k.Release, sym)
			}
		}
	}
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 100<<10 {
		t.Errorf("facts of two real-size kernels are %d bytes", len(data))
	}
}
