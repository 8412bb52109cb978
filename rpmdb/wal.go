package rpmdb

import (
	"encoding/binary"
	"fmt"
)

// readWAL returns the pages committed in a sqlite write-ahead log (the
// whole -wal file) and the database's size in pages after the last
// commit, as sqlite itself recovers them when it has no wal-index
// (wal.c walIndexRecover; fileformat2.html 4.1-4.3): frames are taken while
// their salts equal the header's and their cumulative checksums hold, and
// only up to the last commit frame, so the frames of a transaction still
// being written, and frames left from an earlier generation of the log,
// are not. A log whose header is not valid is empty to sqlite, and to
// readWAL. Later frames of a page replace earlier ones.
func readWAL(b []byte, pageSize uint32) (map[uint32][]byte, uint32, error) {
	const hdrSize, frameHdr = 32, 24
	if len(b) < hdrSize {
		return nil, 0, nil
	}
	magic := binary.BigEndian.Uint32(b)
	if magic != 0x377f0682 && magic != 0x377f0683 {
		return nil, 0, nil
	}
	var order binary.ByteOrder = binary.LittleEndian
	if magic&1 == 1 {
		order = binary.BigEndian
	}
	s0, s1 := walChecksum(order, b[:24], 0, 0)
	if s0 != binary.BigEndian.Uint32(b[24:]) || s1 != binary.BigEndian.Uint32(b[28:]) {
		return nil, 0, nil
	}
	if v := binary.BigEndian.Uint32(b[4:]); v != 3007000 {
		return nil, 0, fmt.Errorf("the sqlite WAL has format version %d, not 3007000", v)
	}
	if ps := binary.BigEndian.Uint32(b[8:]); ps != pageSize {
		return nil, 0, fmt.Errorf("the sqlite WAL's page size %d is not the database's %d", ps, pageSize)
	}
	salt1, salt2 := binary.BigEndian.Uint32(b[16:]), binary.BigEndian.Uint32(b[20:])
	committed := map[uint32][]byte{}
	pending := map[uint32][]byte{}
	var nPages uint32
	for off := hdrSize; off+frameHdr+int(pageSize) <= len(b); off += frameHdr + int(pageSize) {
		f := b[off : off+frameHdr]
		page := b[off+frameHdr : off+frameHdr+int(pageSize)]
		pgno, commit := binary.BigEndian.Uint32(f), binary.BigEndian.Uint32(f[4:])
		if pgno == 0 || binary.BigEndian.Uint32(f[8:]) != salt1 || binary.BigEndian.Uint32(f[12:]) != salt2 {
			break
		}
		s0, s1 = walChecksum(order, f[:8], s0, s1)
		s0, s1 = walChecksum(order, page, s0, s1)
		if s0 != binary.BigEndian.Uint32(f[16:]) || s1 != binary.BigEndian.Uint32(f[20:]) {
			break
		}
		pending[pgno] = page
		if commit != 0 {
			for n, p := range pending {
				committed[n] = p
			}
			clear(pending)
			nPages = commit
		}
	}
	if nPages == 0 {
		return nil, 0, nil
	}
	for n := range committed {
		if n > nPages {
			delete(committed, n) // the commit truncated the database
		}
	}
	return committed, nPages, nil
}

// walChecksum continues sqlite's WAL checksum (wal.c walChecksumBytes)
// over b, whose length is a multiple of 8, reading words in order.
func walChecksum(order binary.ByteOrder, b []byte, s0, s1 uint32) (uint32, uint32) {
	for i := 0; i+8 <= len(b); i += 8 {
		s0 += order.Uint32(b[i:]) + s1
		s1 += order.Uint32(b[i+4:]) + s0
	}
	return s0, s1
}
