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

// TestBootLoader recognises how a host boots from its files alone.
func TestBootLoader(t *testing.T) {
	cases := map[string]struct {
		files map[string]string
		want  facts.BootLoader
	}{
		"GRUB 2 (EL8+)":             {map[string]string{"/boot/grub2/grubenv": "# GRUB Environment Block\n"}, facts.BootGRUB},
		"systemd-boot on /boot/efi": {map[string]string{"/boot/efi/loader/loader.conf": "default @saved\n", "/boot/grub2/grub.cfg": ""}, facts.BootSystemdBoot},
		"UKI layout":                {map[string]string{"/etc/kernel/install.conf": "layout=uki\n", "/boot/grub2/grubenv": ""}, facts.BootUKI},
		"image mode (live)":         {map[string]string{"/run/ostree-booted": "", "/boot/grub2/grubenv": ""}, facts.BootImageMode},
		"nothing":                   {nil, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			for p, c := range tc.files {
				os.MkdirAll(filepath.Dir(root+p), 0o755)
				os.WriteFile(root+p, []byte(c), 0o644)
			}
			if got := bootLoader(hosttest.New(t, root)); got != tc.want {
				t.Errorf("bootLoader = %q, want %q", got, tc.want)
			}
		})
	}
}
