package repos

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"regexp"
	"strconv"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/cavaliergopher/rpm"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
)

// ReleaseURL returns where the zfs-release package for d is published,
// from the catalog's zfs-release table: zfs-release-2-3.el7 for EL7,
// zfs-release-3-0.elN for EL8 to EL10, zfs-release-3-1.fcN for Fedora 42 to
// 44 and 3-0.fc41 for Fedora 41 (3-1 is not built for it), and the last
// package published for an end-of-life Fedora. The dist tag comes from the
// major release, not from d.DistTag, which on some hosts carries a minor
// (".el8_10").
func ReleaseURL(d facts.Distro) (string, error) {
	if err := supported(d); err != nil {
		return "", err
	}
	if r, ok := catalog.LookupZFSRelease(string(d.Family), d.Major); ok {
		return r.URL, nil
	}
	var have []string
	for _, r := range catalog.ZFSReleases() {
		if r.Family == string(d.Family) {
			have = append(have, strconv.Itoa(r.Major))
		}
	}
	return "", fmt.Errorf("OpenZFS publishes no zfs-release package for %s (zfsinstall knows packages for %s %s): download the zfs-release package for %s from %s and set release_rpm to its local path",
		hostLabel(d), familyLabel(d), strings.Join(have, ", "), hostLabel(d), releaseSite(d))
}

// releaseSite is the directory OpenZFS publishes d's release packages in,
// from the catalog's zfs-release table.
func releaseSite(d facts.Distro) string {
	if site := catalog.ZFSReleaseSite(string(d.Family)); site != "" {
		return site
	}
	return "https://zfsonlinux.org/"
}

// familyLabel names d's family for a list of majors: "EL", "Fedora".
func familyLabel(d facts.Distro) string {
	if d.Family == "fedora" {
		return "Fedora"
	}
	return "EL"
}

// ReleaseInfo describes a verified zfs-release package.
type ReleaseInfo struct {
	Name, Version, Release, Arch string
	// DistTag is the dist tag found in Release (".el9", ".fc41"), "" if none.
	DistTag string
	// SignedBy is the Name of the key that signed it.
	SignedBy string
	// KeyID is the signing key's 16-digit id ("a599fd5e9db84141").
	KeyID string
	// SHA256 is the hex digest of the whole file.
	SHA256 string
	// Repo is the zfs.repo the package installs, read from its verified
	// payload (see ReleaseRepo), so that the repositories can be asked
	// before the package is installed.
	Repo []byte `json:"-"`
}

// distRe finds the dist tag in a release: "0.el9" -> el9, "5.el7.centos" -> el7.
var distRe = regexp.MustCompile(`(?:^|\.)((?:el|fc)[0-9]+)(?:[._]|$)`)

// Tags of the rpm signature header and main header that VerifyRelease reads
// (rpm's include/rpm/rpmtag.h).
const (
	sigTagSize       = 1000 // header+payload size, int32
	sigTagLongSize   = 270  // the same, int64
	sigTagMD5        = 1004 // MD5 of header+payload
	sigTagSHA1       = 269  // SHA1 of the header, hex
	sigTagSHA256     = 273  // SHA256 of the header, hex
	tagSourceRPM     = 1044
	tagPayloadDigest = 5092 // digest of the compressed payload, hex, in the signed header
	tagPayloadAlgo   = 5093
)

// sigTag is a signature rpm may carry: over the header alone (checked with
// the payload digest inside the header) or over header and payload.
type sigTag struct {
	id         int
	headerOnly bool
}

var sigTags = []sigTag{
	{268, true},   // RPMSIGTAG_RSA: RSA over the header
	{267, true},   // RPMSIGTAG_DSA: DSA over the header
	{1002, false}, // RPMSIGTAG_PGP: RSA over header and payload
	{1006, false}, // RPMSIGTAG_PGP5
	{1005, false}, // RPMSIGTAG_GPG: DSA over header and payload
}

// payloadHashes maps rpm's PGPHASHALGO numbers to digests.
var payloadHashes = map[int64]func() hash.Hash{
	1: md5.New, 2: sha1.New, 8: sha256.New, 9: sha512.New384, 10: sha512.New, 11: sha256.New224,
}

// VerifyRelease checks a zfs-release package file before anything installs
// it. dnf does not GPG-check a package installed from a file path, so this
// is the check. It refuses any package on a host zfsinstall does not
// support, then, in order, a package that:
//
//   - is not a readable rpm, is truncated or has trailing data, or has a
//     lead or header whose structure rpm itself would refuse (checkRPM);
//   - is unsigned, or signed by a key that is not trusted;
//   - has a signature, payload digest or header digest that does not match
//     (the file was damaged or tampered with); a header-only signature must
//     be backed by the payload digest inside the signed header;
//   - is not named zfs-release: the short-lived zfs-release-el and
//     zfs-release-fedora 2-1 packages of July 2022 are refused by name;
//   - is a source package or not noarch;
//   - is from the 1.x series (zfs-release-1-*, whose repos are pinned to one
//     EL minor and whose releases such as "8.4" or "10" carry no dist tag);
//   - has a dist tag other than d's (".el9" on EL9, ".fc41" on Fedora 41);
//   - is signed by a pinned key that does not fit d: EL7/EL8 need 2013,
//     EL9/EL10 2022, Fedora either (see KeyFor);
//   - has a payload that cannot be read, installs anything but
//     /etc/yum.repos.d/zfs.repo and keys under /etc/pki/rpm-gpg/, or whose
//     zfs.repo does not parse (ReleaseRepo; Repo then holds zfs.repo).
//
// trusted replaces the pinned keys when non-nil: it is for private mirrors
// and the test bed, which re-sign packages with their own key. A trusted key
// of the caller's is accepted for any distribution; a pinned OpenZFS key in
// trusted still has to fit the host, so passing PinnedKeys() is the same as
// passing nil. On refusal the returned ReleaseInfo holds what was learned
// before the refusal, and every message names the package, the cause and
// the way out.
func VerifyRelease(data []byte, d facts.Distro, trusted []Key) (ReleaseInfo, error) {
	sum := sha256.Sum256(data)
	info := ReleaseInfo{SHA256: hex.EncodeToString(sum[:])}
	if err := supported(d); err != nil {
		return info, err
	}
	v := verification{data: data, site: releaseSite(d), ring: trusted}
	v.pinnedOK, _ = acceptedKeys(d) // d is supported
	if trusted == nil {
		v.ring = pinned()
	}
	for _, k := range v.ring {
		if !isPinned(k) || containsKey(v.pinnedOK, k) {
			v.accepted = append(v.accepted, k)
		}
	}
	// The library trusts the header's counts and offsets: check them first.
	if _, _, err := checkRPM(data); err != nil {
		var se *rpmStructureError
		if errors.As(err, &se) && se.notRPM {
			return info, fmt.Errorf("reading the zfs-release package: it is not an rpm file (%v): refusing; download it again from %s", err, v.site)
		}
		return info, fmt.Errorf("the zfs-release package is damaged or was tampered with: %v: refusing; download it again from %s", err, v.site)
	}
	var err error
	if v.pkg, err = rpm.Read(bytes.NewReader(data)); err != nil {
		return info, fmt.Errorf("reading the zfs-release package: it is not a readable rpm file (%v): refusing; download it again from %s", err, v.site)
	}
	info.Name, info.Version, info.Release, info.Arch = v.pkg.Name(), v.pkg.Version(), v.pkg.Release(), v.pkg.Architecture()
	if m := distRe.FindStringSubmatch(info.Release); m != nil {
		info.DistTag = "." + m[1]
	}
	source := v.pkg.Lead.Type == 1 || v.pkg.Header.GetTag(tagSourceRPM) == nil
	v.file = fmt.Sprintf("%s-%s-%s.%s.rpm", info.Name, info.Version, info.Release, info.Arch)
	if source {
		v.file = fmt.Sprintf("%s-%s-%s.src.rpm", info.Name, info.Version, info.Release)
	}

	if err := v.size(); err != nil {
		return info, err
	}
	who, payloadSigned, err := v.signatures()
	if err != nil {
		return info, err
	}
	info.SignedBy, info.KeyID = who.key.Name, who.keyID
	payloadDigest, err := v.digests()
	if err != nil {
		return info, err
	}
	if !payloadSigned && !payloadDigest {
		return info, fmt.Errorf("%s has only a header signature and no payload digest, so its payload cannot be verified: refusing; download it again from %s", v.file, v.site)
	}

	way := "a zfs-release package from " + v.site
	if u, err := ReleaseURL(d); err == nil {
		way = u
	}
	switch {
	case info.Name == "zfs-release-el" || info.Name == "zfs-release-fedora":
		return info, fmt.Errorf("%s is the short-lived distribution-neutral package of July 2022, replaced by zfs-release 2-2 and later: refusing; install %s instead", v.file, way)
	case info.Name != "zfs-release":
		return info, fmt.Errorf("%s is package %s, not zfs-release: refusing; install %s instead", v.file, info.Name, way)
	case source:
		return info, fmt.Errorf("%s is a source package, not the noarch package that installs zfs.repo: refusing; install %s instead", v.file, way)
	case info.Arch != "noarch":
		return info, fmt.Errorf("%s is built for %s, not noarch: refusing; install %s instead", v.file, info.Arch, way)
	case info.Version == "1":
		return info, fmt.Errorf("%s is from the retired zfs-release 1.x series (old key file RPM-GPG-KEY-zfsonlinux; on EL its repos are pinned to one minor release): refusing; install %s instead", v.file, way)
	case info.DistTag == "":
		return info, fmt.Errorf("%s has no .elN or .fcN dist tag in its release %q, so it cannot be matched to this %s host: refusing; install %s instead", v.file, info.Release, hostLabel(d), way)
	case info.DistTag != wantDistTag(d):
		return info, fmt.Errorf("%s is built for %s (%s) but this host is %s (%s): refusing; install %s instead", v.file, distLabel(info.DistTag), info.DistTag, hostLabel(d), wantDistTag(d), way)
	}
	if err := v.fits(d, who); err != nil {
		return info, err
	}
	_, he := v.pkg.HeaderRange()
	repo, err := repoFromPayload(v.pkg.PayloadFormat(), v.pkg.PayloadCompression(), data[he:])
	if err != nil {
		return info, fmt.Errorf("%s: reading it before installing it: %w: refusing; install %s instead", v.file, err, way)
	}
	info.Repo = repo
	return info, nil
}

// fits checks that the key who signed with may sign zfs-release packages for
// d: any key of ring may have made a valid signature, but only those in
// accepted fit the host. Only a pinned key can fail here, so the message
// names the pinned keys that fit.
func (v *verification) fits(d facts.Distro, who signer) error {
	if containsKey(v.accepted, who.key) {
		return nil
	}
	return fmt.Errorf("%s is signed by key %s (%s) but %s packages must be signed by %s: refusing; download the package again from %s or check your mirror", v.file, who.keyID, who.key.Name, hostLabel(d), describeKeys(v.pinnedOK), v.site)
}

// wantDistTag is the dist tag of d's zfs-release packages.
func wantDistTag(d facts.Distro) string {
	if d.Family == "fedora" {
		return fmt.Sprintf(".fc%d", d.Major)
	}
	return fmt.Sprintf(".el%d", d.Major)
}

// distLabel names the host a dist tag is for: ".el8" -> "EL8".
func distLabel(tag string) string {
	if n, ok := strings.CutPrefix(tag, ".fc"); ok {
		return "Fedora " + n
	}
	return "EL" + strings.TrimPrefix(tag, ".el")
}

func describeKeys(keys []Key) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s (%s)", k.Name, k.Fingerprint)
	}
	return strings.Join(parts, " or ")
}

// signer is the key a verified signature was made with.
type signer struct {
	key   Key
	keyID string // of the (sub)key that signed: 16 lower-case hex digits
}

// verification is one VerifyRelease run.
type verification struct {
	data []byte
	pkg  *rpm.Package
	file string // the package's file name, for messages
	site string // where to download it again
	// ring holds the keys a signature is checked against; accepted those a
	// package for this host may be signed with: every key of ring except
	// the pinned OpenZFS keys that are not in pinnedOK, the pinned keys that
	// fit the host. A caller passing PinnedKeys() as trusted therefore gets
	// the same rule as one passing nil.
	ring, accepted, pinnedOK []Key
}

// expected lists the keys a package for this host should be signed with,
// or the whole ring when none of it fits the host (a caller trusting only
// RPM-GPG-KEY-openzfs-2013 on EL9).
func (v *verification) expected() string {
	if len(v.accepted) == 0 {
		return describeKeys(v.ring)
	}
	return describeKeys(v.accepted)
}

// isPinned reports whether k is one of the OpenZFS keys built in.
func isPinned(k Key) bool { return containsKey(pinned(), k) }

// containsKey compares keys by fingerprint: names are the caller's.
func containsKey(keys []Key, k Key) bool {
	for _, c := range keys {
		if c.Fingerprint == k.Fingerprint {
			return true
		}
	}
	return false
}

func (v *verification) damaged(format string, args ...any) error {
	return fmt.Errorf("%s is damaged or was tampered with: %s: refusing; download it again from %s", v.file, fmt.Sprintf(format, args...), v.site)
}

// size compares the file with the header+payload size the signature header
// records.
func (v *verification) size() error {
	hs, _ := v.pkg.HeaderRange()
	want := v.pkg.Signature.GetTag(sigTagLongSize).Int64()
	if want == 0 {
		want = v.pkg.Signature.GetTag(sigTagSize).Int64()
	}
	switch got := int64(len(v.data) - hs); {
	case want != 0 && got < want:
		return v.damaged("the file is truncated (%d bytes of header and payload, the signature header says %d)", got, want)
	case want != 0 && got > want:
		return v.damaged("%d bytes follow the payload", got-want)
	}
	return nil
}

// signatures verifies every signature in the package against v.ring and
// reports who signed and whether a signature covers the payload as well as
// the header. Each signature is attributed to its issuer before it is
// checked, so an unknown key and a bad signature are told apart.
func (v *verification) signatures() (signer, bool, error) {
	var who signer
	payloadSigned, found := false, false
	hs, he := v.pkg.HeaderRange()
	for _, st := range sigTags {
		sig := v.pkg.Signature.GetTag(st.id).Bytes()
		if sig == nil {
			continue
		}
		found = true
		id, err := issuer(sig)
		if err != nil {
			return who, false, v.damaged("its signature cannot be read (%v)", err)
		}
		key, ents, ok := keyByID(v.ring, id)
		if !ok {
			name := ""
			if k, _, known := keyByID(pinned(), id); known {
				name = " (" + k.Name + ")"
			}
			return who, false, fmt.Errorf("%s is signed by key %016x%s, not by %s: refusing; download the package again from %s or check your mirror", v.file, id, name, v.expected(), v.site)
		}
		// A header signature covers the main header; the others the main
		// header and the payload, to the end of the file (what
		// rpm.GPGCheck hashes, checked here with the maintained OpenPGP
		// package rather than the frozen one GPGCheck takes).
		signed := v.data[hs:]
		if st.headerOnly {
			signed = v.data[hs:he]
		}
		_, err = openpgp.CheckDetachedSignature(ents, bytes.NewReader(signed), bytes.NewReader(sig), nil)
		if err != nil {
			what := "header and payload"
			if st.headerOnly {
				what = "header"
			}
			return who, false, v.damaged("the signature over its %s by key %016x (%s) does not verify (%v)", what, id, key.Name, err)
		}
		who = signer{key: key, keyID: fmt.Sprintf("%016x", id)}
		payloadSigned = payloadSigned || !st.headerOnly
	}
	if !found {
		return who, false, fmt.Errorf("%s is not signed: refusing; zfsinstall installs only zfs-release packages signed by %s: download a signed one from %s", v.file, v.expected(), v.site)
	}
	return who, payloadSigned, nil
}

// issuer returns the id of the key that made an OpenPGP signature packet.
func issuer(sig []byte) (uint64, error) {
	p, err := packet.Read(bytes.NewReader(sig))
	if err != nil {
		return 0, err
	}
	s, ok := p.(*packet.Signature)
	if !ok {
		return 0, fmt.Errorf("found an OpenPGP %T packet where a signature belongs", p)
	}
	if s.IssuerKeyId == nil {
		return 0, errors.New("the signature names no issuer key")
	}
	return *s.IssuerKeyId, nil
}

// keyByID finds the key in keys whose primary key or subkey has id, and
// returns it with a keyring holding only that key.
func keyByID(keys []Key, id uint64) (Key, openpgp.EntityList, bool) {
	for _, k := range keys {
		ents, err := entities([]Key{k})
		if err != nil {
			continue
		}
		if len(ents.KeysById(id)) > 0 {
			return k, ents, true
		}
	}
	return Key{}, nil, false
}

// digests compares every digest rpm records with the file: the payload
// digest in the (signed) main header, and the header SHA256/SHA1 and
// header+payload MD5 of the signature header. It reports whether the
// payload digest was there to check.
func (v *verification) digests() (bool, error) {
	data, pkg := v.data, v.pkg
	hs, he := pkg.HeaderRange()
	payload := false
	if want := pkg.Header.GetTag(tagPayloadDigest).StringSlice(); len(want) > 0 {
		algo := pkg.Header.GetTag(tagPayloadAlgo).Int64()
		newHash, ok := payloadHashes[algo]
		if !ok {
			return false, v.damaged("its payload digest uses unknown algorithm %d", algo)
		}
		if got := digest(newHash, data[he:]); got != want[0] {
			return false, v.damaged("the payload digest does not match the signed header (%s, want %s)", got, want[0])
		}
		payload = true
	}
	for _, c := range []struct {
		tag  int
		what string
		hash func() hash.Hash
	}{{sigTagSHA256, "SHA256", sha256.New}, {sigTagSHA1, "SHA1", sha1.New}} {
		if want := pkg.Signature.GetTag(c.tag).String(); want != "" && digest(c.hash, data[hs:he]) != want {
			return false, v.damaged("the %s digest of its header does not match", c.what)
		}
	}
	if pkg.Signature.GetTag(sigTagMD5) != nil {
		if err := rpm.MD5Check(bytes.NewReader(data)); err != nil {
			return false, v.damaged("the MD5 digest of its header and payload does not match (%v)", err)
		}
	}
	return payload, nil
}

func digest(newHash func() hash.Hash, b []byte) string {
	h := newHash()
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}
