package repos

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/zfsinstall/zfsinstall/host"
)

// ReadLocalRelease reads the zfs-release package at a local path (the spec's
// release_rpm = "/root/zfs-release-3-0.el9.noarch.rpm") as Fetch reads a URL:
// at most maxReleaseSize (16 MiB) bytes, and only from a regular file, so
// "/dev/zero", a FIFO or a directory is refused at once instead of read
// until memory runs out, or forever. A symlink is followed: the path is the
// spec author's choice on the machine zfsinstall runs on, and the bytes are
// checked by VerifyRelease anyway; what it leads to must be a regular file.
// The file is opened with O_NONBLOCK (opening a FIFO cannot block) and its
// type and size are checked on the open descriptor, so a file swapped in
// after a check is caught. The bytes are not verified: pass them to
// VerifyRelease.
func ReadLocalRelease(path string) ([]byte, error) {
	fail := func(format string, args ...any) ([]byte, error) {
		return nil, fmt.Errorf("reading the zfs-release package %s: %s", path, fmt.Sprintf(format, args...))
	}
	const wayOut = "set release_rpm to the path of a downloaded zfs-release .rpm file, or to its https URL"
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fail("%v: %s", err, wayOut)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fail("%v", err)
	}
	if !fi.Mode().IsRegular() {
		return fail("it is %s, not a regular file: %s", host.DescribeMode(fi.Mode()), wayOut)
	}
	tooBig := func(size int64) ([]byte, error) {
		return fail("it is %d bytes, larger than the %d MiB any zfs-release package is (they are about 14 KiB): check the path", size, maxReleaseSize>>20)
	}
	if fi.Size() > maxReleaseSize {
		return tooBig(fi.Size())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxReleaseSize+1))
	if err != nil {
		return fail("%v", err)
	}
	if len(data) > maxReleaseSize {
		return tooBig(int64(len(data))) // it grew while being read
	}
	return data, nil
}
