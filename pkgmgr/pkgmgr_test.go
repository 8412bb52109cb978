package pkgmgr

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/host/hosttest"
)

func TestParsePackages(t *testing.T) {
	cases := map[string]struct {
		out  string
		want []facts.Package
	}{
		"rpm -q with a missing name": {
			out:  "@\tzfs\t(none)\t2.2.7\t1.el9\tx86_64\n/bin/sh\nlibzfs5 = 2.2.7-1.el9\npackage kmod-zfs is not installed\n",
			want: []facts.Package{{Name: "zfs", Version: "2.2.7", Release: "1.el9", Arch: "x86_64"}},
		},
		"kernel requirements kept, rpm's spacing normalised": {
			out: "@\tkmod-zfs\t(none)\t2.2.7\t1.el9\tx86_64\n/usr/sbin/weak-modules  \nkernel(__alloc_pages) = 0x721dbc2e\nkernel(write_cache_pages)  =  0x30a4cdde\nzfs = 2.2.7\n",
			want: []facts.Package{{Name: "kmod-zfs", Version: "2.2.7", Release: "1.el9", Arch: "x86_64",
				Requires: []string{"kernel(__alloc_pages) = 0x721dbc2e", "kernel(write_cache_pages) = 0x30a4cdde"}}},
		},
		"dnf repoquery: epoch 0 and the repo column": {
			out: "@\tzfs-dkms\t0\t2.2.8\t1.el9\tnoarch\tzfs\ndkms >= 2.2.0.3\nkernel-devel <= 6.15.999\nkernel-uname-r >= 4.18\n@\tkernel-devel\t1\t5.14.0\t427.13.1.el9_4\tx86_64\tappstream\n",
			want: []facts.Package{
				{Name: "zfs-dkms", Version: "2.2.8", Release: "1.el9", Arch: "noarch", Repo: "zfs", Requires: []string{"kernel-devel <= 6.15.999", "kernel-uname-r >= 4.18"}},
				{Name: "kernel-devel", Epoch: "1", Version: "5.14.0", Release: "427.13.1.el9_4", Arch: "x86_64", Repo: "appstream"},
			},
		},
		"gpg-pubkey":         {out: "@\tgpg-pubkey\t(none)\t9db84141\t62d88994\t(none)\n", want: []facts.Package{{Name: "gpg-pubkey", Version: "9db84141", Release: "62d88994", Arch: "(none)"}}},
		"nothing":            {out: "", want: nil},
		"short header":       {out: "@\tzfs\t2.2.7\nkernel-devel\n", want: nil},
		"dnf progress noise": {out: "Last metadata expiration check: 0:00:01 ago\nkernel(x) = 1\n", want: nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ParsePackages([]byte(tc.out))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewest(t *testing.T) {
	pkgs := ParsePackages([]byte("@\tzfs\t(none)\t2.2.10\t1.el9\tx86_64\n@\tzfs\t(none)\t2.2.9\t1.el9\tx86_64\n@\tkernel-devel\t(none)\t5.14.0\t503.14.1.el9_5\tx86_64\n@\tkernel-devel\t(none)\t5.14.0\t427.13.1.el9_4\tx86_64\n"))
	got := map[string]string{}
	for n, p := range Newest(pkgs) {
		got[n] = p.EVR()
	}
	want := map[string]string{"zfs": "2.2.10-1.el9", "kernel-devel": "5.14.0-503.14.1.el9_5"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestDKMSStatus reads the dkms tree as dell/dkms lays it out.
func TestDKMSStatus(t *testing.T) {
	h := hosttest.New(t, "")
	mk := func(p string) {
		if err := os.MkdirAll(h.Path(p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	const lt, k94 = "6.1.80-1.el9.elrepo.x86_64", "5.14.0-427.13.1.el9_4.x86_64"
	mk("/var/lib/dkms/zfs/2.2.7/" + lt + "/x86_64/module")
	mk("/var/lib/dkms/zfs/2.2.7/" + k94 + "/x86_64/module")
	mk("/var/lib/dkms/zfs/2.2.8/source")
	os.Symlink("2.2.7/"+lt+"/x86_64", h.Path("/var/lib/dkms/zfs/kernel-"+lt+"-x86_64"))
	want := []facts.DKMSEntry{
		{Module: "zfs", Version: "2.2.7", Kernel: k94, State: "built"},
		{Module: "zfs", Version: "2.2.7", Kernel: lt, State: "installed"},
		{Module: "zfs", Version: "2.2.8", State: "added"},
	}
	c := New(h, nil)
	if diff := cmp.Diff(want, c.DKMSStatus()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := c.DKMSState("2.2.7", lt); got != "installed" {
		t.Errorf("DKMSState = %q, want installed", got)
	}
	if len(h.CallKeys()) != 0 {
		t.Errorf("ran %v: the tree is read, dkms is not run", h.CallKeys())
	}
}

func TestParseTransaction(t *testing.T) {
	// dnf 4.14 --assumeno install kmod-zfs on a host whose newest kernel the
	// kmod's symbols do not fit (#17987): dnf pulls an older kernel-core.
	out := `Last metadata expiration check: 0:00:02 ago on Thu 26 Nov 2026 12:00:00 PM UTC.
Dependencies resolved.
================================================================================
 Package              Arch    Version                  Repository         Size
================================================================================
Installing:
 kmod-zfs             x86_64  2.2.8-1.el9              zfs-kmod          1.2 M
     replacing  zfs-dkms.noarch 2.2.7-1.el9
Installing dependencies:
 kernel-core          x86_64  5.14.0-427.13.1.el9_4    baseos             20 M
 kernel-modules-core-long-name-that-wraps
                      x86_64  5.14.0-427.13.1.el9_4    baseos             30 M
Downgrading:
 libzfs5              x86_64  2.2.8-1.el9              zfs-kmod          400 k
Removing dependent packages:
 zfs-dkms             noarch  2.2.7-1.el9              @zfs               40 M

Transaction Summary
================================================================================
Install  3 Packages
Remove   1 Package
Downgrade 1 Package

Total size: 50 M
Operation aborted.
`
	want := []Change{
		{Action: "install", Name: "kmod-zfs", Arch: "x86_64", Version: "2.2.8-1.el9", Repo: "zfs-kmod"},
		{Action: "install", Name: "kernel-core", Arch: "x86_64", Version: "5.14.0-427.13.1.el9_4", Repo: "baseos"},
		{Action: "install", Name: "kernel-modules-core-long-name-that-wraps", Arch: "x86_64", Version: "5.14.0-427.13.1.el9_4", Repo: "baseos"},
		{Action: "downgrade", Name: "libzfs5", Arch: "x86_64", Version: "2.2.8-1.el9", Repo: "zfs-kmod"},
		{Action: "remove", Name: "zfs-dkms", Arch: "noarch", Version: "2.2.7-1.el9", Repo: "@zfs"},
	}
	got, err := ParseTransaction([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got, err := ParseTransaction([]byte("Error: Problem: conflicting requests\n")); got != nil || err == nil {
		t.Errorf("no table: got %v", got)
	}
}

func TestKernelSymbols(t *testing.T) {
	h := hosttest.New(t, "").Live()
	qf := "@\\t%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\\n[%{PROVIDENAME}\\t%{PROVIDEVERSION}\\n]"
	h.On("rpm -q --qf "+qf+" kernel-5.14.0-427.13.1.el9_4 kernel-core-5.14.0-427.13.1.el9_4 kernel-modules-core-5.14.0-427.13.1.el9_4 kernel-modules-5.14.0-427.13.1.el9_4 kernel-modules-extra-5.14.0-427.13.1.el9_4 kernel-lt-6.1.80-1.el9.elrepo kernel-lt-core-6.1.80-1.el9.elrepo kernel-lt-modules-core-6.1.80-1.el9.elrepo kernel-lt-modules-6.1.80-1.el9.elrepo kernel-lt-modules-extra-6.1.80-1.el9.elrepo",
		hosttest.FixtureResult{ExitCode: 5, Stdout: "@\tkernel-core-5.14.0-427.13.1.el9_4.x86_64\nkernel\t5.14.0-427.13.1.el9_4\nkernel(__alloc_pages)\t0x721dbc2e\nkernel(unwanted)\t0x1\n" +
			"@\tkernel-modules-core-5.14.0-427.13.1.el9_4.x86_64\nkernel(write_cache_pages)\t0x30a4cdde\npackage kernel-modules-extra-5.14.0-427.13.1.el9_4 is not installed\n" +
			"@\tkernel-lt-core-6.1.80-1.el9.elrepo.x86_64\nkernel-lt-uname-r\t6.1.80-1.el9.elrepo.x86_64\n"})
	kernels := []facts.InstalledKernel{{Release: "5.14.0-427.13.1.el9_4.x86_64", Package: "kernel-core"}, {Release: "6.1.80-1.el9.elrepo.x86_64", Package: "kernel-lt-core"}}
	got, err := New(h, nil).KernelSymbols(context.Background(), kernels, map[string]bool{"__alloc_pages": true, "write_cache_pages": true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"5.14.0-427.13.1.el9_4.x86_64": {"__alloc_pages": "0x721dbc2e", "write_cache_pages": "0x30a4cdde"},
		"6.1.80-1.el9.elrepo.x86_64":   {},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestExplainDNF(t *testing.T) {
	cmdErr := func(code int, stderr string) error {
		return &host.CmdError{Cmd: host.Cmd{Argv: []string{"dnf", "install"}}, ExitCode: code, Stderr: []byte(stderr)}
	}
	cases := map[string]struct {
		err  error
		want string // "" = returned unchanged
	}{
		"killed":       {cmdErr(137, ""), "dnf was killed in the middle of its transaction"},
		"unreachable":  {cmdErr(1, "Error: Failed to download metadata for repo 'zfs': Cannot download repomd.xml"), "repository zfs cannot be reached"},
		"unsigned":     {cmdErr(1, "Package zfs-2.2.8-1.el9.x86_64.rpm is not signed"), "failed its signature check"},
		"gpg failed":   {cmdErr(1, "zfs-2.2.8-1.el9.x86_64.rpm: GPG check FAILED"), "failed its signature check"},
		"no match":     {cmdErr(1, "No match for argument: kernel-devel-5.14.0-427.13.1.el9_4.x86_64"), "no enabled repository offers kernel-devel-5.14.0-427.13.1.el9_4.x86_64"},
		"other":        {cmdErr(1, "Error: something else"), ""},
		"not a CmdErr": {errors.New("exec: dnf: not found"), ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := ExplainDNF(tc.err)
			if tc.want == "" {
				if got != tc.err {
					t.Errorf("got %v, want the error unchanged", got)
				}
				return
			}
			if !strings.Contains(got.Error(), tc.want) || !errors.Is(got, tc.err) {
				t.Errorf("got %v, want it to contain %q and wrap the dnf error", got, tc.want)
			}
		})
	}
}

// TestArgv checks the command lines for a live host and an install root.
func TestArgv(t *testing.T) {
	root := hosttest.New(t, "")
	live := hosttest.New(t, "").Live()
	root.Handle("rpm ", func(host.Cmd) hosttest.FixtureResult { return hosttest.FixtureResult{} })
	live.Handle("rpm ", func(host.Cmd) hosttest.FixtureResult { return hosttest.FixtureResult{} })
	ctx := context.Background()
	New(root, nil).Installed(ctx, "zfs")
	New(live, nil).Installed(ctx, "zfs")
	want := []string{"rpm --root " + root.Root() + " --dbpath /var/lib/rpm -q --qf " + QueryFormat + " zfs"}
	if diff := cmp.Diff(want, root.CallKeys()); diff != "" {
		t.Errorf("root (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"rpm -q --qf " + QueryFormat + " zfs"}, live.CallKeys()); diff != "" {
		t.Errorf("live (-want +got):\n%s", diff)
	}
	c := New(root, []string{"--disableplugin=local"})
	if diff := cmp.Diff([]string{"dnf", "--installroot", root.Root(), "--disableplugin=local", "-y", "install", "zfs"}, c.dnfArgv("-y", "install", "zfs")); diff != "" {
		t.Errorf("dnf (-want +got):\n%s", diff)
	}
}

func TestCheckDNFArgs(t *testing.T) {
	for args, refused := range map[string]bool{
		"--nogpgcheck":                        true,
		"--setopt=gpgcheck=0":                 true,
		"--setopt=*.gpgcheck=false":           true,
		"--setopt=zfs-kmod.repo_gpgcheck=off": true,
		"--setopt=localpkg_gpgcheck=0":        true,
		"--setopt=gpgcheck=1":                 false,
		"--disableplugin=local":               false,
		"--setopt=install_weak_deps=False":    false,
	} {
		if err := CheckDNFArgs(strings.Fields(args)); (err != nil) != refused {
			t.Errorf("CheckDNFArgs(%s) = %v, want refused %v", args, err, refused)
		}
	}
}
