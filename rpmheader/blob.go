package rpmheader

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
)

// Caps rpm applies to a header (lib/header.c hdrchkRange callers:
// HEADER_TAGS_MAX 0xffff entries, HEADER_DATA_MAX 256 MiB of store).
const (
	MaxEntries = 0xffff
	MaxStore   = 0x0fffffff
)

// Digest tags rpm keeps in an installed package's header: hex digests of
// the immutable region (rpmtag.h RPMTAG_SHA1HEADER 269, RPMTAG_SHA256HEADER 273).
const (
	TagSHA1Header   = 269
	TagSHA256Header = 273
)

// Header is a checked header blob as the rpm database stores it (rpm's
// headerExport: index count, store size, index, store; no magic).
type Header struct {
	index, store []byte
	entries      []Entry
	byTag        map[uint32]int // tag -> position in entries, for the tags asked for
	// ril and rdl are the index entries and store bytes of the immutable
	// region (0 when the header has none), what the header digests cover.
	ril, rdl uint64
}

// ParseBlob checks a header blob with rpm's rules for a header read from
// the database (hdrblobInit with exact size: the blob is exactly its index
// and store; hdrblobVerifyRegion; hdrblobVerifyInfo) and indexes the tags
// in types, which must have the type given.
func ParseBlob(b []byte, types map[uint32]uint32) (*Header, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("the header blob is %d bytes, shorter than its 8-byte start", len(b))
	}
	il, dl := uint64(binary.BigEndian.Uint32(b)), uint64(binary.BigEndian.Uint32(b[4:]))
	switch {
	case il == 0 || il > MaxEntries:
		return nil, fmt.Errorf("the header claims %d index entries (rpm accepts 1 to %d)", il, MaxEntries)
	case dl > MaxStore:
		return nil, fmt.Errorf("the header claims a %d-byte store (rpm accepts at most %d)", dl, MaxStore)
	case 8+il*EntrySize+dl != uint64(len(b)):
		return nil, fmt.Errorf("the header blob is %d bytes, its index and store say %d", len(b), 8+il*EntrySize+dl)
	}
	h := &Header{index: b[8 : 8+il*EntrySize], store: b[8+il*EntrySize:], byTag: map[uint32]int{}}
	if err := h.region(); err != nil {
		return nil, err
	}
	var err error
	if h.entries, err = CheckEntries("header", h.index, h.store, []uint32{TagHeaderImmutable, TagHeaderImage}, types); err != nil {
		return nil, err
	}
	for i, e := range h.entries {
		if _, ok := types[e.Tag]; ok {
			if _, dup := h.byTag[e.Tag]; !dup {
				h.byTag[e.Tag] = i
			}
		}
	}
	return h, nil
}

// region reads the immutable region's size from its trailer (rpm's
// hdrblobVerifyRegion): a header without a region entry first has none.
func (h *Header) region() error {
	tag := be32(h.index)
	if tag != TagHeaderImmutable && tag != TagHeaderImage {
		return nil
	}
	typ, off, count := be32(h.index[4:]), uint64(be32(h.index[8:])), be32(h.index[12:])
	dl := uint64(len(h.store))
	if typ != TypeBin || count != EntrySize || off+EntrySize > dl {
		return fmt.Errorf("the header's region entry is not BIN, 16 values, inside the %d-byte store", dl)
	}
	t := h.store[off : off+EntrySize]
	neg := uint64(-int64(int32(be32(t[8:])))) // the trailer's offset is minus the region's index size
	if be32(t) != tag || be32(t[4:]) != TypeBin || be32(t[12:]) != EntrySize || int32(be32(t[8:])) > 0 || neg%EntrySize != 0 {
		return errors.New("the header's region trailer does not describe its region")
	}
	h.ril, h.rdl = neg/EntrySize, off+EntrySize
	if h.ril > uint64(len(h.index))/EntrySize || h.ril == 0 {
		return fmt.Errorf("the header's region claims %d index entries, the header has %d", h.ril, len(h.index)/EntrySize)
	}
	return nil
}

// VerifyDigest checks the immutable region against the header's own
// SHA-256 digest, else its SHA-1 digest, as rpm does for each header it
// reads from the database (rpmdb.c miVerifyHeader -> headerCheck). A header
// with neither digest passes, as with rpm.
func (h *Header) VerifyDigest() error {
	want, sum, name := "", hash.Hash(nil), ""
	if s, ok := h.String(TagSHA256Header); ok {
		want, sum, name = s, sha256.New(), "SHA-256"
	} else if s, ok := h.String(TagSHA1Header); ok {
		want, sum, name = s, sha1.New(), "SHA-1"
	} else {
		return nil
	}
	if h.ril == 0 {
		return fmt.Errorf("the header has a %s digest but no immutable region", name)
	}
	var ildl [16]byte
	copy(ildl[:], []byte{0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0})
	binary.BigEndian.PutUint32(ildl[8:], uint32(h.ril))
	binary.BigEndian.PutUint32(ildl[12:], uint32(h.rdl))
	sum.Write(ildl[:])
	sum.Write(h.index[:h.ril*EntrySize])
	sum.Write(h.store[:h.rdl])
	if got := hex.EncodeToString(sum.Sum(nil)); got != want {
		return fmt.Errorf("the header's %s digest is %s, its immutable region hashes to %s", name, want, got)
	}
	return nil
}

func (h *Header) entry(tag uint32) (Entry, bool) {
	i, ok := h.byTag[tag]
	if !ok {
		return Entry{}, false
	}
	return h.entries[i], true
}

// String returns a STRING (or the first value of an I18NSTRING) tag.
func (h *Header) String(tag uint32) (string, bool) {
	s := h.Strings(tag)
	if len(s) == 0 {
		return "", false
	}
	return s[0], true
}

// Strings returns the values of a string-typed tag (STRING,
// STRING_ARRAY, I18NSTRING), nil when the header does not have it.
func (h *Header) Strings(tag uint32) []string {
	e, ok := h.entry(tag)
	if !ok || (e.Type != TypeString && e.Type != TypeStringArray && e.Type != TypeI18NString) {
		return nil
	}
	// CheckEntries proved that Count NUL-terminated strings fit in Len
	// bytes (so Count <= Len: the slice grows with the data, not the count).
	var out []string
	b := h.store[e.Offset : e.Offset+e.Len]
	for range e.Count {
		i := bytes.IndexByte(b, 0)
		out = append(out, string(b[:i]))
		b = b[i+1:]
	}
	return out
}

// Uint32s returns the values of an INT32 tag, nil when the header does
// not have it.
func (h *Header) Uint32s(tag uint32) []uint32 {
	e, ok := h.entry(tag)
	if !ok || e.Type != TypeInt32 {
		return nil
	}
	out := make([]uint32, e.Count)
	for i := range out {
		out[i] = be32(h.store[e.Offset+4*uint64(i):])
	}
	return out
}
