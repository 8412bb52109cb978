package rpmdb

import (
	"bytes"
	"encoding/binary"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fuzzNames are asked for in every fuzz run: packages both real roots
// have, and one neither has.
var fuzzNames = []string{"gpg-pubkey", "tzdata", "libgcc", "bash", "glibc", "zfs"}

// FuzzRead replaces one file of a real database (the fuzz input selects
// which: AlmaLinux 9.3's rpmdb.sqlite or its write-ahead log, AlmaLinux
// 8.9's Packages or Name) and reads it: Read must return an error or
// packages of the names asked for, never panic, hang or allocate without
// bound. The seeds are the real files, and a log rpm left when killed.
func FuzzRead(f *testing.F) {
	sq, bdb := realDB(f, alma9), realDB(f, alma8)
	f.Add(uint8(0), sq[dbDir+"/rpmdb.sqlite"])
	f.Add(uint8(2), bdb[dbDir+"/Packages"])
	f.Add(uint8(3), bdb[dbDir+"/Name"])
	if _, err := exec.LookPath("rpmbuild"); err == nil && os.Geteuid() == 0 {
		root := killedWAL(f)
		wal, err := os.ReadFile(filepath.Join(root, dbDir, "rpmdb.sqlite-wal"))
		if err != nil {
			f.Fatal(err)
		}
		db, err := os.ReadFile(filepath.Join(root, dbDir, "rpmdb.sqlite"))
		if err != nil {
			f.Fatal(err)
		}
		sq = map[string][]byte{dbDir + "/rpmdb.sqlite": db}
		f.Add(uint8(1), wal)
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		var files map[string][]byte
		switch which % 4 {
		case 0:
			files = map[string][]byte{dbDir + "/rpmdb.sqlite": data}
		case 1:
			files = maps.Clone(sq)
			files[dbDir+"/rpmdb.sqlite-wal"] = data
		case 2:
			files = map[string][]byte{dbDir + "/Packages": data, dbDir + "/Name": bdb[dbDir+"/Name"]}
		case 3:
			files = map[string][]byte{dbDir + "/Packages": bdb[dbDir+"/Packages"], dbDir + "/Name": data}
		}
		pkgs, err := Read(memFS{files: files}, dbDir, fuzzNames, Requires|Provides)
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if !slices.Contains(fuzzNames, p.Name) {
				t.Fatalf("Read returned %s, which was not asked for", p.Name)
			}
		}
	})
}

// The packages of the real roots (rpm -qa).
var (
	alma9Names = []string{"gpg-pubkey", "libgcc", "tzdata", "pcre2-syntax", "ncurses-base", "almalinux-gpg-keys",
		"almalinux-release", "setup", "filesystem", "basesystem", "glibc-minimal-langpack", "glibc-common", "glibc",
		"ncurses-libs", "bash", "zlib", "xz-libs", "bzip2-libs", "libsepol", "pcre2", "libselinux", "coreutils-single", "libacl"}
)

// TestReadCycles: page pointers that lead back where they came from end
// in an error, in bounded time, stopped by the structure's own bounds
// (depth, the length of a chain) rather than by the read budget.
func TestReadCycles(t *testing.T) {
	sq, el8 := realDB(t, alma9), realDB(t, alma8)
	const packagesRoot = 2 // an interior page (sqlite_schema of AlmaLinux 9.3)
	page := func(b []byte, n uint32) []byte { return b[(n-1)*4096 : n*4096] }
	// sqlite reads AlmaLinux 9.3's database after damage.
	sqlite := func(damage func(db []byte, d *sqliteDB)) error {
		b := bytes.Clone(sq[dbDir+"/rpmdb.sqlite"])
		d, err := openSQLite(bytes.NewReader(b), int64(len(b)), nil, &budget{left: readBudget})
		if err != nil {
			t.Fatal(err)
		}
		damage(b, d)
		_, err = Read(memFS{files: map[string][]byte{dbDir + "/rpmdb.sqlite": b}}, dbDir, alma9Names, Requires)
		return err
	}
	// packages opens AlmaLinux 8.9's Packages after damage.
	packages := func(damage func(b []byte, n uint32)) *bdb {
		b := bytes.Clone(el8[dbDir+"/Packages"])
		for n := uint32(1); int(n+1)*4096 <= len(b); n++ {
			damage(b[n*4096:(n+1)*4096], n)
		}
		d, err := openBDB(bytes.NewReader(b), int64(len(b)), true, &budget{left: readBudget})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := map[string]func() error{
		"table b-tree's right-most child is itself": func() error {
			return sqlite(func(b []byte, d *sqliteDB) { binary.BigEndian.PutUint32(page(b, packagesRoot)[8:], packagesRoot) })
		},
		"every table b-tree child is the root": func() error {
			return sqlite(func(b []byte, d *sqliteDB) {
				p, err := d.btree(packagesRoot)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range p.cells {
					binary.BigEndian.PutUint32(page(b, packagesRoot)[c:], packagesRoot)
				}
			})
		},
		"every overflow page continues with itself": func() error {
			return sqlite(func(b []byte, d *sqliteDB) {
				// Each package's first overflow page.
				err := d.scanTable(packagesRoot, maxBlob, func(rowid int64, _ []byte) error { return nil })
				if err != nil {
					t.Fatal(err)
				}
				for n, data := range d.cache {
					p, err := d.btree(n)
					if err != nil || p.typ != leafTable {
						continue
					}
					for _, off := range p.cells {
						size, k := varint(data[off:])
						off += k
						_, k = varint(data[off:])
						off += k
						u := uint64(d.usable)
						if size <= u-35 {
							continue
						}
						m := (u-12)*32/255 - 23
						local := m + (size-m)%(u-4)
						if local > u-35 {
							local = m
						}
						first := binary.BigEndian.Uint32(data[off+int(local):])
						binary.BigEndian.PutUint32(page(b, first), first)
					}
				}
			})
		},
		"hash bucket chains loop": func() error {
			d := packages(func(p []byte, n uint32) {
				if p[25] == pHash {
					binary.BigEndian.PutUint32(p[16:], n) // s390x: big-endian
				}
			})
			_, err := d.hashGet([]byte{0, 0, 0x27, 0x0f}, maxBlob) // header 9999: not there
			return err
		},
		"overflow pages loop": func() error {
			d := packages(func(p []byte, n uint32) {
				if p[25] == pOverflow {
					binary.BigEndian.PutUint32(p[16:], n)
				}
			})
			_, err := d.hashGet([]byte{0, 0, 0, 1}, maxBlob)
			return err
		},
	}
	for name, read := range tests {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			err := read()
			if err == nil {
				t.Fatal("a database whose pages loop was read without error")
			}
			t.Logf("%v (after %v)", err, time.Since(start).Round(time.Millisecond))
			if strings.Contains(err.Error(), "read more than") {
				t.Errorf("the loop was stopped by the read budget, not by the structure: %v", err)
			}
		})
	}
}
