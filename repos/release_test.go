package repos

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cavaliergopher/rpm"
	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/facts"
)

// releaseDir holds every real zfs-release package (testdata/upstream).
var releaseDir = filepath.Join(sharedData, "openzfs", "zfs-release")

// signatures reads SIGNATURES.tsv: file name -> signing key id ("" = unsigned).
func signatures(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(releaseDir, "SIGNATURES.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keyID := regexp.MustCompile(`Key ID ([0-9a-f]{16})`)
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 4 {
			t.Fatalf("SIGNATURES.tsv: short line %q", sc.Text())
		}
		out[cols[0]] = ""
		if m := keyID.FindStringSubmatch(cols[3]); m != nil {
			out[cols[0]] = m[1]
		}
	}
	return out
}

// TestVerifyReleaseRealPackages checks every real zfs-release package on the
// host it is for: who signed it must be what SIGNATURES.tsv says, and the
// packages zfsinstall must not install are refused for the stated reason.
func TestVerifyReleaseRealPackages(t *testing.T) {
	const (
		ok       = ""
		source   = "is a source package"
		neutral  = "is the short-lived distribution-neutral package of July 2022"
		retired  = "is from the retired zfs-release 1.x series"
		unsigned = "is not signed: refusing"
	)
	tests := map[string]struct{ host, wantErr string }{
		"zfs-release-2-2.el7.noarch.rpm":    {"el7", ok},
		"zfs-release-2-2.el8.noarch.rpm":    {"el8", ok},
		"zfs-release-2-2.el9.noarch.rpm":    {"el9", ok},
		"zfs-release-2-2.fc35.noarch.rpm":   {"fc35", ok},
		"zfs-release-2-2.fc36.noarch.rpm":   {"fc36", ok},
		"zfs-release-2-2.fc37.noarch.rpm":   {"fc37", ok},
		"zfs-release-2-3.el7.noarch.rpm":    {"el7", ok},
		"zfs-release-2-3.el8.noarch.rpm":    {"el8", ok},
		"zfs-release-2-3.el9.noarch.rpm":    {"el9", ok},
		"zfs-release-2-3.fc35.noarch.rpm":   {"fc35", ok},
		"zfs-release-2-3.fc36.noarch.rpm":   {"fc36", ok},
		"zfs-release-2-3.fc37.noarch.rpm":   {"fc37", ok},
		"zfs-release-2-3.fc38.noarch.rpm":   {"fc38", ok},
		"zfs-release-2-4.fc37.noarch.rpm":   {"fc37", ok},
		"zfs-release-2-4.fc38.noarch.rpm":   {"fc38", ok},
		"zfs-release-2-4.fc39.noarch.rpm":   {"fc39", ok},
		"zfs-release-2-5.fc38.noarch.rpm":   {"fc38", ok}, // signed with 2013: Fedora accepts either key
		"zfs-release-2-5.fc39.noarch.rpm":   {"fc39", ok},
		"zfs-release-2-5.fc40.noarch.rpm":   {"fc40", ok},
		"zfs-release-2-6.fc40.noarch.rpm":   {"fc40", ok},
		"zfs-release-2-6.fc41.noarch.rpm":   {"fc41", ok},
		"zfs-release-2-8.el10.noarch.rpm":   {"el10", ok},
		"zfs-release-2-8.el8.noarch.rpm":    {"el8", ok},
		"zfs-release-2-8.el9.noarch.rpm":    {"el9", ok},
		"zfs-release-2-8.fc40.noarch.rpm":   {"fc40", ok},
		"zfs-release-2-8.fc41.noarch.rpm":   {"fc41", ok},
		"zfs-release-2-8.fc42.noarch.rpm":   {"fc42", ok},
		"zfs-release-3-0.el10.noarch.rpm":   {"el10", ok},
		"zfs-release-3-0.el8.noarch.rpm":    {"el8", ok},
		"zfs-release-3-0.el9.noarch.rpm":    {"el9", ok},
		"zfs-release-3-0.el9.src.rpm":       {"el9", source},
		"zfs-release-3-0.fc41.noarch.rpm":   {"fc41", ok},
		"zfs-release-3-0.fc42.noarch.rpm":   {"fc42", ok},
		"zfs-release-3-0.fc43.noarch.rpm":   {"fc43", ok},
		"zfs-release-3-1.fc42.noarch.rpm":   {"fc42", ok},
		"zfs-release-3-1.fc43.noarch.rpm":   {"fc43", ok},
		"zfs-release-3-1.fc44.noarch.rpm":   {"fc44", ok},
		"zfs-release-el-2-1.noarch.rpm":     {"el9", neutral},
		"zfs-release-fedora-2-1.noarch.rpm": {"fc41", neutral},
		"zfs-release.el6.noarch.rpm":        {"el7", retired},
		"zfs-release.el7_5.noarch.rpm":      {"el7", retired},
		"zfs-release.el7_6.noarch.rpm":      {"el7", retired},
		"zfs-release.el7_7.noarch.rpm":      {"el7", retired},
		"zfs-release.el7_8.noarch.rpm":      {"el7", retired},
		"zfs-release.el7_9.noarch.rpm":      {"el7", retired},
		"zfs-release.el8_0.noarch.rpm":      {"el8", retired},
		"zfs-release.el8_1.noarch.rpm":      {"el8", retired},
		"zfs-release.el8_2.noarch.rpm":      {"el8", unsigned},
		"zfs-release.el8_3.noarch.rpm":      {"el8", retired},
		"zfs-release.el8_4.noarch.rpm":      {"el8", retired},
		"zfs-release.el8_5.noarch.rpm":      {"el8", retired},
		"zfs-release.el8_6.noarch.rpm":      {"el8", retired},
		"zfs-release.fc31.noarch.rpm":       {"fc36", retired},
		"zfs-release.fc32.noarch.rpm":       {"fc36", retired},
		"zfs-release.fc33.noarch.rpm":       {"fc36", retired},
		"zfs-release.fc34.noarch.rpm":       {"fc36", retired},
		"zfs-release.fc35.noarch.rpm":       {"fc36", retired},
		"zfs-release.fc36.noarch.rpm":       {"fc36", retired},
	}
	files, err := filepath.Glob(filepath.Join(releaseDir, "*.rpm"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no zfs-release packages in %s (testdata/upstream is part of the repository): %v", releaseDir, err)
	}
	for _, f := range files {
		if _, ok := tests[filepath.Base(f)]; !ok {
			t.Errorf("%s is not in the test table", f)
		}
	}
	sigs := signatures(t)
	sigs["zfs-release-3-0.el9.src.rpm"] = "a599fd5e9db84141" // SIGNATURES.tsv lists noarch packages only; `rpm -K` says so
	keyName := map[string]string{"a9d5a1c0f14ab620": Key2013, "a599fd5e9db84141": Key2022, "": ""}
	// Passing the pinned keys as trusted must apply the same rules as nil.
	for trustName, trusted := range map[string][]Key{"nil": nil, "PinnedKeys": PinnedKeys()} {
		for name, tt := range tests {
			t.Run(trustName+"/"+name, func(t *testing.T) {
				keyID, listed := sigs[name]
				if !listed {
					t.Fatalf("%s is not in SIGNATURES.tsv", name)
				}
				info, err := VerifyRelease(readTestFile(t, filepath.Join(releaseDir, name)), distro(t, tt.host), trusted)
				switch {
				case tt.wantErr == "" && err != nil:
					t.Errorf("refused: %v", err)
				case tt.wantErr != "" && !strings.Contains(errString(err), tt.wantErr):
					t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
				}
				if info.KeyID != keyID || info.SignedBy != keyName[keyID] {
					t.Errorf("signed by %q (%s), SIGNATURES.tsv says %q (%s)", info.KeyID, info.SignedBy, keyID, keyName[keyID])
				}
			})
		}
	}
}

func TestVerifyReleaseInfo(t *testing.T) {
	data := readTestFile(t, filepath.Join(releaseDir, "zfs-release-3-0.el9.noarch.rpm"))
	got, err := VerifyRelease(data, distro(t, "el9"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := ReleaseInfo{
		Name: "zfs-release", Version: "3", Release: "0.el9", Arch: "noarch", DistTag: ".el9",
		SignedBy: Key2022, KeyID: "a599fd5e9db84141",
		SHA256: digest(sha256.New, data),
	}
	if want.Repo, err = ReleaseRepo(data); err != nil || !bytes.Contains(want.Repo, []byte("\n[zfs-kmod]\n")) {
		t.Fatalf("zfs.repo of the package: %v\n%s", err, want.Repo)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestVerifyReleaseRefusals pins the full text of each kind of refusal.
func TestVerifyReleaseRefusals(t *testing.T) {
	pkg := func(name string) []byte { return readTestFile(t, filepath.Join(releaseDir, name)) }
	testbedKey, err := ParseKey("RPM-GPG-KEY-zfsinstall-testbed", readTestFile(t, filepath.Join(testdata, "RPM-GPG-KEY-zfsinstall-testbed")))
	if err != nil {
		t.Fatal(err)
	}
	testbed := readTestFile(t, filepath.Join(testdata, "zfs-release-3-0.el9.testbed-header-only.noarch.rpm"))
	tests := map[string]struct {
		data    []byte
		host    string
		trusted []Key
		want    string
	}{
		"el8 package on el9": {
			data: pkg("zfs-release-3-0.el8.noarch.rpm"), host: "el9",
			want: "zfs-release-3-0.el8.noarch.rpm is built for EL8 (.el8) but this host is EL9 (.el9): refusing; install https://zfsonlinux.org/epel/zfs-release-3-0.el9.noarch.rpm instead",
		},
		"el9 package on el8": {
			data: pkg("zfs-release-3-0.el9.noarch.rpm"), host: "el8",
			want: "zfs-release-3-0.el9.noarch.rpm is built for EL9 (.el9) but this host is EL8 (.el8): refusing; install https://zfsonlinux.org/epel/zfs-release-3-0.el8.noarch.rpm instead",
		},
		"fedora package on el9": {
			data: pkg("zfs-release-3-0.fc41.noarch.rpm"), host: "el9",
			want: "zfs-release-3-0.fc41.noarch.rpm is built for Fedora 41 (.fc41) but this host is EL9 (.el9): refusing; install https://zfsonlinux.org/epel/zfs-release-3-0.el9.noarch.rpm instead",
		},
		"fc41 package on fc42": {
			data: pkg("zfs-release-3-0.fc41.noarch.rpm"), host: "fc42",
			want: "zfs-release-3-0.fc41.noarch.rpm is built for Fedora 41 (.fc41) but this host is Fedora 42 (.fc42): refusing; install https://zfsonlinux.org/fedora/zfs-release-3-1.fc42.noarch.rpm instead",
		},
		"source package": {
			data: pkg("zfs-release-3-0.el9.src.rpm"), host: "el9",
			want: "zfs-release-3-0.el9.src.rpm is a source package, not the noarch package that installs zfs.repo: refusing; install https://zfsonlinux.org/epel/zfs-release-3-0.el9.noarch.rpm instead",
		},
		"unsigned": {
			data: pkg("zfs-release.el8_2.noarch.rpm"), host: "el8",
			want: "zfs-release-1-9.noarch.rpm is not signed: refusing; zfsinstall installs only zfs-release packages signed by RPM-GPG-KEY-openzfs-2013 (C93A FFFD 9F3F 7B03 C310 CEB6 A9D5 A1C0 F14A B620): download a signed one from https://zfsonlinux.org/epel/",
		},
		"retired 1.x on fedora": {
			data: pkg("zfs-release.fc36.noarch.rpm"), host: "fc36",
			want: "zfs-release-1-5.fc36.noarch.rpm is from the retired zfs-release 1.x series (old key file RPM-GPG-KEY-zfsonlinux; on EL its repos are pinned to one minor release): refusing; install https://zfsonlinux.org/fedora/zfs-release-2-3.fc36.noarch.rpm instead",
		},
		"distribution-neutral": {
			data: pkg("zfs-release-el-2-1.noarch.rpm"), host: "el8",
			want: "zfs-release-el-2-1.noarch.rpm is the short-lived distribution-neutral package of July 2022, replaced by zfs-release 2-2 and later: refusing; install https://zfsonlinux.org/epel/zfs-release-3-0.el8.noarch.rpm instead",
		},
		"re-signed package without trusted keys": {
			data: testbed, host: "el9",
			want: "zfs-release-3-0.el9.noarch.rpm is signed by key 93039eb523ccb1d9, not by RPM-GPG-KEY-openzfs-2022 (7DC7 299D CF7C 7FD9 CD87 701B A599 FD5E 9DB8 4141): refusing; download the package again from https://zfsonlinux.org/epel/ or check your mirror",
		},
		"openzfs package with only the test bed key trusted": {
			data: pkg("zfs-release-3-0.el9.noarch.rpm"), host: "el9", trusted: []Key{testbedKey},
			want: "zfs-release-3-0.el9.noarch.rpm is signed by key a599fd5e9db84141 (RPM-GPG-KEY-openzfs-2022), not by RPM-GPG-KEY-zfsinstall-testbed (3F53 D16E 66FE E6DD 7D85 D574 9303 9EB5 23CC B1D9): refusing; download the package again from https://zfsonlinux.org/epel/ or check your mirror",
		},
		"not an rpm": {
			data: []byte("<html><body>404 Not Found</body></html>\n" + strings.Repeat(" ", 200)), host: "el9",
			want: "reading the zfs-release package: it is not an rpm file (it does not start with the rpm lead's magic number ED AB EE DB): refusing; download it again from https://zfsonlinux.org/epel/",
		},
		"unsupported host": {
			data: pkg("zfs-release-3-0.el9.noarch.rpm"), host: "el6",
			want: "this host runs rocky, which zfsinstall does not support: it supports Enterprise Linux 7 to 10 (RHEL, Rocky, AlmaLinux, Oracle Linux, CentOS) and Fedora",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := VerifyRelease(tt.data, distro(t, tt.host), tt.trusted)
			if diff := cmp.Diff(tt.want, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

// TestKeyFits checks the per-distribution key rule on its own: no real
// package is signed with the wrong OpenZFS key for its own dist tag.
func TestKeyFits(t *testing.T) {
	tests := map[string]struct {
		host, signer, keyID string
		want                string
	}{
		"2022 on EL9":    {"el9", Key2022, "a599fd5e9db84141", ""},
		"2013 on EL8":    {"el8", Key2013, "a9d5a1c0f14ab620", ""},
		"2013 on Fedora": {"fc41", Key2013, "a9d5a1c0f14ab620", ""},
		"2022 on Fedora": {"fc41", Key2022, "a599fd5e9db84141", ""},
		"2013 on EL9": {"el9", Key2013, "a9d5a1c0f14ab620",
			"zfs-release-3-0.el9.noarch.rpm is signed by key a9d5a1c0f14ab620 (RPM-GPG-KEY-openzfs-2013) but EL9 packages must be signed by RPM-GPG-KEY-openzfs-2022 (7DC7 299D CF7C 7FD9 CD87 701B A599 FD5E 9DB8 4141): refusing; download the package again from https://zfsonlinux.org/epel/ or check your mirror"},
		"2022 on EL7": {"el7", Key2022, "a599fd5e9db84141",
			"zfs-release-3-0.el9.noarch.rpm is signed by key a599fd5e9db84141 (RPM-GPG-KEY-openzfs-2022) but EL7 packages must be signed by RPM-GPG-KEY-openzfs-2013 (C93A FFFD 9F3F 7B03 C310 CEB6 A9D5 A1C0 F14A B620): refusing; download the package again from https://zfsonlinux.org/epel/ or check your mirror"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			d := distro(t, tt.host)
			accepted, err := acceptedKeys(d)
			if err != nil {
				t.Fatal(err)
			}
			v := verification{file: "zfs-release-3-0.el9.noarch.rpm", site: releaseSite(d), ring: pinned(), accepted: accepted, pinnedOK: accepted}
			err = v.fits(d, signer{key: pinnedKey(tt.signer), keyID: tt.keyID})
			if diff := cmp.Diff(tt.want, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

// TestVerifyReleaseTrustedKeys checks packages re-signed with the test bed's
// key, as a private mirror would: rpm 4.18's rpmsign adds only a header
// signature unless given --rpmv3, so both shapes must verify.
func TestVerifyReleaseTrustedKeys(t *testing.T) {
	key, err := ParseKey("RPM-GPG-KEY-zfsinstall-testbed", readTestFile(t, filepath.Join(testdata, "RPM-GPG-KEY-zfsinstall-testbed")))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		path        string
		trusted     []Key
		wantSigner  string
		wantKeyID   string
		wantRefusal string
	}{
		"header-only signature": {path: filepath.Join(testdata, "zfs-release-3-0.el9.testbed-header-only.noarch.rpm"), trusted: []Key{key}, wantSigner: key.Name, wantKeyID: "93039eb523ccb1d9"},
		"v3 signature":          {path: filepath.Join(testdata, "zfs-release-3-0.el9.testbed-v3.noarch.rpm"), trusted: []Key{key}, wantSigner: key.Name, wantKeyID: "93039eb523ccb1d9"},
		"mirror key and pinned keys, mirror package": {path: filepath.Join(testdata, "zfs-release-3-0.el9.testbed-v3.noarch.rpm"), trusted: append(PinnedKeys(), key),
			wantSigner: key.Name, wantKeyID: "93039eb523ccb1d9"},
		"mirror key and pinned keys, OpenZFS package": {path: filepath.Join(releaseDir, "zfs-release-3-0.el9.noarch.rpm"), trusted: append(PinnedKeys(), key),
			wantSigner: Key2022, wantKeyID: "a599fd5e9db84141"},
		"only the 2013 key trusted on EL9": {path: filepath.Join(releaseDir, "zfs-release-3-0.el9.noarch.rpm"), trusted: []Key{pinnedKey(Key2013)},
			wantRefusal: "zfs-release-3-0.el9.noarch.rpm is signed by key a599fd5e9db84141 (RPM-GPG-KEY-openzfs-2022), not by RPM-GPG-KEY-openzfs-2013 (C93A FFFD 9F3F 7B03 C310 CEB6 A9D5 A1C0 F14A B620): refusing; download the package again from https://zfsonlinux.org/epel/ or check your mirror"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			info, err := VerifyRelease(readTestFile(t, tt.path), distro(t, "el9"), tt.trusted)
			if diff := cmp.Diff(tt.wantRefusal, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if info.SignedBy != tt.wantSigner || info.KeyID != tt.wantKeyID {
				t.Errorf("signed by %s %s, want %s %s", info.SignedBy, info.KeyID, tt.wantSigner, tt.wantKeyID)
			}
		})
	}
}

// TestVerifyReleaseCorrupted damages copies of real and re-signed packages:
// every change to the header or the payload must be caught.
func TestVerifyReleaseCorrupted(t *testing.T) {
	key, err := ParseKey("RPM-GPG-KEY-zfsinstall-testbed", readTestFile(t, filepath.Join(testdata, "RPM-GPG-KEY-zfsinstall-testbed")))
	if err != nil {
		t.Fatal(err)
	}
	real := readTestFile(t, filepath.Join(releaseDir, "zfs-release-3-0.el9.noarch.rpm"))
	headerOnly := readTestFile(t, filepath.Join(testdata, "zfs-release-3-0.el9.testbed-header-only.noarch.rpm"))
	const file, again = "zfs-release-3-0.el9.noarch.rpm is damaged or was tampered with: ", ": refusing; download it again from https://zfsonlinux.org/epel/"

	tests := map[string]struct {
		data    []byte
		trusted []Key
		want    string
	}{
		"flipped header byte": {
			data: flip(t, real, func(hs, he, n int) int { return he - 40 }),
			want: file + "the signature over its header by key a599fd5e9db84141 (RPM-GPG-KEY-openzfs-2022) does not verify (openpgp: invalid signature: RSA verification failure)" + again,
		},
		"flipped payload byte": {
			data: flip(t, real, func(hs, he, n int) int { return n - 100 }),
			want: file + "the signature over its header and payload by key a599fd5e9db84141 (RPM-GPG-KEY-openzfs-2022) does not verify (openpgp: invalid signature: RSA verification failure)" + again,
		},
		"flipped payload byte, header-only signature": {
			data: flip(t, headerOnly, func(hs, he, n int) int { return he + 100 }), trusted: []Key{key},
			want: file + "the payload digest does not match the signed header",
		},
		"flipped header byte, header-only signature": {
			data: flip(t, headerOnly, func(hs, he, n int) int { return hs + (he-hs)/2 }), trusted: []Key{key},
			want: file + "the signature over its header by key 93039eb523ccb1d9 (RPM-GPG-KEY-zfsinstall-testbed) does not verify",
		},
		"truncated payload": {
			data: real[:len(real)-10],
			want: file + "the file is truncated (8712 bytes of header and payload, the signature header says 8722)" + again,
		},
		"truncated header": {
			data: real[:2000],
			want: "the zfs-release package is damaged or was tampered with: the file ends inside its signature header: 1904 bytes are left, the header says it has 4404: refusing; download it again from https://zfsonlinux.org/epel/",
		},
		"trailing bytes": {
			data: append(append([]byte{}, real...), "junk"...),
			want: file + "4 bytes follow the payload" + again,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := VerifyRelease(tt.data, distro(t, "el9"), tt.trusted)
			if err == nil {
				t.Fatal("damaged package accepted")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %v\nwant one starting %q", err, tt.want)
			}
		})
	}
}

// flip returns a copy of data with the byte at at(headerStart, headerEnd,
// len) inverted.
func flip(t *testing.T, data []byte, at func(hs, he, n int) int) []byte {
	t.Helper()
	pkg, err := rpm.Read(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	hs, he := pkg.HeaderRange()
	i := at(hs, he, len(data))
	out := append([]byte{}, data...)
	out[i] ^= 0xff
	return out
}

// TestVerifyReleaseUnsupportedDistro covers a host without a family.
func TestVerifyReleaseUnsupportedDistro(t *testing.T) {
	_, err := VerifyRelease(nil, facts.Distro{ID: "debian", VersionID: "12", Name: "Debian GNU/Linux 12 (bookworm)"}, nil)
	want := "this host runs Debian GNU/Linux 12 (bookworm), which zfsinstall does not support: it supports Enterprise Linux 7 to 10 (RHEL, Rocky, AlmaLinux, Oracle Linux, CentOS) and Fedora"
	if diff := cmp.Diff(want, errString(err)); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
}
