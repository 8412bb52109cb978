package facts

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// FuzzOSRelease parses arbitrary bytes as an os-release file and builds a
// Distro from it. Neither may panic; every key comes from one line; the
// Distro is supported only as a family zfsinstall knows (an EL rebuild of
// major 7 or later, or Fedora) with the dist tag of that family.
//
// A supported Distro's DistTag and Releasever are well formed: they go into
// URLs and paths (".fc41/" or "41/../../x" from VERSION_ID="41/../../x"
// once did).
//
// Seeds: the os-release of every live fixture host (testdata/hosts-live),
// and, in testdata/fuzz/FuzzOSRelease, the real files of the two AlmaLinux
// root filesystems under testdata/upstream/rootfs (usr/lib/os-release of
// 8.9 and 9.3, extracted with tar -xJf) and of Debian 12 (the os-release of
// the machine the corpus was made on).
func FuzzOSRelease(f *testing.F) {
	paths, err := filepath.Glob("../testdata/hosts-live/*/etc/os-release")
	if err != nil || len(paths) == 0 {
		f.Fatalf("no os-release under testdata/hosts-live: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("ID=centos\nVERSION_ID=\"9\"\n"))
	f.Add([]byte("ID=fedora\nVERSION_ID=41\nNAME=Fedora Linux\n"))
	f.Add([]byte("ID=\"rhel\"\nVERSION_ID='7.9'\n# comment\n\n=x\nnoequals\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		kv := ParseOSRelease(data)
		for k := range kv {
			if strings.Contains(k, "\n") {
				t.Errorf("key %q spans lines", k)
			}
			if !strings.Contains(string(data), k+"=") {
				t.Errorf("key %q is not in the input", k)
			}
		}
		d := DistroFromOSRelease(kv)
		if d.ID != kv["ID"] || d.VersionID != kv["VERSION_ID"] || d.IDLike != kv["ID_LIKE"] {
			t.Errorf("Distro %+v does not carry ID, VERSION_ID and ID_LIKE of %q", d, kv)
		}
		if d.Supported() != (d.Family != FamilyNone) || !slices.Contains([]Family{FamilyNone, FamilyEL, FamilyFedora}, d.Family) {
			t.Errorf("Family = %q, Supported() = %v", d.Family, d.Supported())
		}
		if d.Minor < -1 {
			t.Errorf("Minor = %d", d.Minor)
		}
		if d.Stream && (d.Family != FamilyEL || d.ID != "centos") {
			t.Errorf("Stream for %+v", d)
		}
		wellFormed := regexp.MustCompile(`^[1-9][0-9]{0,3}$`)
		switch d.Family {
		case FamilyEL:
			if !elIDs[d.ID] || d.Major < 7 || d.DistTag != ".el"+d.Releasever || !wellFormed.MatchString(d.Releasever) {
				t.Errorf("EL distro %+v", d)
			}
		case FamilyFedora:
			if d.ID != "fedora" || d.Releasever != d.VersionID || d.DistTag != ".fc"+d.Releasever || !wellFormed.MatchString(d.Releasever) {
				t.Errorf("Fedora distro %+v", d)
			}
		}
	})
}

func TestDistroFromOSReleaseVersions(t *testing.T) {
	cases := map[string]struct {
		id, version string
		supported   bool
		releasever  string
	}{
		"RHEL 9.0":           {"rhel", "9.0", true, "9"},
		"Alma 8.10":          {"almalinux", "8.10", true, "8"},
		"Stream 9":           {"centos", "9", true, "9"},
		"Fedora 44":          {"fedora", "44", true, "44"},
		"Fedora, no id":      {"fedora", "", false, ""},
		"path in VERSION_ID": {"fedora", "41/../../x", false, ""},
		"sign":               {"rocky", "+9.4", false, ""},
		"leading zero":       {"rocky", "09.4", false, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := DistroFromOSRelease(map[string]string{"ID": tc.id, "VERSION_ID": tc.version})
			if d.Supported() != tc.supported || d.Releasever != tc.releasever {
				t.Errorf("Supported = %v, Releasever = %q; want %v, %q", d.Supported(), d.Releasever, tc.supported, tc.releasever)
			}
		})
	}
}
