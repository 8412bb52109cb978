package pkgmgr

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/facts"
)

// upgradesOut is upgradeQueryFormat output as dnf 4.14 prints it on the test bed, cut down:
// a kmod-zfs upgrade with its kABI requirements, a kernel-core with provides (one the kmod
// requires, one it does not, the package's own), zfs-dkms with its kernel-devel range, a line
// that is not a package, and a header cut short.
const upgradesOut = "@\tkmod-zfs\t0\t2.2.8\t1.el9\tx86_64\tzfs-kmod\n@R\nkernel(__alloc_pages) = 0x721dbc2e\nkernel(kfree)  =  0x037a0cba\nzfs = 2.2.8\n@P\nkmod-zfs = 2.2.8-1.el9\n" +
	"@\tkernel-core\t0\t5.14.0\t570.17.1.el9_6\tx86_64\tbaseos\n@R\nkernel-modules-core-uname-r = 5.14.0-570.17.1.el9_6.x86_64\n@P\nkernel(__alloc_pages) = 0x11111111\nkernel(unwanted) = 0x2\nkernel = 5.14.0-570.17.1.el9_6\nkernel-uname-r = 5.14.0-570.17.1.el9_6.x86_64\n" +
	"Last metadata expiration check: 0:00:01 ago.\n" +
	"@\tzfs-dkms\t(none)\t2.2.8\t1.el9\tnoarch\tzfs\n@R\nkernel-devel >= 4.18\nkernel-devel <= 6.15.999\n@P\n" +
	"@\tbroken\n"

func TestParseOffers(t *testing.T) {
	want := []Offer{
		{Package: facts.Package{Name: "kmod-zfs", Version: "2.2.8", Release: "1.el9", Arch: "x86_64", Repo: "zfs-kmod",
			Requires: []string{"kernel(__alloc_pages) = 0x721dbc2e", "kernel(kfree) = 0x037a0cba"}}},
		{Package: facts.Package{Name: "kernel-core", Version: "5.14.0", Release: "570.17.1.el9_6", Arch: "x86_64", Repo: "baseos"},
			Provides: map[string]string{"__alloc_pages": "0x11111111"}},
		{Package: facts.Package{Name: "zfs-dkms", Version: "2.2.8", Release: "1.el9", Arch: "noarch", Repo: "zfs",
			Requires: []string{"kernel-devel >= 4.18", "kernel-devel <= 6.15.999"}}},
	}
	if diff := cmp.Diff(want, ParseOffers([]byte(upgradesOut), nil)); diff != "" {
		t.Errorf("ParseOffers (-want +got):\n%s", diff)
	}
	// The installed kmod's requirements are wanted too.
	got := ParseOffers([]byte(upgradesOut), []string{"kernel(unwanted) = 0x2"})
	if diff := cmp.Diff(map[string]string{"__alloc_pages": "0x11111111", "unwanted": "0x2"}, got[1].Provides); diff != "" {
		t.Errorf("provides with the installed kmod's requirements (-want +got):\n%s", diff)
	}
}

func TestSplitMarkers(t *testing.T) {
	tests := map[string]struct {
		out  string
		want []string
	}{
		"two answers and the rest": {"a\nb\ninstallonly_limit: 3\nc\ninstallonly_limit: 3\nOperation aborted\n", []string{"a\nb\n", "c\n"}},
		"an empty answer":          {"installonly_limit: 3\nx\ninstallonly_limit: 10\n", []string{"", "x\n"}},
		"not a marker line":        {"say installonly_limit: 3\ninstallonly_limit: three\ninstallonly_limit: 3\n", []string{"say installonly_limit: 3\ninstallonly_limit: three\n"}},
		"no marker":                {"a\n", nil},
		"marker at the very end":   {"a\ninstallonly_limit: 3", []string{"a\n"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, p := range splitMarkers([]byte(tc.out)) {
				got = append(got, string(p))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("splitMarkers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestShellLine(t *testing.T) {
	got, err := shellLine("repoquery", "--qf", `@\t%{name}\n`, "kernel-devel-5.14.0-427.13.1.el9_4.x86_64")
	if want := `'repoquery' '--qf' '@\t%{name}\n' 'kernel-devel-5.14.0-427.13.1.el9_4.x86_64'`; err != nil || got != want {
		t.Errorf("shellLine = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"it's", "a\nrun"} {
		if _, err := shellLine("install", bad); err == nil {
			t.Errorf("shellLine accepted %q", bad)
		}
	}
}
