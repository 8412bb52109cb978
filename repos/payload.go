package repos

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/cavaliergopher/rpm"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// A zfs-release package is read before it is installed, so that the
// OpenZFS repositories can be asked, and every refusal made, before the
// first change to the host (issue 20 item 4): its zfs.repo comes out of the
// package's payload here. The payload is the part of the file after the
// main header, compressed as the header's PAYLOADCOMPRESSOR says; the
// published zfs-release packages use gzip (every 2-x and 3-x package in
// testdata/upstream/openzfs/zfs-release), xz (the EL 1.x series) and zstd
// (the Fedora 1.x series, and what rpmbuild writes on Fedora 31 and later,
// the test bed's too); bzip2 and lzma are rpm's other two. The archive in
// it is cpio in the "new ASCII" (newc) format rpm writes (lib/fsm.c,
// rpmio/cpio.c).

// maxPayloadSize bounds what is decompressed: a zfs-release payload is
// about 15 KiB (two keys, five key links, zfs.repo).
const maxPayloadSize = 16 << 20

// releaseFileAllowed says whether a zfs-release package may install p: every one
// OpenZFS has published installs /etc/yum.repos.d/zfs.repo and keys and key
// links under /etc/pki/rpm-gpg/ (rpm -qlp of every package in
// testdata/upstream/openzfs/zfs-release), and nothing else.
func releaseFileAllowed(p string) bool {
	switch p {
	case ZFSRepoPath, "/etc", "/etc/pki", "/etc/pki/rpm-gpg", ReposDir:
		return true
	}
	return strings.HasPrefix(p, "/etc/pki/rpm-gpg/") && !strings.Contains(strings.TrimPrefix(p, "/etc/pki/rpm-gpg/"), "/")
}

// ReleaseRepo returns the zfs.repo a zfs-release package installs, read
// from its payload (VerifyRelease does it for the packages it accepts, in
// ReleaseInfo.Repo). Call it on a package VerifyRelease accepted: the
// payload's integrity is what VerifyRelease checked (a signature over it,
// or the payload digest in the signed header). It refuses a package whose
// payload it cannot read, that installs anything but zfs.repo and keys
// under /etc/pki/rpm-gpg/ (a repository file of another name, dnf's
// variables or configuration would change what dnf reads, beyond what
// zfsinstall checks), or whose zfs.repo is not a regular file; the repo
// file must parse.
func ReleaseRepo(data []byte) ([]byte, error) {
	pkg, err := rpm.Read(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("reading the zfs-release package: %w", err)
	}
	name := fmt.Sprintf("%s-%s-%s.%s.rpm", pkg.Name(), pkg.Version(), pkg.Release(), pkg.Architecture())
	_, he := pkg.HeaderRange()
	repo, err := repoFromPayload(pkg.PayloadFormat(), pkg.PayloadCompression(), data[he:])
	if err != nil {
		return nil, fmt.Errorf("reading %s before installing it: %w: refusing", name, err)
	}
	return repo, nil
}

// repoFromPayload is ReleaseRepo on the payload itself.
func repoFromPayload(format, compression string, payload []byte) ([]byte, error) {
	if format != "cpio" {
		return nil, fmt.Errorf("its payload is in %q format, not the cpio rpm writes", format)
	}
	r, err := decompressor(compression, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("its %s payload cannot be read: %w", compression, err)
	}
	var repo []byte
	err = readCPIO(io.LimitReader(r, maxPayloadSize+1), func(e cpioEntry) error {
		p := path.Clean("/" + strings.TrimPrefix(e.name, "."))
		switch {
		case !releaseFileAllowed(p):
			return fmt.Errorf("it installs %s; the zfs-release packages OpenZFS publishes install only %s and keys under /etc/pki/rpm-gpg/, and another file there would change what dnf reads beyond what zfsinstall checks", p, ZFSRepoPath)
		case p == ZFSRepoPath && e.mode&cpioTypeMask != cpioRegular:
			return fmt.Errorf("its %s is not a regular file (mode %o)", ZFSRepoPath, e.mode)
		case p == ZFSRepoPath:
			repo = e.data
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if repo == nil {
		return nil, fmt.Errorf("it installs no %s", ZFSRepoPath)
	}
	if _, err := Parse(ZFSRepoPath, repo); err != nil {
		return nil, fmt.Errorf("its %w", err)
	}
	return repo, nil
}

// decompressor reads a payload compressed as rpm's PAYLOADCOMPRESSOR tag
// names it.
func decompressor(compression string, r io.Reader) (io.Reader, error) {
	switch compression {
	case "gzip", "":
		return gzip.NewReader(r)
	case "xz":
		return xz.NewReader(r)
	case "zstd":
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxPayloadSize))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	case "bzip2":
		return bzip2.NewReader(r), nil
	case "lzma":
		return lzma.NewReader(r)
	}
	return nil, fmt.Errorf("zfsinstall reads gzip, xz, zstd, bzip2 and lzma, not %q", compression)
}

// cpioEntry is one file of a newc cpio archive.
type cpioEntry struct {
	name string
	mode uint32
	data []byte
}

const (
	cpioTypeMask = 0o170000
	cpioRegular  = 0o100000
	// maxCPIOEntries bounds the archive: a zfs-release has eight files.
	maxCPIOEntries = 4096
)

var errCPIOTooLarge = fmt.Errorf("its payload is larger than %d MiB, which no zfs-release package's is", maxPayloadSize>>20)

// readCPIO calls fn for each entry of the newc ("070701", or "070702" with
// checksums) archive in r, up to the "TRAILER!!!" entry. Header fields are
// eight hex digits each; the name (with its NUL) and the data are each
// padded to four bytes.
func readCPIO(r io.Reader, fn func(cpioEntry) error) error {
	var off int64
	read := func(n int64) ([]byte, error) {
		if off+n > maxPayloadSize {
			return nil, errCPIOTooLarge
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("its payload ends early (%v)", err)
		}
		off += n
		return buf, nil
	}
	pad := func() error {
		if rem := off % 4; rem != 0 {
			_, err := read(4 - rem)
			return err
		}
		return nil
	}
	for range maxCPIOEntries {
		h, err := read(110)
		if err != nil {
			return err
		}
		if magic := string(h[:6]); magic != "070701" && magic != "070702" {
			return fmt.Errorf("its payload is not a newc cpio archive (magic %q)", magic)
		}
		field := func(i int) (int64, error) {
			v, err := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
			if err != nil {
				return 0, errors.New("its payload has a malformed cpio header")
			}
			return int64(v), nil
		}
		mode, err := field(1)
		if err != nil {
			return err
		}
		size, err := field(6)
		if err != nil {
			return err
		}
		nameSize, err := field(11)
		if err != nil {
			return err
		}
		if nameSize < 1 || nameSize > 4096 {
			return errors.New("its payload has a cpio entry name of an impossible length")
		}
		nameBuf, err := read(nameSize)
		if err != nil {
			return err
		}
		if err := pad(); err != nil {
			return err
		}
		name := string(bytes.TrimRight(nameBuf, "\x00"))
		if name == "TRAILER!!!" {
			return nil
		}
		body, err := read(size)
		if err != nil {
			return err
		}
		if err := pad(); err != nil {
			return err
		}
		if err := fn(cpioEntry{name: name, mode: uint32(mode), data: body}); err != nil {
			return err
		}
	}
	return fmt.Errorf("its payload has more than %d files", maxCPIOEntries)
}
