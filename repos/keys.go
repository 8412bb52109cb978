package repos

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
)

// Key is an OpenPGP public key that may sign zfs-release packages.
type Key struct {
	// Name is the key file's name ("RPM-GPG-KEY-openzfs-2022").
	Name string
	// Fingerprint is the primary key's fingerprint in groups of four
	// ("7DC7 299D CF7C 7FD9 CD87 701B A599 FD5E 9DB8 4141").
	Fingerprint string
	// Armored is the ASCII-armored key, as `rpm --import` takes it.
	Armored []byte
}

// ShortID is the key's short ID as rpm names the imported key
// (gpg-pubkey-<short id>): the last eight hex digits of the fingerprint.
func (k Key) ShortID() string {
	fp := strings.ToLower(strings.ReplaceAll(k.Fingerprint, " ", ""))
	if len(fp) < 8 {
		return fp
	}
	return fp[len(fp)-8:]
}

// Names of the pinned OpenZFS signing keys.
const (
	Key2013 = "RPM-GPG-KEY-openzfs-2013"
	Key2022 = "RPM-GPG-KEY-openzfs-2022"
)

var (
	//go:embed keys/RPM-GPG-KEY-openzfs-2013
	armored2013 []byte
	//go:embed keys/RPM-GPG-KEY-openzfs-2022
	armored2022 []byte

	// pinned holds the OpenZFS keys, parsed on first use; building it
	// checks their fingerprints.
	pinned = sync.OnceValue(func() []Key {
		return []Key{
			mustKey(Key2013, armored2013, "C93A FFFD 9F3F 7B03 C310 CEB6 A9D5 A1C0 F14A B620"),
			mustKey(Key2022, armored2022, "7DC7 299D CF7C 7FD9 CD87 701B A599 FD5E 9DB8 4141"),
		}
	})
)

// mustKey parses an embedded key and panics unless it has the pinned
// fingerprint: a wrong key file in the binary is a build defect.
func mustKey(name string, armored []byte, fingerprint string) Key {
	k, err := ParseKey(name, armored)
	if err != nil {
		panic(fmt.Sprintf("repos: embedded key %s: %v", name, err))
	}
	if k.Fingerprint != fingerprint {
		panic(fmt.Sprintf("repos: embedded key %s has fingerprint %s, pinned %s", name, k.Fingerprint, fingerprint))
	}
	return k
}

// PinnedKeys returns the OpenZFS signing keys built into zfsinstall:
// RPM-GPG-KEY-openzfs-2013, then RPM-GPG-KEY-openzfs-2022.
func PinnedKeys() []Key {
	return append([]Key(nil), pinned()...)
}

func pinnedKey(name string) Key {
	for _, k := range pinned() {
		if k.Name == name {
			return k
		}
	}
	panic("repos: no pinned key " + name)
}

// ParseKey makes a Key from an ASCII-armored public key file holding exactly
// one key (a private mirror's or the test bed's signing key).
func ParseKey(name string, armored []byte) (Key, error) {
	// armor.Decode reads the first block only: count them to catch a second.
	if n := bytes.Count(armored, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")); n > 1 {
		return Key{}, fmt.Errorf("reading key %s: want exactly one public key, found %d key blocks", name, n)
	}
	list, err := readKeyRing(armored)
	if err != nil {
		return Key{}, fmt.Errorf("reading key %s: %w", name, err)
	}
	if len(list) != 1 {
		return Key{}, fmt.Errorf("reading key %s: want exactly one public key, found %d", name, len(list))
	}
	return Key{Name: name, Fingerprint: formatFingerprint(list[0].PrimaryKey.Fingerprint[:]), Armored: armored}, nil
}

func formatFingerprint(fp []byte) string {
	hex := fmt.Sprintf("%X", fp)
	var groups []string
	for i := 0; i < len(hex); i += 4 {
		groups = append(groups, hex[i:min(i+4, len(hex))])
	}
	return strings.Join(groups, " ")
}

// readKeyRing parses the first ASCII-armored block of armored.
//
// Keys and signatures are handled by github.com/ProtonMail/go-crypto, the
// maintained fork of golang.org/x/crypto/openpgp: the latter "is
// unmaintained, unsafe at any speed, and does not receive security fixes"
// and points at this fork (golang/crypto commit d9474cc, June 2026, in
// x/crypto v0.54.0). Its v1 API, used here, is the drop-in replacement: it
// applies no hash-algorithm reject lists (those are its v2 API's), so the
// SHA-1 signatures of the retired zfs-release 1.x packages still verify and
// are refused as 1.x, as before; it parses v4 to v6 signature packets only,
// and every zfs-release signature is v4.
func readKeyRing(armored []byte) (openpgp.EntityList, error) {
	block, err := armor.Decode(bytes.NewReader(armored))
	if err != nil {
		return nil, err
	}
	return openpgp.ReadKeyRing(block.Body)
}

// parsedKeys caches readKeyRing by armored text: parsing checks the key's
// self-signatures, an RSA verification each, which was more than half of
// the cost of VerifyRelease. The entities are only read after parsing.
var parsedKeys sync.Map // string -> openpgp.EntityList

// entities parses keys into one keyring. Keys made by ParseKey or
// PinnedKeys always parse.
func entities(keys []Key) (openpgp.EntityList, error) {
	var all openpgp.EntityList
	for _, k := range keys {
		ring, ok := parsedKeys.Load(string(k.Armored))
		if !ok {
			parsed, err := readKeyRing(k.Armored)
			if err != nil {
				return nil, fmt.Errorf("reading key %s: %w", k.Name, err)
			}
			ring, _ = parsedKeys.LoadOrStore(string(k.Armored), parsed)
		}
		all = append(all, ring.(openpgp.EntityList)...)
	}
	return all, nil
}

// KeyFor returns the key that signs the OpenZFS packages for d, the one
// to import with `rpm --import` before installing from zfs.repo: the key
// zfs.repo's gpgkey= link for d points at, from the catalog's zfs-release
// table (EL7 and EL8 RPM-GPG-KEY-openzfs-2013, EL9 and EL10 -2022, Fedora 37
// and later -2022, older Fedora -2013). A Fedora release newer than the
// table takes the newest row's key.
func KeyFor(d facts.Distro) (Key, error) {
	if err := supported(d); err != nil {
		return Key{}, err
	}
	name, _, ok := catalog.ZFSReleaseKeys(string(d.Family), d.Major)
	if !ok {
		return Key{}, fmt.Errorf("the catalog names no OpenZFS signing key for %s", hostLabel(d))
	}
	return pinnedKey(name), nil
}

// acceptedKeys returns the pinned keys a zfs-release package for d may be
// signed with, KeyFor's first: the keys the published zfs-release packages
// for d's release were signed with (catalog zfs-release table, checked
// against every real package). Fedora 38 to 41 have packages signed with
// either key (2-5 and 2-6 with 2013); EL7/EL8 only 2013, EL9/EL10 and
// Fedora 42 and later only 2022.
func acceptedKeys(d facts.Distro) ([]Key, error) {
	k, err := KeyFor(d)
	if err != nil {
		return nil, err
	}
	_, names, _ := catalog.ZFSReleaseKeys(string(d.Family), d.Major)
	keys := []Key{k}
	for _, name := range names {
		if name != k.Name {
			keys = append(keys, pinnedKey(name))
		}
	}
	return keys, nil
}

// supported says whether zfsinstall knows how to handle d at all.
func supported(d facts.Distro) error {
	switch {
	case d.Family == "el" && d.Major >= 7 && d.Major <= 10:
		return nil
	case d.Family == "fedora" && d.Major > 0:
		return nil
	}
	what := strings.TrimSpace(d.ID + " " + d.VersionID)
	if d.Name != "" {
		what = d.Name
	}
	if what == "" {
		what = "an unknown distribution"
	}
	return fmt.Errorf("this host runs %s, which zfsinstall does not support: it supports Enterprise Linux 7 to 10 (RHEL, Rocky, AlmaLinux, Oracle Linux, CentOS) and Fedora", what)
}

// hostLabel names d's family and major release: "EL9", "Fedora 41".
func hostLabel(d facts.Distro) string {
	if d.Family == "fedora" {
		return fmt.Sprintf("Fedora %d", d.Major)
	}
	return fmt.Sprintf("EL%d", d.Major)
}

// Trusted returns the keys a zfs-release package is checked against: the
// caller's (--release-key) when given, else the pinned OpenZFS keys.
func Trusted(keys []Key) []Key {
	if keys == nil {
		return PinnedKeys()
	}
	return keys
}
