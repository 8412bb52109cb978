package gather

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host/hosttest"
)

func TestDefaultKernelFromBLS(t *testing.T) {
	cases := map[string]struct {
		grubenv, entryName, entry string
		want                      string
	}{
		"version key": {
			grubenv:   "# GRUB Environment Block\nsaved_entry=3f1c2b7e9d6a4c8b-5.14.0-503.14.1.el9_5.x86_64\nboot_success=0\n",
			entryName: "3f1c2b7e9d6a4c8b-5.14.0-503.14.1.el9_5.x86_64.conf",
			entry:     "title Rocky Linux (5.14.0-503.14.1.el9_5.x86_64) 9.5 (Blue Onyx)\nversion 5.14.0-503.14.1.el9_5.x86_64\nlinux /vmlinuz-5.14.0-503.14.1.el9_5.x86_64\n",
			want:      "5.14.0-503.14.1.el9_5.x86_64",
		},
		"linux line only": {
			grubenv: "saved_entry=abc-6.1.80-1.el9.elrepo.x86_64\n", entryName: "abc-6.1.80-1.el9.elrepo.x86_64.conf",
			entry: "title ELRepo\nlinux /vmlinuz-6.1.80-1.el9.elrepo.x86_64\n", want: "6.1.80-1.el9.elrepo.x86_64",
		},
		"saved entry missing": {grubenv: "saved_entry=gone\n", want: ""},
		"no grubenv":          {want: ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := hosttest.New(t, "")
			write := func(p, c string) {
				os.MkdirAll(filepath.Dir(h.Path(p)), 0o755)
				os.WriteFile(h.Path(p), []byte(c), 0o644)
			}
			if tc.grubenv != "" {
				write("/boot/grub2/grubenv", tc.grubenv)
			}
			if tc.entryName != "" {
				write("/boot/loader/entries/"+tc.entryName, tc.entry)
			}
			// The fixture is an install root: grubby is never run there.
			if got := defaultKernel(context.Background(), h); got != tc.want {
				t.Errorf("defaultKernel = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestManagedUnitsStartWithZFS: unitStates lists unit directories by the
// pattern zfs*, so a managed unit named otherwise would read as missing.
func TestManagedUnitsStartWithZFS(t *testing.T) {
	for _, u := range facts.ManagedUnits {
		if !strings.HasPrefix(u, "zfs") {
			t.Errorf("managed unit %s does not start with zfs: unitStates would not see it", u)
		}
	}
}
