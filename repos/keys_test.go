package repos

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/facts"
)

// distro makes the facts of a host from a dist-like name: "el9", "fc41".
func distro(t *testing.T, name string) facts.Distro {
	t.Helper()
	var d facts.Distro
	switch {
	case len(name) > 2 && name[:2] == "el":
		d.Family, d.ID = "el", "rocky"
	case len(name) > 2 && name[:2] == "fc":
		d.Family, d.ID = "fedora", "fedora"
	default:
		t.Fatalf("bad distro name %q", name)
	}
	for _, c := range name[2:] {
		d.Major = d.Major*10 + int(c-'0')
	}
	return d
}

func TestPinnedKeys(t *testing.T) {
	type key struct{ Name, Fingerprint string }
	var got []key
	for _, k := range PinnedKeys() {
		got = append(got, key{k.Name, k.Fingerprint})
		if diff := cmp.Diff(string(readTestFile(t, filepath.Join(sharedData, "openzfs", k.Name))), string(k.Armored)); diff != "" {
			t.Errorf("%s differs from the shared copy (-shared +embedded):\n%s", k.Name, diff)
		}
	}
	want := []key{
		{"RPM-GPG-KEY-openzfs-2013", "C93A FFFD 9F3F 7B03 C310 CEB6 A9D5 A1C0 F14A B620"},
		{"RPM-GPG-KEY-openzfs-2022", "7DC7 299D CF7C 7FD9 CD87 701B A599 FD5E 9DB8 4141"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestMustKeyPanicsOnWrongFingerprint(t *testing.T) {
	defer func() {
		want := "repos: embedded key RPM-GPG-KEY-openzfs-2022 has fingerprint 7DC7 299D CF7C 7FD9 CD87 701B A599 FD5E 9DB8 4141, pinned C93A FFFD 9F3F 7B03 C310 CEB6 A9D5 A1C0 F14A B620"
		if diff := cmp.Diff(want, recover()); diff != "" {
			t.Errorf("panic (-want +got):\n%s", diff)
		}
	}()
	mustKey(Key2022, armored2022, "C93A FFFD 9F3F 7B03 C310 CEB6 A9D5 A1C0 F14A B620")
}

func TestKeyFor(t *testing.T) {
	tests := map[string]struct {
		d       facts.Distro
		want    string
		wantErr string
	}{
		"EL7":       {d: distro(t, "el7"), want: Key2013},
		"EL8":       {d: distro(t, "el8"), want: Key2013},
		"EL9":       {d: distro(t, "el9"), want: Key2022},
		"EL10":      {d: distro(t, "el10"), want: Key2022},
		"Fedora 36": {d: distro(t, "fc36"), want: Key2013},
		"Fedora 37": {d: distro(t, "fc37"), want: Key2022},
		"Fedora 43": {d: distro(t, "fc43"), want: Key2022},
		"Fedora 44": {d: distro(t, "fc44"), want: Key2022},
		"Fedora 38": {d: distro(t, "fc38"), want: Key2022}, // its zfs-release 2-5 is signed with 2013, its packages with 2022
		"Fedora 45": {d: distro(t, "fc45"), want: Key2022}, // newer than the table: the newest row's key
		"EL6": {d: facts.Distro{ID: "centos", VersionID: "6.10", Name: "CentOS release 6.10 (Final)", Family: "el", Major: 6},
			wantErr: "this host runs CentOS release 6.10 (Final), which zfsinstall does not support: it supports Enterprise Linux 7 to 10 (RHEL, Rocky, AlmaLinux, Oracle Linux, CentOS) and Fedora"},
		"Debian": {d: facts.Distro{ID: "debian", VersionID: "12", Major: 12},
			wantErr: "this host runs debian 12, which zfsinstall does not support: it supports Enterprise Linux 7 to 10 (RHEL, Rocky, AlmaLinux, Oracle Linux, CentOS) and Fedora"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			k, err := KeyFor(tt.d)
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if k.Name != tt.want {
				t.Errorf("KeyFor = %q, want %q", k.Name, tt.want)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	testbed := readTestFile(t, filepath.Join(testdata, "RPM-GPG-KEY-zfsinstall-testbed"))
	tests := map[string]struct {
		armored []byte
		want    string
		wantErr string
	}{
		"testbed":  {armored: testbed, want: "3F53 D16E 66FE E6DD 7D85 D574 9303 9EB5 23CC B1D9"},
		"two keys": {armored: append(append([]byte{}, armored2013...), armored2022...), wantErr: "reading key k: want exactly one public key, found 2 key blocks"},
		"garbage":  {armored: []byte("not a key"), wantErr: "reading key k: EOF"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			k, err := ParseKey("k", tt.armored)
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if k.Fingerprint != tt.want {
				t.Errorf("fingerprint = %q, want %q", k.Fingerprint, tt.want)
			}
		})
	}
}

func TestReleaseURL(t *testing.T) {
	tests := map[string]struct{ want, wantErr string }{
		"el7":  {want: "https://zfsonlinux.org/epel/zfs-release-2-3.el7.noarch.rpm"},
		"el8":  {want: "https://zfsonlinux.org/epel/zfs-release-3-0.el8.noarch.rpm"},
		"el9":  {want: "https://zfsonlinux.org/epel/zfs-release-3-0.el9.noarch.rpm"},
		"el10": {want: "https://zfsonlinux.org/epel/zfs-release-3-0.el10.noarch.rpm"},
		"fc41": {want: "https://zfsonlinux.org/fedora/zfs-release-3-0.fc41.noarch.rpm"}, // 3-1 is not built for fc41
		"fc42": {want: "https://zfsonlinux.org/fedora/zfs-release-3-1.fc42.noarch.rpm"},
		"fc43": {want: "https://zfsonlinux.org/fedora/zfs-release-3-1.fc43.noarch.rpm"},
		"fc44": {want: "https://zfsonlinux.org/fedora/zfs-release-3-1.fc44.noarch.rpm"}, // 3-0 is not built for fc44
		"fc40": {want: "https://zfsonlinux.org/fedora/zfs-release-2-8.fc40.noarch.rpm"}, // end of life: the last one published
		"fc35": {want: "https://zfsonlinux.org/fedora/zfs-release-2-3.fc35.noarch.rpm"},
		"fc45": {wantErr: "OpenZFS publishes no zfs-release package for Fedora 45 (zfsinstall knows packages for Fedora 35, 36, 37, 38, 39, 40, 41, 42, 43, 44): download the zfs-release package for Fedora 45 from https://zfsonlinux.org/fedora/ and set release_rpm to its local path"},
		"fc34": {wantErr: "OpenZFS publishes no zfs-release package for Fedora 34 (zfsinstall knows packages for Fedora 35, 36, 37, 38, 39, 40, 41, 42, 43, 44): download the zfs-release package for Fedora 34 from https://zfsonlinux.org/fedora/ and set release_rpm to its local path"},
		"el11": {wantErr: "this host runs rocky, which zfsinstall does not support: it supports Enterprise Linux 7 to 10 (RHEL, Rocky, AlmaLinux, Oracle Linux, CentOS) and Fedora"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ReleaseURL(distro(t, name))
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if got != tt.want {
				t.Errorf("ReleaseURL = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAcceptedKeys checks which pinned keys a zfs-release package may be
// signed with: the keys the published packages for that release carry
// (catalog zfs-release table), KeyFor's first.
func TestAcceptedKeys(t *testing.T) {
	tests := map[string][]string{
		"el7":  {Key2013},
		"el8":  {Key2013},
		"el9":  {Key2022},
		"el10": {Key2022},
		"fc36": {Key2013},
		"fc38": {Key2022, Key2013}, // zfs-release 2-5.fc38 is signed with 2013
		"fc41": {Key2022, Key2013}, // 2-6.fc41 with 2013
		"fc42": {Key2022},
		"fc44": {Key2022},
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			keys, err := acceptedKeys(distro(t, name))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range keys {
				got = append(got, k.Name)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("acceptedKeys (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEmbeddedKeysAreUpstream: the embedded keys are byte for byte the ones
// zfs-release installs (testdata/upstream/openzfs, copied from the package).
func TestEmbeddedKeysAreUpstream(t *testing.T) {
	for name, embedded := range map[string][]byte{Key2013: armored2013, Key2022: armored2022} {
		upstream, err := os.ReadFile(filepath.Join(sharedData, "openzfs", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(embedded, upstream) {
			t.Errorf("repos/keys/%s differs from testdata/upstream/openzfs/%s", name, name)
		}
	}
}
