package repos

import (
	"bytes"
	"encoding/binary"
	"fmt"
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
	leadSize       = 96
	headerIntro    = 16 // magic (8 bytes), index count, store size
	indexEntrySize = 16 // tag, type, offset, count
)

var (
	leadMagic   = []byte{0xed, 0xab, 0xee, 0xdb}
	headerMagic = []byte{0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0}
)

// rpm's tag types (include/rpm/rpmtag.h rpmTagType_e).
const (
	typeNull        = 0
	typeChar        = 1
	typeInt8        = 2
	typeInt16       = 3
	typeInt32       = 4
	typeInt64       = 5
	typeString      = 6
	typeBin         = 7
	typeStringArray = 8
	typeI18NString  = 9
)

var typeNames = []string{"NULL", "CHAR", "INT8", "INT16", "INT32", "INT64", "STRING", "BIN", "STRING_ARRAY", "I18NSTRING"}

func typeName(t uint32) string {
	if t < uint32(len(typeNames)) {
		return typeNames[t]
	}
	return fmt.Sprintf("unknown type %d", t)
}

// typeSize is the size of one value of a fixed-size type, typeAlign the
// alignment its offset needs (rpm's typeSizes and typeAlign).
var (
	typeSize  = map[uint32]uint64{typeChar: 1, typeInt8: 1, typeInt16: 2, typeInt32: 4, typeInt64: 8, typeBin: 1}
	typeAlign = map[uint32]uint64{typeInt16: 2, typeInt32: 4, typeInt64: 8}
)

// Region tags: the first entry of a header that describes the header's
// immutable region (rpmtag.h: RPMTAG_HEADERIMAGE 61, HEADERSIGNATURES 62,
// HEADERIMMUTABLE 63).
const (
	tagHeaderImage      = 61
	tagHeaderSignatures = 62
	tagHeaderImmutable  = 63
	minTag              = 100 // rpm's HEADER_I18NTABLE: lower tags are regions only
)

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
	end := uint64(0) // end of the previous entry's data: entries may not overlap
	for i := uint64(0); i < il; i++ {
		e := index[i*indexEntrySize:]
		tag, typ := binary.BigEndian.Uint32(e), binary.BigEndian.Uint32(e[4:])
		offset, count := uint64(binary.BigEndian.Uint32(e[8:])), uint64(binary.BigEndian.Uint32(e[12:]))
		entry := fmt.Sprintf("its %s's entry %d (tag %d, %s, %d values at offset %d)", spec.what, i+1, tag, typeName(typ), count, offset)
		if i == 0 && containsTag(spec.regions, tag) {
			// The region entry points at a 16-byte trailer in the store.
			if typ != typeBin || count != indexEntrySize || offset+indexEntrySize > dl {
				return 0, damagedf("%s is not a valid region entry (BIN, 16 values, inside the %d-byte store)", entry, dl)
			}
			continue
		}
		switch {
		case tag < minTag:
			return 0, damagedf("%s has a tag below %d, which only the first entry (the region) may have", entry, minTag)
		case typ == typeNull || typ > typeI18NString:
			return 0, damagedf("%s has a type that holds no data", entry)
		case count == 0 || count > 0x0fffffff:
			return 0, damagedf("%s has a count rpm does not accept (1 to %d)", entry, 0x0fffffff)
		case offset > dl:
			return 0, damagedf("%s starts past the end of the %d-byte store", entry, dl)
		case typeAlign[typ] > 1 && offset%typeAlign[typ] != 0:
			return 0, damagedf("%s is not aligned to %d bytes", entry, typeAlign[typ])
		case offset < end:
			return 0, damagedf("%s overlaps the data of the entry before it", entry)
		}
		if want, ok := spec.types[tag]; ok && typ != want {
			return 0, damagedf("%s should be %s", entry, typeName(want))
		}
		n, err := dataLength(typ, count, store[offset:])
		if err != nil {
			return 0, damagedf("%s: %v in the %d-byte store", entry, err, dl)
		}
		end = offset + n
	}
	return off + int(size), nil
}

// dataLength is the number of bytes count values of type typ take at the
// start of b, or an error when they do not fit in b.
func dataLength(typ uint32, count uint64, b []byte) (uint64, error) {
	switch typ {
	case typeString, typeStringArray, typeI18NString:
		if typ == typeString && count != 1 {
			return 0, fmt.Errorf("a STRING holds exactly one value")
		}
		n := uint64(0)
		for range count {
			i := bytes.IndexByte(b[n:], 0)
			if i < 0 {
				return 0, fmt.Errorf("its strings run past the end")
			}
			n += uint64(i) + 1
		}
		return n, nil
	}
	n := count * typeSize[typ] // count < 2^28, size <= 8: no overflow
	if n > uint64(len(b)) {
		return 0, fmt.Errorf("its values run past the end")
	}
	return n, nil
}

func containsTag(tags []uint32, t uint32) bool {
	for _, c := range tags {
		if c == t {
			return true
		}
	}
	return false
}
