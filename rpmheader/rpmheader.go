// Package rpmheader checks the structure of an rpm header before anything
// believes it, with the checks rpm itself applies (lib/header.c at
// rpm-4.16.1-release: hdrblobVerifyInfo, dataLength), and reads typed values
// out of a header it has checked. A header comes from a package file
// (repos, verifying zfs-release) or from the rpm database (rpmdb); either
// way it is input that may be crafted, and nothing here trusts a count or
// an offset before it is bounded by the header's own store.
package rpmheader

import (
	"bytes"
	"fmt"
	"slices"
)

// EntrySize is the size of one index entry: tag, type, offset, count.
const EntrySize = 16

// rpm's tag types (include/rpm/rpmtag.h rpmTagType_e).
const (
	TypeNull        = 0
	TypeChar        = 1
	TypeInt8        = 2
	TypeInt16       = 3
	TypeInt32       = 4
	TypeInt64       = 5
	TypeString      = 6
	TypeBin         = 7
	TypeStringArray = 8
	TypeI18NString  = 9
)

var typeNames = []string{"NULL", "CHAR", "INT8", "INT16", "INT32", "INT64", "STRING", "BIN", "STRING_ARRAY", "I18NSTRING"}

// TypeName names a tag type as rpm's headers do ("STRING_ARRAY").
func TypeName(t uint32) string {
	if t < uint32(len(typeNames)) {
		return typeNames[t]
	}
	return fmt.Sprintf("unknown type %d", t)
}

// typeSize is the size of one value of a fixed-size type, typeAlign the
// alignment its offset needs (rpm's typeSizes and typeAlign).
var (
	typeSize  = map[uint32]uint64{TypeChar: 1, TypeInt8: 1, TypeInt16: 2, TypeInt32: 4, TypeInt64: 8, TypeBin: 1}
	typeAlign = map[uint32]uint64{TypeInt16: 2, TypeInt32: 4, TypeInt64: 8}
)

// Region tags: the first entry of a header that describes the header's
// immutable region (rpmtag.h: RPMTAG_HEADERIMAGE 61, HEADERSIGNATURES 62,
// HEADERIMMUTABLE 63).
const (
	TagHeaderImage      = 61
	TagHeaderSignatures = 62
	TagHeaderImmutable  = 63
	MinTag              = 100 // rpm's HEADER_I18NTABLE: lower tags are regions only
)

// Entry is one checked index entry.
type Entry struct {
	Tag, Type     uint32
	Offset, Count uint64
	// Len is the number of bytes its values take in the store.
	Len uint64
}

// CheckEntries checks the index entries of a header (il entries of
// EntrySize bytes) against its store: the first entry may be a region
// (one of regions; BIN, 16 values, its trailer inside the store); every
// other entry has a tag of at least MinTag, a type that holds data, a count
// rpm accepts, an offset inside the store, aligned for its type and past
// the data of the entry before it, and values that end inside the store;
// a tag named in types has that type. what names the header in messages
// ("main header"). It returns the entries after the region, in index order.
func CheckEntries(what string, index, store []byte, regions []uint32, types map[uint32]uint32) ([]Entry, error) {
	il := uint64(len(index) / EntrySize)
	dl := uint64(len(store))
	entries := make([]Entry, 0, il)
	end := uint64(0) // end of the previous entry's data: entries may not overlap
	for i := uint64(0); i < il; i++ {
		e := index[i*EntrySize:]
		tag, typ := be32(e), be32(e[4:])
		offset, count := uint64(be32(e[8:])), uint64(be32(e[12:]))
		entry := fmt.Sprintf("its %s's entry %d (tag %d, %s, %d values at offset %d)", what, i+1, tag, TypeName(typ), count, offset)
		if i == 0 && slices.Contains(regions, tag) {
			// The region entry points at a 16-byte trailer in the store.
			if typ != TypeBin || count != EntrySize || offset+EntrySize > dl {
				return nil, fmt.Errorf("%s is not a valid region entry (BIN, 16 values, inside the %d-byte store)", entry, dl)
			}
			continue
		}
		switch {
		case tag < MinTag:
			return nil, fmt.Errorf("%s has a tag below %d, which only the first entry (the region) may have", entry, MinTag)
		case typ == TypeNull || typ > TypeI18NString:
			return nil, fmt.Errorf("%s has a type that holds no data", entry)
		case count == 0 || count > 0x0fffffff:
			return nil, fmt.Errorf("%s has a count rpm does not accept (1 to %d)", entry, 0x0fffffff)
		case offset > dl:
			return nil, fmt.Errorf("%s starts past the end of the %d-byte store", entry, dl)
		case typeAlign[typ] > 1 && offset%typeAlign[typ] != 0:
			return nil, fmt.Errorf("%s is not aligned to %d bytes", entry, typeAlign[typ])
		case offset < end:
			return nil, fmt.Errorf("%s overlaps the data of the entry before it", entry)
		}
		if want, ok := types[tag]; ok && typ != want {
			return nil, fmt.Errorf("%s should be %s", entry, TypeName(want))
		}
		n, err := dataLength(typ, count, store[offset:])
		if err != nil {
			return nil, fmt.Errorf("%s: %v in the %d-byte store", entry, err, dl)
		}
		end = offset + n
		entries = append(entries, Entry{Tag: tag, Type: typ, Offset: offset, Count: count, Len: n})
	}
	return entries, nil
}

// dataLength is the number of bytes count values of type typ take at the
// start of b, or an error when they do not fit in b.
func dataLength(typ uint32, count uint64, b []byte) (uint64, error) {
	switch typ {
	case TypeString, TypeStringArray, TypeI18NString:
		if typ == TypeString && count != 1 {
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

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
