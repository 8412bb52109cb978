// Package rpmdb reads installed packages out of the rpm database in
// process, read-only, without running rpm: sqlite (rpm 4.16 and later:
// EL9, EL10, Fedora; rpmdb.sqlite with its write-ahead log) and Berkeley DB
// (EL7, EL8: the Packages hash and the Name b-tree). It looks packages up by
// name through rpm's Name index, as `rpm -q NAME` does, so a query costs
// the same with 5,000 packages installed as with 200.
//
// Everything read is treated as possibly crafted: page numbers, offsets,
// lengths and counts are checked before use, every chain and tree walk is
// bounded, and each header goes through rpmheader's checks and its own
// digest, as rpm checks a header it reads from the database. A database
// that is anything other than what rpm writes, or that changes while it is
// read, is an error: the caller asks rpm instead.
//
// Why not github.com/knqyf263/go-rpmdb (what Trivy and Syft use), measured
// in December 2026: the module proxy serves only its September 2021
// version, which reads Berkeley DB alone and only little-endian (it fails
// on the AlmaLinux 8.9 s390x root: "unexpected DB magic number"); its
// current version reads sqlite through glebarez/go-sqlite, a pure-Go port
// of all of sqlite (modernc.org/sqlite and libc): a hello-world that opens
// rpmdb.sqlite through it is 9.4 MB against 2.4 MB (+7 MB, a third of
// zfsinstall's 20 MB), and it lists every package, parsing every header
// whole, where rpm -q and this package look names up in the Name index.
// This package adds 185 KB to zfsinstall and reads one table and one index
// of sqlite, two files of Berkeley DB, with rpm's own header checks
// (package rpmheader, shared with the zfs-release verification).
package rpmdb

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"syscall"

	"github.com/zfsinstall/zfsinstall/rpmheader"
)

// File is a database file open for reading.
type File interface {
	io.ReaderAt
	Stat() (fs.FileInfo, error)
	Close() error
}

// FS opens the database's files: paths on the managed host.
type FS interface {
	Open(path string) (File, error)
}

// Dep is one requirement or provide: a name, rpm's sense flags
// (RPMSENSE_LESS 2, GREATER 4, EQUAL 8, ...) and a version ("" for none).
type Dep struct {
	Name    string
	Flags   uint32
	Version string
}

// Package is an installed package as its header in the database says.
// A tag the header lacks is "(none)", as rpm's query format prints it; a
// package without an epoch has Epoch "".
type Package struct {
	Name, Epoch, Version, Release, Arch string
	Requires, Provides                  []Dep
}

// Fields chooses which dependency lists Read decodes (names, versions and
// arches are always read).
type Fields uint8

// The dependency lists Read can decode.
const (
	Requires Fields = 1 << iota
	Provides
)

// Limits of what a query reads. A real database is far inside them; a
// crafted one that is not makes Read fail, never allocate without bound.
const (
	// maxBlob caps one header (rpm allows a 256 MiB store; the largest
	// real headers, of packages with tens of thousands of files, are a
	// few MiB).
	maxBlob = 64 << 20
	// maxWAL caps the write-ahead log read into memory (rpm truncates it
	// when it closes the database; a large one means a transaction is
	// running or was killed, and rpm is asked instead).
	maxWAL = 64 << 20
	// maxIndexRecord caps one Name index entry (a package name).
	maxIndexRecord = 64 << 10
	// maxInstances caps the packages of one name (installonly kernels,
	// gpg-pubkey: a few dozen at most).
	maxInstances = 4096
	// readBudget caps the bytes one query reads, across every page.
	readBudget = 512 << 20
)

// Tags read (include/rpm/rpmtag.h).
const (
	tagName           = 1000
	tagVersion        = 1001
	tagRelease        = 1002
	tagEpoch          = 1003
	tagArch           = 1022
	tagProvideName    = 1047
	tagRequireFlags   = 1048
	tagRequireName    = 1049
	tagRequireVersion = 1050
	tagProvideFlags   = 1112
	tagProvideVersion = 1113
)

// tagTypes are the types the tags read must have (rpm's tag table).
var tagTypes = map[uint32]uint32{
	tagName: rpmheader.TypeString, tagVersion: rpmheader.TypeString, tagRelease: rpmheader.TypeString,
	tagEpoch: rpmheader.TypeInt32, tagArch: rpmheader.TypeString,
	tagRequireName: rpmheader.TypeStringArray, tagRequireFlags: rpmheader.TypeInt32, tagRequireVersion: rpmheader.TypeStringArray,
	tagProvideName: rpmheader.TypeStringArray, tagProvideFlags: rpmheader.TypeInt32, tagProvideVersion: rpmheader.TypeStringArray,
	rpmheader.TagSHA1Header: rpmheader.TypeString, rpmheader.TagSHA256Header: rpmheader.TypeString,
}

// ErrNoDatabase is what Read returns for a directory without an rpm
// database.
var ErrNoDatabase = errors.New("no rpm database")

// ErrBusy is what Read returns when an rpm transaction holds the
// database's lock: what it reads could be half written.
var ErrBusy = errors.New("an rpm transaction is running")

// Read returns every installed instance of the named packages from the
// rpm database in dir ("/var/lib/rpm"), in the order of their header
// numbers; a name not installed is simply absent. It reads rpmdb.sqlite
// (with the committed pages of rpmdb.sqlite-wal) or, for an older rpm, the
// Berkeley DB Packages and Name files; a directory with both or neither is
// an error, as is a database that changes while it is read twice over.
func Read(fsys FS, dir string, names []string, fields Fields) ([]Package, error) {
	var err error
	for range 2 {
		var r *reader
		if r, err = open(fsys, dir); err != nil {
			return nil, err
		}
		var pkgs []Package
		pkgs, err = r.read(names, fields)
		changed := r.changed()
		r.close()
		if changed == nil && err == nil {
			return pkgs, nil
		}
		if changed == nil {
			return nil, err
		}
		err = changed
	}
	return nil, err
}

// reader is one attempt at reading a database.
type reader struct {
	fsys   FS
	files  []File
	stamps []stamp // of files, when opened
	lookup func(name string) ([]uint32, error)
	blob   func(hnum uint32) ([]byte, error)
}

// stamp is what tells that a file was written or replaced.
type stamp struct {
	size, mtime, ctime int64
	ino                uint64
}

func stampOf(f File) (stamp, error) {
	fi, err := f.Stat()
	if err != nil {
		return stamp{}, err
	}
	s := stamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino, s.ctime = st.Ino, st.Ctim.Nano()
	}
	return s, nil
}

func (r *reader) add(f File) (stamp, error) {
	r.files = append(r.files, f)
	s, err := stampOf(f)
	r.stamps = append(r.stamps, s)
	return s, err
}

func (r *reader) close() {
	for _, f := range r.files {
		f.Close()
	}
}

// changed says how the files changed since they were opened, nil when
// they did not.
func (r *reader) changed() error {
	for i, f := range r.files {
		if s, err := stampOf(f); err != nil || s != r.stamps[i] {
			return fmt.Errorf("the rpm database changed while it was read (twice)")
		}
	}
	return nil
}

// open finds the database in dir and opens it.
func open(fsys FS, dir string) (_ *reader, err error) {
	r := &reader{fsys: fsys}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	if err := checkLock(fsys, path.Join(dir, ".rpm.lock")); err != nil {
		return nil, err
	}
	sq, sqErr := fsys.Open(path.Join(dir, "rpmdb.sqlite"))
	pk, pkErr := fsys.Open(path.Join(dir, "Packages"))
	switch {
	case sqErr == nil && pkErr == nil:
		sq.Close()
		pk.Close()
		return nil, fmt.Errorf("%s holds both rpmdb.sqlite and a Berkeley DB Packages: which one rpm reads depends on its configured backend", dir)
	case sqErr == nil:
		return r, r.openSQLite(sq, dir)
	case pkErr == nil:
		return r, r.openBDB(pk, dir)
	}
	return nil, fmt.Errorf("%w in %s (neither rpmdb.sqlite nor Packages)", ErrNoDatabase, dir)
}

// checkLock fails with ErrBusy when another process holds rpm's
// transaction lock (lib/rpmlock.c: a write lock on the whole file, taken
// for every transaction). It only asks (F_GETLK); it takes no lock.
func checkLock(fsys FS, lockPath string) error {
	f, err := fsys.Open(lockPath)
	if err != nil {
		return nil // no lock file: no transaction has ever run here
	}
	defer f.Close()
	fd, ok := f.(interface{ Fd() uintptr })
	if !ok {
		return nil
	}
	lk := syscall.Flock_t{Type: syscall.F_RDLCK, Whence: io.SeekStart}
	if err := syscall.FcntlFlock(fd.Fd(), syscall.F_GETLK, &lk); err != nil {
		return nil
	}
	if lk.Type == syscall.F_WRLCK {
		return fmt.Errorf("%w: process %d holds %s", ErrBusy, lk.Pid, lockPath)
	}
	return nil
}

func (r *reader) openSQLite(f File, dir string) error {
	s, err := r.add(f)
	if err != nil {
		return err
	}
	var walData []byte
	if w, err := r.fsys.Open(path.Join(dir, "rpmdb.sqlite-wal")); err == nil {
		ws, err := r.add(w)
		if err != nil {
			return err
		}
		if ws.size > maxWAL {
			return fmt.Errorf("the write-ahead log rpmdb.sqlite-wal is %d bytes, more than the %d read in process", ws.size, maxWAL)
		}
		walData = make([]byte, ws.size)
		if n, err := w.ReadAt(walData, 0); n != len(walData) {
			return fmt.Errorf("reading rpmdb.sqlite-wal: %w", err)
		}
	}
	b := &budget{left: readBudget}
	db, err := openSQLite(f, s.size, walData, b)
	if err != nil {
		return fmt.Errorf("rpmdb.sqlite: %w", err)
	}
	roots, err := db.schema()
	if err != nil {
		return fmt.Errorf("rpmdb.sqlite: %w", err)
	}
	r.lookup = func(name string) ([]uint32, error) {
		rowids, err := db.indexEqual(roots.nameIndex, name)
		if err != nil {
			return nil, err
		}
		var hnums []uint32
		for _, id := range rowids {
			pl, err := db.findRow(roots.name, id, maxIndexRecord)
			if err != nil {
				return nil, err
			}
			cols, err := record(pl)
			if err != nil || pl == nil || len(cols) < 3 || !cols[0].isText() || string(cols[0].b) != name || !cols[1].isInt() || cols[1].i <= 0 || cols[1].i > 1<<32-1 {
				return nil, fmt.Errorf("rpmdb.sqlite: the Name index's entry %d for %q has no matching row", id, name)
			}
			hnums = append(hnums, uint32(cols[1].i))
		}
		return hnums, nil
	}
	r.blob = func(hnum uint32) ([]byte, error) {
		pl, err := db.findRow(roots.packages, int64(hnum), maxBlob+16)
		if err != nil || pl == nil {
			return nil, err
		}
		cols, err := record(pl)
		if err != nil || len(cols) != 2 || !cols[1].isBlob() {
			return nil, fmt.Errorf("rpmdb.sqlite: package %d's row is not (hnum, blob)", hnum)
		}
		return cols[1].b, nil
	}
	return nil
}

func (r *reader) openBDB(pk File, dir string) error {
	ps, err := r.add(pk)
	if err != nil {
		return err
	}
	nf, err := r.fsys.Open(path.Join(dir, "Name"))
	if err != nil {
		return fmt.Errorf("the Berkeley DB rpm database has no Name index: %w", err)
	}
	ns, err := r.add(nf)
	if err != nil {
		return err
	}
	b := &budget{left: readBudget}
	pkgs, err := openBDB(pk, ps.size, true, b)
	if err != nil {
		return fmt.Errorf("the Berkeley DB Packages: %w", err)
	}
	names, err := openBDB(nf, ns.size, false, b)
	if err != nil {
		return fmt.Errorf("the Berkeley DB Name index: %w", err)
	}
	r.lookup = func(name string) ([]uint32, error) {
		v, err := names.btreeGet([]byte(name), 8*maxInstances)
		if err != nil {
			return nil, fmt.Errorf("the Berkeley DB Name index: %w", err)
		}
		if len(v)%8 != 0 {
			return nil, fmt.Errorf("the Berkeley DB Name index: the entry for %q is %d bytes, not (header, index) pairs", name, len(v))
		}
		var hnums []uint32
		for i := 0; i < len(v); i += 8 {
			hnums = append(hnums, names.u32(v[i:]))
		}
		return hnums, nil
	}
	r.blob = func(hnum uint32) ([]byte, error) {
		key := make([]byte, 4)
		pkgs.order.PutUint32(key, hnum)
		v, err := pkgs.hashGet(key, maxBlob)
		if err != nil {
			return nil, fmt.Errorf("the Berkeley DB Packages: %w", err)
		}
		return v, nil
	}
	return nil
}

// read looks the names up and decodes their headers, in the order rpm -q
// prints them: name by name, each name's packages by header number.
func (r *reader) read(names []string, fields Fields) ([]Package, error) {
	var pkgs []Package
	for _, n := range names {
		hnums, err := r.lookup(n)
		if err != nil {
			return nil, err
		}
		if len(hnums) > maxInstances {
			return nil, fmt.Errorf("the Name index lists %d packages named %q", len(hnums), n)
		}
		slices.Sort(hnums)
		for _, h := range slices.Compact(hnums) {
			blob, err := r.blob(h)
			if err != nil {
				return nil, err
			}
			if blob == nil {
				return nil, fmt.Errorf("the Name index names package %d, which the database does not hold", h)
			}
			p, err := decode(blob, fields)
			if err != nil {
				return nil, fmt.Errorf("package %d: %w", h, err)
			}
			if p.Name != n {
				return nil, fmt.Errorf("package %d is %s, not the %s the Name index says", h, p.Name, n)
			}
			pkgs = append(pkgs, p)
		}
	}
	return pkgs, nil
}

// decode checks a header blob and reads a Package out of it.
func decode(blob []byte, fields Fields) (Package, error) {
	h, err := rpmheader.ParseBlob(blob, tagTypes)
	if err != nil {
		return Package{}, err
	}
	if err := h.VerifyDigest(); err != nil {
		return Package{}, err
	}
	str := func(tag uint32) string {
		if s, ok := h.String(tag); ok {
			return s
		}
		return "(none)"
	}
	p := Package{Name: str(tagName), Version: str(tagVersion), Release: str(tagRelease), Arch: str(tagArch)}
	if e := h.Uint32s(tagEpoch); len(e) > 0 {
		p.Epoch = fmt.Sprint(e[0])
	}
	if fields&Requires != 0 {
		if p.Requires, err = deps(h, tagRequireName, tagRequireFlags, tagRequireVersion); err != nil {
			return Package{}, err
		}
	}
	if fields&Provides != 0 {
		if p.Provides, err = deps(h, tagProvideName, tagProvideFlags, tagProvideVersion); err != nil {
			return Package{}, err
		}
	}
	return p, nil
}

// deps reads a dependency list from its three parallel tags.
func deps(h *rpmheader.Header, nameTag, flagsTag, versionTag uint32) ([]Dep, error) {
	names, flags, versions := h.Strings(nameTag), h.Uint32s(flagsTag), h.Strings(versionTag)
	if len(flags) != len(names) || len(versions) != len(names) {
		return nil, fmt.Errorf("tags %d, %d and %d have %d, %d and %d values, not one each per dependency", nameTag, flagsTag, versionTag, len(names), len(flags), len(versions))
	}
	if len(names) == 0 {
		return nil, nil
	}
	out := make([]Dep, len(names))
	for i := range names {
		out[i] = Dep{Name: names[i], Flags: flags[i], Version: versions[i]}
	}
	return out, nil
}

// pageReader is where pages are read from.
type pageReader = io.ReaderAt

// budget bounds the bytes one query reads.
type budget struct{ left int }

func (b *budget) spend(n int) error {
	if b.left -= n; b.left < 0 {
		return fmt.Errorf("the query read more than %d MiB of pages, far more than any real database needs", readBudget>>20)
	}
	return nil
}

// sqliteRoots are the root pages of the b-trees rpm's lookups use.
type sqliteRoots struct{ packages, name, nameIndex uint32 }

// schema finds the Packages and Name tables and the Name index in
// sqlite_schema (page 1), and checks that they are rpm's (lib/backend/
// sqlite.c init_table, create_index at rpm-4.16.1.3).
func (d *sqliteDB) schema() (sqliteRoots, error) {
	var roots sqliteRoots
	want := map[string]struct {
		typ, sql string
		root     *uint32
	}{
		"Packages":     {"table", "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)", &roots.packages},
		"Name":         {"table", "CREATE TABLE 'Name' (key 'TEXT' NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, FOREIGN KEY (hnum) REFERENCES 'Packages'(hnum))", &roots.name},
		"Name_key_idx": {"index", "CREATE INDEX 'Name_key_idx' ON 'Name'(key ASC)", &roots.nameIndex},
	}
	err := d.scanTable(1, 1<<20, func(_ int64, pl []byte) error {
		cols, err := record(pl)
		if err != nil {
			return fmt.Errorf("sqlite_schema: %w", err)
		}
		if len(cols) < 5 || !cols[1].isText() {
			return nil
		}
		w, ok := want[string(cols[1].b)]
		if !ok {
			return nil
		}
		if string(cols[0].b) != w.typ || string(cols[4].b) != w.sql || !cols[3].isInt() || cols[3].i < 2 || cols[3].i > int64(d.nPages) {
			return fmt.Errorf("sqlite_schema: %s %q is not the one rpm creates (%s)", cols[0].b, cols[1].b, cols[4].b)
		}
		*w.root = uint32(cols[3].i)
		return nil
	})
	if err != nil {
		return roots, err
	}
	if roots.packages == 0 || roots.name == 0 || roots.nameIndex == 0 {
		return roots, errors.New("sqlite_schema lacks rpm's Packages table, Name table or Name index")
	}
	return roots, nil
}
