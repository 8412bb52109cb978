package backends

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/catalog"
)

// The requirement lines of a real-shaped zfs-dkms 2.2.8 (dnf repoquery --requires).
const dkmsRequires = `/bin/sh
dkms >= 2.2.0.3
gcc
kernel-devel <= 6.15.999
kernel-devel >= 4.18
kernel-uname-r <= 6.15.999
kernel-uname-r >= 4.18
make
perl
`

func TestParseKernelRequires(t *testing.T) {
	want := []KernelRequirement{
		{"kernel-devel", "<=", "6.15.999"}, {"kernel-devel", ">=", "4.18"},
		{"kernel-uname-r", "<=", "6.15.999"}, {"kernel-uname-r", ">=", "4.18"},
	}
	if diff := cmp.Diff(want, ParseKernelRequires(dkmsRequires)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCheckRequires(t *testing.T) {
	reqs := ParseKernelRequires(dkmsRequires)
	cases := map[string]struct {
		kernel  string
		wantErr string
	}{
		"stock EL9":         {kernel: "5.14.0-427.13.1.el9_4.x86_64"},
		"ELRepo lt 6.1":     {kernel: "6.1.80-1.el9.elrepo.x86_64"},
		"rt variant":        {kernel: "5.14.0-427.13.1.el9_4.x86_64+rt"},
		"ml 6.16 too new":   {kernel: "6.16.1-1.el9.elrepo.x86_64", wantErr: "requires kernel-devel <= 6.15.999"},
		"EL7 3.10 too old":  {kernel: "3.10.0-1160.el7.x86_64", wantErr: "requires kernel-devel >= 4.18"},
		"exactly the limit": {kernel: "6.15.999-1.el9.elrepo.x86_64"}, // no release in the requirement: any release of 6.15.999
		"just above":        {kernel: "6.16.0-1.el9.elrepo.x86_64", wantErr: "<= 6.15.999"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := CheckRequires("zfs-dkms-2.2.8", reqs, catalog.ClassifyKernel(tc.kernel, ""))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected refusal: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestCheckKernel(t *testing.T) {
	cases := map[string]struct {
		zfs, kernel string
		wantErr     []string
	}{
		"2.2.7 on lt 6.1":        {zfs: "2.2.7", kernel: "6.1.80-1.el9.elrepo.x86_64"},
		"2.2.7 on ml 6.15":       {zfs: "2.2.7", kernel: "6.15.2-1.el9.elrepo.x86_64", wantErr: []string{"supports Linux 4.18 to 6.12", "releases from 2.2.8"}},
		"unknown future release": {zfs: "9.9.9", kernel: "6.15.2-1.el9.elrepo.x86_64"},
		"unparseable kernel":     {zfs: "2.2.7", kernel: "garbage"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := CheckKernel(tc.zfs, catalog.ClassifyKernel(tc.kernel, ""), nil)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Errorf("unexpected refusal: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("want a refusal, got none")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
