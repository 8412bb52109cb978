package rpmdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// The sqlite file format, as far as rpm's database needs it
// (https://www.sqlite.org/fileformat2.html): a header on page 1, b-tree
// pages of four types, overflow chains, records of serial-typed columns.
// Only what rpm 4.16+ writes is accepted (UTF-8, rollback or WAL journal);
// anything else is an error and the caller asks rpm instead.

const (
	sqliteMagic = "SQLite format 3\x00"
	// maxDepth is the deepest b-tree sqlite itself opens
	// (btreeInt.h BTCURSOR_MAX_DEPTH): a deeper one is a cycle or damage.
	maxDepth = 20
)

// b-tree page types.
const (
	interiorIndex = 2
	interiorTable = 5
	leafIndex     = 10
	leafTable     = 13
)

// sqliteDB reads pages of one sqlite file, with the committed pages of its
// WAL laid over them.
type sqliteDB struct {
	r        pageReader
	pageSize uint32
	usable   uint32 // page size less the reserved bytes at the end of each page
	nPages   uint32
	wal      map[uint32][]byte
	cache    map[uint32][]byte // b-tree pages already read
	budget   *budget
}

// openSQLite checks the database header and lays the WAL's committed
// frames (wal, the whole -wal file, may be empty) over the file's pages.
func openSQLite(r pageReader, size int64, wal []byte, b *budget) (*sqliteDB, error) {
	var h [100]byte
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, fmt.Errorf("reading the sqlite header: %w", err)
	}
	if string(h[:16]) != sqliteMagic {
		return nil, errors.New("the file does not start with the sqlite magic string")
	}
	ps := uint32(binary.BigEndian.Uint16(h[16:]))
	if ps == 1 {
		ps = 65536
	}
	switch {
	case ps < 512 || ps&(ps-1) != 0:
		return nil, fmt.Errorf("the sqlite page size %d is not a power of two from 512 to 65536", ps)
	case h[18] > 2 || h[19] > 2 || h[18] == 0 || h[19] == 0:
		return nil, fmt.Errorf("the sqlite file format versions are %d and %d, not 1 (rollback) or 2 (WAL)", h[18], h[19])
	case h[21] != 64 || h[22] != 32 || h[23] != 32:
		return nil, errors.New("the sqlite payload fractions are not 64, 32 and 32")
	case binary.BigEndian.Uint32(h[56:]) != 1:
		return nil, fmt.Errorf("the sqlite text encoding is %d, not 1 (UTF-8)", binary.BigEndian.Uint32(h[56:]))
	}
	d := &sqliteDB{r: r, pageSize: ps, usable: ps - uint32(h[20]), cache: map[uint32][]byte{}, budget: b}
	if d.usable < 480 {
		return nil, fmt.Errorf("the sqlite usable page size %d is below 480", d.usable)
	}
	d.nPages = uint32(size / int64(ps))
	if n := binary.BigEndian.Uint32(h[28:]); n != 0 && binary.BigEndian.Uint32(h[24:]) == binary.BigEndian.Uint32(h[92:]) && n < d.nPages {
		d.nPages = n
	}
	if len(wal) > 0 {
		pages, n, err := readWAL(wal, ps)
		if err != nil {
			return nil, err
		}
		if len(pages) > 0 {
			d.wal, d.nPages = pages, n
		}
	}
	if d.nPages == 0 {
		return nil, errors.New("the sqlite database has no pages")
	}
	return d, nil
}

// readPage returns page n (1-based), from the WAL when it has the page.
func (d *sqliteDB) readPage(n uint32) ([]byte, error) {
	if n == 0 || n > d.nPages {
		return nil, fmt.Errorf("page %d is outside the database's %d pages", n, d.nPages)
	}
	if err := d.budget.spend(int(d.pageSize)); err != nil {
		return nil, err
	}
	if p, ok := d.wal[n]; ok {
		return p, nil
	}
	p := make([]byte, d.pageSize)
	if _, err := d.r.ReadAt(p, int64(n-1)*int64(d.pageSize)); err != nil {
		return nil, fmt.Errorf("reading page %d: %w", n, err)
	}
	return p, nil
}

// btreePage is a b-tree page with its header checked.
type btreePage struct {
	data   []byte
	n      uint32
	typ    byte
	cells  []int  // offsets of the cells
	right  uint32 // right-most child of an interior page
	usable uint32
}

// btree reads page n as a b-tree page (cached: the upper levels are
// shared by every lookup).
func (d *sqliteDB) btree(n uint32) (*btreePage, error) {
	data, ok := d.cache[n]
	if !ok {
		var err error
		if data, err = d.readPage(n); err != nil {
			return nil, err
		}
		d.cache[n] = data
	}
	hdr := 0
	if n == 1 {
		hdr = 100
	}
	p := &btreePage{data: data, n: n, typ: data[hdr], usable: d.usable}
	size := 8
	switch p.typ {
	case interiorIndex, interiorTable:
		size = 12
		p.right = binary.BigEndian.Uint32(data[hdr+8:])
	case leafIndex, leafTable:
	default:
		return nil, fmt.Errorf("page %d is not a b-tree page (type %d)", n, p.typ)
	}
	count := int(binary.BigEndian.Uint16(data[hdr+3:]))
	ptrs := hdr + size
	if ptrs+2*count > int(d.usable) {
		return nil, fmt.Errorf("page %d claims %d cells, more than fit", n, count)
	}
	p.cells = make([]int, count)
	for i := range p.cells {
		off := int(binary.BigEndian.Uint16(data[ptrs+2*i:]))
		if off < ptrs+2*count || off+4 > int(d.usable) {
			return nil, fmt.Errorf("page %d's cell %d is at %d, outside the page's cell area", n, i, off)
		}
		p.cells[i] = off
	}
	return p, nil
}

// child returns the left child page of interior cell i.
func (p *btreePage) child(i int) uint32 {
	return binary.BigEndian.Uint32(p.data[p.cells[i]:])
}

// rowid returns the key of cell i of a table page (interior or leaf) and
// where the rest of the cell starts.
func (p *btreePage) rowid(i int) (int64, int, error) {
	off := p.cells[i]
	if p.typ == interiorTable {
		off += 4
	} else if _, n := varint(p.data[off:p.usable]); n == 0 {
		return 0, 0, fmt.Errorf("page %d's cell %d is cut short", p.n, i)
	} else {
		off += n
	}
	key, n := varint(p.data[off:p.usable])
	if n == 0 {
		return 0, 0, fmt.Errorf("page %d's cell %d is cut short", p.n, i)
	}
	return int64(key), off + n, nil
}

// payload returns the payload of cell i of a leaf table page or of an
// index page, following its overflow chain; max bounds its size.
func (d *sqliteDB) payload(p *btreePage, i int, max uint64) ([]byte, error) {
	off := p.cells[i]
	if p.typ == interiorIndex {
		off += 4
	}
	size, n := varint(p.data[off:p.usable])
	if n == 0 {
		return nil, fmt.Errorf("page %d's cell %d is cut short", p.n, i)
	}
	off += n
	if p.typ == leafTable {
		if _, n = varint(p.data[off:p.usable]); n == 0 {
			return nil, fmt.Errorf("page %d's cell %d is cut short", p.n, i)
		}
		off += n
	}
	if size > max {
		return nil, fmt.Errorf("page %d's cell %d holds %d bytes, more than the %d a record of rpm's may", p.n, i, size, max)
	}
	// How much of the payload is on the page (fileformat2.html 1.6).
	u := uint64(d.usable)
	x := u - 35
	if p.typ != leafTable {
		x = (u-12)*64/255 - 23
	}
	local := size
	if size > x {
		m := (u-12)*32/255 - 23
		local = m + (size-m)%(u-4)
		if local > x {
			local = m
		}
	}
	if uint64(off)+local > u || (local < size && uint64(off)+local+4 > u) {
		return nil, fmt.Errorf("page %d's cell %d runs past the end of the page", p.n, i)
	}
	if size-local > uint64(d.nPages)*(u-4) {
		return nil, fmt.Errorf("page %d's cell %d claims %d bytes, more than the database's pages hold", p.n, i, size)
	}
	out := make([]byte, 0, min(size, 1<<20))
	out = append(out, p.data[off:uint64(off)+local]...)
	if local == size {
		return out, nil
	}
	next := binary.BigEndian.Uint32(p.data[uint64(off)+local:])
	seen := newPageSet(d.nPages)
	for uint64(len(out)) < size {
		if next < 2 {
			return nil, fmt.Errorf("page %d's cell %d: its overflow chain ends after %d of %d bytes", p.n, i, len(out), size)
		}
		if seen.add(next) {
			return nil, fmt.Errorf("page %d's cell %d: its overflow chain comes back to page %d", p.n, i, next)
		}
		ov, err := d.readPage(next)
		if err != nil {
			return nil, err
		}
		take := min(size-uint64(len(out)), u-4)
		out = append(out, ov[4:4+take]...)
		next = binary.BigEndian.Uint32(ov)
	}
	return out, nil
}

// findRow returns the payload of the row with key rowid in the table
// b-tree at root, or nil when there is none.
func (d *sqliteDB) findRow(root uint32, rowid int64, max uint64) ([]byte, error) {
	pg := root
	for range maxDepth {
		p, err := d.btree(pg)
		if err != nil {
			return nil, err
		}
		switch p.typ {
		case interiorTable:
			next := p.right
			// Cells are in key order: the first whose key is at least
			// rowid leads to it (binary search).
			lo, hi := 0, len(p.cells)
			for lo < hi {
				mid := (lo + hi) / 2
				k, _, err := p.rowid(mid)
				if err != nil {
					return nil, err
				}
				if k >= rowid {
					hi = mid
				} else {
					lo = mid + 1
				}
			}
			if lo < len(p.cells) {
				next = p.child(lo)
			}
			pg = next
		case leafTable:
			for i := range p.cells {
				k, _, err := p.rowid(i)
				if err != nil {
					return nil, err
				}
				if k == rowid {
					return d.payload(p, i, max)
				}
			}
			return nil, nil
		default:
			return nil, fmt.Errorf("page %d is an index page inside a table b-tree", pg)
		}
	}
	return nil, fmt.Errorf("the table b-tree at page %d is deeper than %d levels", root, maxDepth)
}

// scanTable calls fn with every row's payload of the table b-tree at root.
func (d *sqliteDB) scanTable(root uint32, max uint64, fn func(rowid int64, payload []byte) error) error {
	seen := newPageSet(d.nPages)
	var walk func(pg uint32, depth int) error
	walk = func(pg uint32, depth int) error {
		if depth >= maxDepth || seen.add(pg) {
			return fmt.Errorf("the table b-tree at page %d loops or is deeper than %d levels", root, maxDepth)
		}
		p, err := d.btree(pg)
		if err != nil {
			return err
		}
		switch p.typ {
		case interiorTable:
			for i := range p.cells {
				if err := walk(p.child(i), depth+1); err != nil {
					return err
				}
			}
			return walk(p.right, depth+1)
		case leafTable:
			for i := range p.cells {
				k, _, err := p.rowid(i)
				if err != nil {
					return err
				}
				pl, err := d.payload(p, i, max)
				if err != nil {
					return err
				}
				if err := fn(k, pl); err != nil {
					return err
				}
			}
			return nil
		}
		return fmt.Errorf("page %d is an index page inside a table b-tree", pg)
	}
	return walk(root, 0)
}

// indexEqual returns the rowids of the entries of the index b-tree at
// root whose first column is the text key (sqlite's BINARY collation).
func (d *sqliteDB) indexEqual(root uint32, key string) ([]int64, error) {
	var out []int64
	// entry compares key with cell i's first column and returns the
	// cell's rowid (its last column).
	entry := func(p *btreePage, i int) (int, int64, error) {
		pl, err := d.payload(p, i, maxIndexRecord)
		if err != nil {
			return 0, 0, err
		}
		cols, err := record(pl)
		if err != nil {
			return 0, 0, fmt.Errorf("page %d's cell %d: %w", p.n, i, err)
		}
		if len(cols) < 2 || !cols[len(cols)-1].isInt() {
			return 0, 0, fmt.Errorf("page %d's cell %d is not an index entry with a rowid", p.n, i)
		}
		return compareText(key, cols[0]), cols[len(cols)-1].i, nil
	}
	seen := newPageSet(d.nPages)
	var walk func(pg uint32, depth int) error
	walk = func(pg uint32, depth int) error {
		if depth >= maxDepth || seen.add(pg) {
			return fmt.Errorf("the index b-tree at page %d loops or is deeper than %d levels", root, maxDepth)
		}
		p, err := d.btree(pg)
		if err != nil {
			return err
		}
		switch p.typ {
		case leafIndex:
			for i := range p.cells {
				c, rowid, err := entry(p, i)
				if err != nil {
					return err
				}
				if c == 0 {
					out = append(out, rowid)
				} else if c < 0 {
					break
				}
			}
			return nil
		case interiorIndex:
			// The subtree left of a cell holds the entries before it: it
			// is entered only when key is not past the cell's.
			for i := range p.cells {
				c, rowid, err := entry(p, i)
				if err != nil {
					return err
				}
				if c > 0 {
					continue
				}
				if err := walk(p.child(i), depth+1); err != nil {
					return err
				}
				if c < 0 {
					return nil
				}
				out = append(out, rowid)
			}
			return walk(p.right, depth+1)
		}
		return fmt.Errorf("page %d is a table page inside an index b-tree", pg)
	}
	if err := walk(root, 0); err != nil {
		return nil, err
	}
	if len(out) > maxInstances {
		return nil, fmt.Errorf("the index lists %d packages named %q; no real database has more than %d", len(out), key, maxInstances)
	}
	return out, nil
}

// column is one value of a record.
type column struct {
	typ uint64 // serial type
	i   int64  // integer value
	b   []byte // TEXT or BLOB value
}

func (c column) isInt() bool  { return c.typ >= 1 && c.typ <= 6 || c.typ == 8 || c.typ == 9 }
func (c column) isText() bool { return c.typ >= 13 && c.typ%2 == 1 }
func (c column) isBlob() bool { return c.typ >= 12 && c.typ%2 == 0 }

// record decodes a record (fileformat2.html 2.1): a header of serial
// types, then the values.
func record(b []byte) ([]column, error) {
	hsize, n := varint(b)
	if n == 0 || hsize > uint64(len(b)) || hsize < uint64(n) {
		return nil, errors.New("its record header does not fit in the record")
	}
	hdr, body := b[n:hsize], b[hsize:]
	var cols []column
	for len(hdr) > 0 {
		t, n := varint(hdr)
		if n == 0 {
			return nil, errors.New("its record header is cut short")
		}
		hdr = hdr[n:]
		var size uint64
		switch {
		case t <= 4:
			size = t
		case t == 5:
			size = 6
		case t == 6 || t == 7:
			size = 8
		case t == 8 || t == 9:
		case t >= 12:
			size = (t - 12) / 2
		default:
			return nil, fmt.Errorf("its record has the reserved serial type %d", t)
		}
		if size > uint64(len(body)) {
			return nil, errors.New("its record's values run past its end")
		}
		c := column{typ: t}
		switch {
		case t >= 1 && t <= 6:
			v := int64(int8(body[0])) // sign of the first byte
			for _, x := range body[1:size] {
				v = v<<8 | int64(x)
			}
			c.i = v
		case t == 9:
			c.i = 1
		case t >= 12:
			c.b = body[:size]
		}
		body = body[size:]
		cols = append(cols, c)
	}
	return cols, nil
}

// compareText compares the text key with an index column in sqlite's
// order (NULL and numbers before TEXT before BLOB; TEXT by bytes).
func compareText(key string, c column) int {
	switch {
	case c.isText():
		return bytes.Compare([]byte(key), c.b)
	case c.isBlob():
		return -1
	}
	return 1
}

// varint decodes sqlite's big-endian variable-length integer; n is 0
// when b ends inside it.
func varint(b []byte) (v uint64, n int) {
	for i := 0; i < 9 && i < len(b); i++ {
		if i == 8 {
			return v<<8 | uint64(b[i]), 9
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// pageSet remembers the pages a chain has visited: a chain that comes
// back to one loops.
type pageSet []uint64

func newPageSet(n uint32) pageSet { return make(pageSet, n/64+1) }

// add records page n and says whether it was there already (a page
// number past the set is left to the reader's own range check).
func (s pageSet) add(n uint32) bool {
	if int(n/64) >= len(s) {
		return false
	}
	bit := uint64(1) << (n % 64)
	had := s[n/64]&bit != 0
	s[n/64] |= bit
	return had
}
