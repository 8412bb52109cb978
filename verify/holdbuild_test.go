package verify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/host/hosttest"
)

// TestHoldUntilBuilt: on a DKMS host, 39-zfsinstall-guard.install keeps
// the previous kernel the default while dkms builds for the new one, and
// 98-zfsinstall-guard.install (reached only when the build succeeded:
// kernel-install stops at a failing 40-dkms.install) makes the new kernel
// the default again once ZFS works on it. grubby is a named fake (it edits
// grubenv's saved_entry as the BLS grubby of EL8+ does).
func TestHoldUntilBuilt(t *testing.T) {
	const prev, next = gEL94GA, gEL94Later
	entry := func(k string) string { return "0123456789abcdef0123456789abcdef-" + k }
	h := hosttest.New(t, "").Live()
	write := func(p, content string) {
		os.MkdirAll(filepath.Dir(h.Path(p)), 0o755)
		if err := os.WriteFile(h.Path(p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := func(k string) string { return "# GRUB Environment Block\nsaved_entry=" + entry(k) + "\n" }
	write("/boot/grub2/grubenv", env(next))                                                     // 20-grub.install made the new kernel the default
	h.Handle("grubby --set-default /boot/vmlinuz-", func(cmd host.Cmd) hosttest.FixtureResult { // fake grubby
		write("/boot/grub2/grubenv", env(strings.TrimPrefix(cmd.Argv[2], "/boot/vmlinuz-")))
		return hosttest.FixtureResult{}
	})
	built := func(kver string) {
		write("/lib/modules/"+kver+"/modules.dep", "extra/zfs.ko.xz:\n")
		h.On("modinfo -k "+kver+" zfs", hosttest.FixtureResult{Stdout: modinfo("/lib/modules/"+kver+"/extra/zfs.ko.xz", "2.2.7-1", kver)})
	}
	built(prev)
	f := guardFacts([]facts.Package{gZFS, gDKMSZFS, devel("kernel-devel", prev), devel("kernel-devel", next)},
		gKernel{prev, "kernel-core", nil}, gKernel{next, "kernel-core", nil})
	f.Kernel.Default = next
	ctx := context.Background()

	c := HoldUntilBuilt(ctx, h, f, next)
	saved, _ := os.ReadFile(h.Path("/boot/grub2/grubenv"))
	if !c.OK || savedEntry(saved) != entry(prev) || !strings.Contains(c.Detail, prev+" stays the default boot entry while DKMS builds for "+next) {
		t.Fatalf("HoldUntilBuilt = %v %q; saved_entry %s", c.OK, c.Detail, savedEntry(saved))
	}
	// The build failed: kernel-install stopped at 40-dkms, 98 never ran, prev stays.
	// The build succeeded: 98 runs the guard, which passes, and restores next.
	built(next)
	if r := Guard(ctx, h, f, next); !r.OK {
		t.Fatalf("guard after the build: %+v", r)
	}
	rc, held := RestoreDefault(ctx, h, next)
	saved, _ = os.ReadFile(h.Path("/boot/grub2/grubenv"))
	if !held || !rc.OK || savedEntry(saved) != entry(next) {
		t.Errorf("RestoreDefault = %v %v %q; saved_entry %s", held, rc.OK, rc.Detail, savedEntry(saved))
	}
	if _, held := RestoreDefault(ctx, h, next); held {
		t.Error("the hold mark outlived the restore")
	}
	// A kmod host builds nothing at kernel installation: nothing is held.
	fk := guardFacts([]facts.Package{gZFS, gKmodZFS}, gKernel{prev, "kernel-core", kabi94}, gKernel{next, "kernel-core", kabi94})
	fk.Kernel.Default = next
	if c := HoldUntilBuilt(ctx, h, fk, next); !c.OK || !strings.Contains(c.Detail, "nothing is built") {
		t.Errorf("kmod host: %v %q", c.OK, c.Detail)
	}
}
