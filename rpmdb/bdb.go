package rpmdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Berkeley DB as rpm up to 4.15 writes it (EL7, EL8): Packages is a hash
// database keyed by the header number, the indexes such as Name are
// b-trees keyed by the string. The layout follows rpm's own reader that
// needs no libdb (lib/backend/bdb_ro.c at rpm-4.16.1.3), with every page
// number, offset and length checked before use and every chain bounded.
// Databases are in the byte order of the machine that wrote them (s390x
// writes big-endian): the meta page's magic says which.

const (
	bdbHashMagic  = 0x061561
	bdbBtreeMagic = 0x053162
	pageHdr       = 26 // lsn, pgno, prev, next, entries, hf_offset, level, type
)

// Page types (db_page.h).
const (
	pIBtree   = 3
	pLBtree   = 5
	pOverflow = 7
	pHashMeta = 8
	pHash     = 13
)

// bdb is one Berkeley DB file.
type bdb struct {
	r        pageReader
	order    binary.ByteOrder
	hash     bool
	pageSize uint32
	lastPage uint32
	// b-tree
	root uint32
	// hash
	maxBucket, highMask, lowMask uint32
	spares                       [32]uint32
	budget                       *budget
}

func openBDB(r pageReader, size int64, wantHash bool, b *budget) (*bdb, error) {
	meta := make([]byte, 512)
	if _, err := r.ReadAt(meta, 0); err != nil {
		return nil, fmt.Errorf("reading the meta page: %w", err)
	}
	d := &bdb{r: r, budget: b}
	magic := binary.LittleEndian.Uint32(meta[12:])
	switch magic {
	case bdbHashMagic, bdbBtreeMagic:
		d.order = binary.LittleEndian
	default:
		d.order = binary.BigEndian
		magic = binary.BigEndian.Uint32(meta[12:])
	}
	version := d.u32(meta[16:])
	switch {
	case magic == bdbHashMagic && wantHash && version >= 8 && version <= 10:
		d.hash = true
	case magic == bdbBtreeMagic && !wantHash && version >= 9 && version <= 10:
	default:
		return nil, fmt.Errorf("not a Berkeley DB %s database of a version rpm reads (magic %#x, version %d)", map[bool]string{true: "hash", false: "b-tree"}[wantHash], magic, version)
	}
	d.pageSize, d.lastPage = d.u32(meta[20:]), d.u32(meta[32:])
	if d.pageSize < 512 || d.pageSize > 65536 || d.pageSize&(d.pageSize-1) != 0 {
		return nil, fmt.Errorf("the page size %d is not a power of two from 512 to 65536", d.pageSize)
	}
	if max := uint32(size / int64(d.pageSize)); max == 0 || d.lastPage >= max {
		return nil, fmt.Errorf("the meta page names page %d as the last, the file holds %d pages", d.lastPage, max)
	}
	if d.hash {
		d.maxBucket, d.highMask, d.lowMask = d.u32(meta[72:]), d.u32(meta[76:]), d.u32(meta[80:])
		for i := range d.spares {
			d.spares[i] = d.u32(meta[96+4*i:])
		}
	} else {
		d.root = d.u32(meta[88:])
	}
	return d, nil
}

func (d *bdb) u32(b []byte) uint32 { return d.order.Uint32(b) }
func (d *bdb) u16(b []byte) int    { return int(d.order.Uint16(b)) }

// page reads page n and checks that it says it is page n.
func (d *bdb) page(n uint32) ([]byte, error) {
	if n == 0 || n > d.lastPage {
		return nil, fmt.Errorf("page %d is outside the database's pages 1 to %d", n, d.lastPage)
	}
	if err := d.budget.spend(int(d.pageSize)); err != nil {
		return nil, err
	}
	p := make([]byte, d.pageSize)
	if _, err := d.r.ReadAt(p, int64(n)*int64(d.pageSize)); err != nil {
		return nil, fmt.Errorf("reading page %d: %w", n, err)
	}
	if got := d.u32(p[8:]); got != n {
		return nil, fmt.Errorf("page %d says it is page %d", n, got)
	}
	return p, nil
}

// entries returns the item offsets of a hash or b-tree page.
func (d *bdb) entries(p []byte) ([]int, error) {
	count := d.u16(p[20:])
	if pageHdr+2*count > len(p) {
		return nil, fmt.Errorf("page %d claims %d items, more than fit", d.u32(p[8:]), count)
	}
	offs := make([]int, count)
	for i := range offs {
		offs[i] = d.u16(p[pageHdr+2*i:])
		if offs[i] < pageHdr+2*count || offs[i] >= len(p) {
			return nil, fmt.Errorf("page %d's item %d is at %d, outside the page's item area", d.u32(p[8:]), i, offs[i])
		}
	}
	return offs, nil
}

// overflow reads an item stored on a chain of overflow pages.
func (d *bdb) overflow(pg, length uint32, max uint64) ([]byte, error) {
	if uint64(length) > max || uint64(length) > uint64(d.lastPage)*uint64(d.pageSize-pageHdr) {
		return nil, fmt.Errorf("an item of %d bytes is larger than the %d rpm's may be, or than the database's pages hold", length, max)
	}
	out := make([]byte, 0, min(uint64(length), 1<<20))
	seen := newPageSet(d.lastPage + 1)
	for uint32(len(out)) < length {
		if seen.add(pg) {
			return nil, fmt.Errorf("the overflow chain of a %d-byte item comes back to page %d", length, pg)
		}
		p, err := d.page(pg)
		if err != nil {
			return nil, err
		}
		n := uint32(d.u16(p[22:])) // bytes on this page
		if p[25] != pOverflow || n == 0 || n > d.pageSize-pageHdr || n > length-uint32(len(out)) {
			return nil, fmt.Errorf("overflow page %d is not a piece of the %d-byte item it continues", pg, length)
		}
		out = append(out, p[pageHdr:pageHdr+n]...)
		pg = d.u32(p[16:])
	}
	return out, nil
}

// hashGet returns the data stored under key in a hash database, nil when
// there is none.
func (d *bdb) hashGet(key []byte, max uint64) ([]byte, error) {
	var bucket uint32 // bdb_ro hash_lookup: Berkeley DB's default hash (__ham_func5)
	for _, c := range key {
		bucket = bucket*16777619 ^ uint32(c)
	}
	bucket &= d.highMask
	if bucket > d.maxBucket {
		bucket &= d.lowMask
	}
	bits := 0
	for b := bucket; b != 0; b >>= 1 {
		bits++
	}
	pg := bucket + d.spares[bits]
	seen := newPageSet(d.lastPage + 1)
	for !seen.add(pg) { // a bucket's chain visits each page at most once
		p, err := d.page(pg)
		if err != nil {
			return nil, err
		}
		if p[25] != pHash && p[25] != pHashMeta {
			return nil, fmt.Errorf("page %d of bucket %d is not a hash page (type %d)", pg, bucket, p[25])
		}
		offs, err := d.entries(p)
		if err != nil {
			return nil, err
		}
		for i := 0; i+1 < len(offs); i += 2 {
			// Items fill the page from the end: an item ends where the
			// one before it starts.
			kend := len(p)
			if i > 0 {
				kend = offs[i-1]
			}
			k, v := offs[i], offs[i+1]
			if k >= kend || v >= k {
				return nil, fmt.Errorf("page %d's items %d and %d overlap", pg, i, i+1)
			}
			kv, err := d.hashItem(p[k:kend], max)
			if err != nil {
				return nil, err
			}
			if bytes.Equal(kv, key) {
				return d.hashItem(p[v:k], max)
			}
		}
		if pg = d.u32(p[16:]); pg == 0 {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("bucket %d's chain of pages loops", bucket)
}

// hashItem reads a hash page item: on the page (H_KEYDATA) or on overflow
// pages (H_OFFPAGE); rpm's databases use no other kind.
func (d *bdb) hashItem(it []byte, max uint64) ([]byte, error) {
	switch it[0] {
	case 1:
		return it[1:], nil
	case 3:
		if len(it) != 12 {
			return nil, errors.New("an overflow reference is not 12 bytes")
		}
		return d.overflow(d.u32(it[4:]), d.u32(it[8:]), max)
	}
	return nil, fmt.Errorf("a hash item of type %d, which rpm's databases do not have", it[0])
}

// btreeGet returns the data stored under key in a b-tree database, nil
// when there is none.
func (d *bdb) btreeGet(key []byte, max uint64) ([]byte, error) {
	pg := d.root
	for range maxDepth {
		p, err := d.page(pg)
		if err != nil {
			return nil, err
		}
		offs, err := d.entries(p)
		if err != nil {
			return nil, err
		}
		switch p[25] {
		case pIBtree:
			if len(offs) == 0 {
				return nil, fmt.Errorf("internal page %d is empty", pg)
			}
			// The first item's key is below every key; the child to take is
			// that of the last item whose key is not past the one sought.
			next := uint32(0)
			for i, off := range offs {
				if off%4 != 0 || off+12 > len(p) {
					return nil, fmt.Errorf("page %d's item %d is misplaced", pg, i)
				}
				if i > 0 {
					k, err := d.btreeKey(p, off, 12, max)
					if err != nil {
						return nil, err
					}
					if bytes.Compare(k, key) > 0 {
						break
					}
				}
				next = d.u32(p[off+4:])
			}
			pg = next
		case pLBtree:
			for i := 0; i+1 < len(offs); i += 2 {
				if p[offs[i]+2]&0x80 != 0 || p[offs[i+1]+2]&0x80 != 0 {
					continue // deleted
				}
				k, err := d.btreeKey(p, offs[i], 3, max)
				if err != nil {
					return nil, err
				}
				if bytes.Equal(k, key) {
					return d.btreeKey(p, offs[i+1], 3, max)
				}
			}
			return nil, nil
		default:
			return nil, fmt.Errorf("page %d is not a b-tree page (type %d)", pg, p[25])
		}
	}
	return nil, fmt.Errorf("the b-tree is deeper than %d levels", maxDepth)
}

// btreeKey reads the item at off of a b-tree page: its length (2 bytes)
// and type (1 byte), then the data at off+data on the page (B_KEYDATA) or
// an overflow reference (B_OVERFLOW).
func (d *bdb) btreeKey(p []byte, off, data int, max uint64) ([]byte, error) {
	if off%4 != 0 || off+data > len(p) {
		return nil, fmt.Errorf("page %d's item at %d is misplaced", d.u32(p[8:]), off)
	}
	switch p[off+2] & 0x7f {
	case 1:
		n := d.u16(p[off:])
		if off+data+n > len(p) {
			return nil, fmt.Errorf("page %d's item at %d runs past the page", d.u32(p[8:]), off)
		}
		return p[off+data : off+data+n], nil
	case 3:
		ref := off + 4 // a leaf item is itself an overflow reference: pgno, length
		if data == 12 {
			// An internal item's data is the overflow reference.
			if d.u16(p[off:]) != 12 {
				return nil, fmt.Errorf("page %d's overflow reference at %d is not 12 bytes", d.u32(p[8:]), off)
			}
			ref = off + 16
		}
		if ref+8 > len(p) {
			return nil, fmt.Errorf("page %d's overflow reference at %d runs past the page", d.u32(p[8:]), off)
		}
		return d.overflow(d.u32(p[ref:]), d.u32(p[ref+4:]), max)
	}
	return nil, fmt.Errorf("page %d's item at %d has type %d, which rpm's databases do not have", d.u32(p[8:]), off, p[off+2]&0x7f)
}
