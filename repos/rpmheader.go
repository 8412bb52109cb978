package repos

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/zfsinstall/zfsinstall/rpmheader"
)

// cavaliergopher/rpm v1.3.0 trusts the counts and offsets in an rpm header:
// a STRING_ARRAY entry whose count runs past the store panics (slice bounds
// out of range), an INT32 entry with count 0xffffffff makes it allocate
// 32 GiB before it looks at the store (fatal error: out of memory, which no
// recover catches), a header cut short is read as zeros, and the header
// magic is never checked. checkRPM therefore walks the lead and both
// headers itself, with the checks rpm applies before it believes a header
// (lib/header.c at rpm-4.16.1-release: hdrblobRead, hdrblobVerifyRegion,
// hdrblobVerifyInfo, dataLength; lib/rpmlead.c rpmLeadCheck), and smaller
// caps that fit zfs-release packages, before any byte reaches the library.
// A file it accepts can be decoded by the library in memory bounded by a
// small multiple of the file's size.

const (
	leadSize    = 96
	headerIntro = 16 // magic (8 bytes), index count, store size
)

var (
	leadMagic   = []byte{0xed, 0xab, 0xee, 0xdb}
	headerMagic = []byte{0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0}
)

// The tag types and region tags checkHeader and the tests name
// (rpmheader holds rpm's definitions).
const (
	indexEntrySize      = rpmheader.EntrySize
	typeNull            = rpmheader.TypeNull
	typeChar            = rpmheader.TypeChar
	typeInt16           = rpmheader.TypeInt16
	typeInt32           = rpmheader.TypeInt32
	typeInt64           = rpmheader.TypeInt64
	typeString          = rpmheader.TypeString
	typeBin             = rpmheader.TypeBin
	typeStringArray     = rpmheader.TypeStringArray
	tagHeaderImage      = rpmheader.TagHeaderImage
	tagHeaderSignatures = rpmheader.TagHeaderSignatures
	tagHeaderImmutable  = rpmheader.TagHeaderImmutable
)

var typeName = rpmheader.TypeName

// headerSpec is what one header may hold.
type headerSpec struct {
	what string // "signature header", "main header"
	// maxEntries and maxStore cap the index and the store. rpm allows a
	// signature header 32 entries and 64 MiB, a main header 65535 entries
	// and 256 MiB; the real zfs-release packages (testdata/upstream) have
	// at most 9 entries and 5,364 bytes, and 61 entries and 3,892 bytes.
	maxEntries, maxStore uint64
	rpmEntries, rpmStore uint64
	regions              []uint32 // region tags the first entry may carry
	// types are the types of the tags VerifyRelease reads: the library's
	// accessors return nothing for a wrongly typed tag, which would skip
	// a check instead of failing it.
	types map[uint32]uint32
}

var (
	sigSpec = headerSpec{
		what: "signature header", maxEntries: 32, maxStore: 64 << 10, rpmEntries: 32, rpmStore: 64 << 20,
		regions: []uint32{tagHeaderSignatures, tagHeaderImage},
		types: map[uint32]uint32{
			sigTagSize: typeInt32, sigTagLongSize: typeInt64, sigTagMD5: typeBin,
			sigTagSHA1: typeString, sigTagSHA256: typeString,
			267: typeBin, 268: typeBin, 1002: typeBin, 1005: typeBin, 1006: typeBin,
		},
	}
	mainSpec = headerSpec{
		what: "main header", maxEntries: 1024, maxStore: 1 << 20, rpmEntries: 0xffff, rpmStore: 0x0fffffff,
		regions: []uint32{tagHeaderImmutable, tagHeaderImage},
		types: map[uint32]uint32{
			1000: typeString, 1001: typeString, 1002: typeString, 1022: typeString, // name, version, release, arch
			tagSourceRPM: typeString, tagPayloadDigest: typeStringArray, tagPayloadAlgo: typeInt32,
		},
	}
)

// rpmStructureError says why a file is not a sound rpm package: notRPM when
// it does not even start like one.
type rpmStructureError struct {
	notRPM bool
	detail string
}

func (e *rpmStructureError) Error() string { return e.detail }

func damagedf(format string, args ...any) error {
	return &rpmStructureError{detail: fmt.Sprintf(format, args...)}
}

// checkRPM checks the structure of an rpm file: the lead, then the
// signature header with its padding, then the main header, each entry's
// type, count and offset bounded by its store. It returns where the main
// header starts and ends (the payload follows it).
func checkRPM(data []byte) (hdrStart, hdrEnd int, err error) {
	if len(data) < len(leadMagic) || !bytes.Equal(data[:len(leadMagic)], leadMagic) {
		return 0, 0, &rpmStructureError{notRPM: true, detail: "it does not start with the rpm lead's magic number ED AB EE DB"}
	}
	if len(data) < leadSize {
		return 0, 0, damagedf("the file ends inside its %d-byte lead, after %d bytes", leadSize, len(data))
	}
	if major := data[4]; major < 3 || major > 4 {
		return 0, 0, damagedf("its lead says rpm format %d, not 3 or 4", major)
	}
	if sigType := binary.BigEndian.Uint16(data[78:80]); sigType != 5 {
		return 0, 0, damagedf("its lead says signature type %d, not 5 (a header signature)", sigType)
	}
	sigEnd, err := checkHeader(data, leadSize, sigSpec)
	if err != nil {
		return 0, 0, err
	}
	// The signature header is padded to a multiple of 8 bytes.
	hdrStart = sigEnd + (8-(sigEnd-leadSize)%8)%8
	if hdrStart > len(data) {
		return 0, 0, damagedf("the file ends inside the padding after its signature header, at byte %d of %d", len(data), hdrStart)
	}
	hdrEnd, err = checkHeader(data, hdrStart, mainSpec)
	if err != nil {
		return 0, 0, err
	}
	return hdrStart, hdrEnd, nil
}

// checkHeader checks the header at off and returns where it ends.
func checkHeader(data []byte, off int, spec headerSpec) (int, error) {
	rest := uint64(len(data) - off)
	if rest < headerIntro {
		return 0, damagedf("the file ends inside its %s, after %d of its first %d bytes", spec.what, rest, headerIntro)
	}
	if !bytes.Equal(data[off:off+len(headerMagic)], headerMagic) {
		return 0, damagedf("its %s does not start with the header magic number 8E AD E8 01 00 00 00 00 (found % X)", spec.what, data[off:off+len(headerMagic)])
	}
	il := uint64(binary.BigEndian.Uint32(data[off+8:]))
	dl := uint64(binary.BigEndian.Uint32(data[off+12:]))
	switch {
	case il == 0:
		return 0, damagedf("its %s has no index entries", spec.what)
	case il > spec.maxEntries:
		return 0, damagedf("its %s claims %d index entries; a zfs-release package has far fewer (zfsinstall allows %d, rpm %d)", spec.what, il, spec.maxEntries, spec.rpmEntries)
	case dl > spec.maxStore:
		return 0, damagedf("its %s claims a %d-byte store; a zfs-release package's is far smaller (zfsinstall allows %d, rpm %d)", spec.what, dl, spec.maxStore, spec.rpmStore)
	}
	size := headerIntro + il*indexEntrySize + dl
	if size > rest {
		return 0, damagedf("the file ends inside its %s: %d bytes are left, the header says it has %d", spec.what, rest, size)
	}
	index := data[off+headerIntro : off+headerIntro+int(il)*indexEntrySize]
	store := data[off+headerIntro+int(il)*indexEntrySize : off+int(size)]
	if _, err := rpmheader.CheckEntries(spec.what, index, store, spec.regions, spec.types); err != nil {
		return 0, damagedf("%v", err)
	}
	return off + int(size), nil
}
