package spec

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"syscall"

	"github.com/hashicorp/hcl/v2"
)

// MaxFileSize is the largest spec in bytes: 256 KiB, about a hundred times
// the largest recipe. At this size the costliest inputs measured (a quarter
// of a million one-byte tokens, lists and maps that fill the file) are
// refused in about 0.4 s; at 1 MiB they took four times as long.
const MaxFileSize = 256 << 10

// readFile reads a spec file: a regular file (or a symlink to one) of at
// most MaxFileSize bytes. Anything else is refused without blocking: a FIFO
// is opened non-blocking (a plain open waits for a writer forever) and
// checked again after opening, so a file swapped for a FIFO or a device
// between the checks is refused too.
func readFile(path string) ([]byte, *hcl.Diagnostic) {
	before, err := os.Stat(path)
	if err != nil {
		return nil, cannotRead(err)
	}
	if d := checkFileInfo(path, before); d != nil {
		return nil, d
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, cannotRead(err)
	}
	defer f.Close()
	after, err := f.Stat()
	if err != nil {
		return nil, cannotRead(err)
	}
	if d := checkFileInfo(path, after); d != nil {
		return nil, d
	}
	if !os.SameFile(before, after) {
		return nil, cannotRead(fmt.Errorf("%s was replaced while it was being opened; run again", path))
	}
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, cannotRead(err)
	}
	if len(src) > MaxFileSize {
		return nil, tooLarge(path, int64(len(src)))
	}
	return src, nil
}

func cannotRead(err error) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read spec file", Detail: err.Error()}
}

// checkFileInfo refuses what is not a regular file of at most MaxFileSize
// bytes, naming what it is.
func checkFileInfo(path string, fi fs.FileInfo) *hcl.Diagnostic {
	if fi.Mode().IsRegular() {
		if fi.Size() > MaxFileSize {
			return tooLarge(path, fi.Size())
		}
		return nil
	}
	kind := "not a regular file"
	switch t := fi.Mode().Type(); {
	case t&fs.ModeDir != 0:
		kind = "a directory"
	case t&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case t&fs.ModeCharDevice != 0:
		kind = "a character device"
	case t&fs.ModeDevice != 0:
		kind = "a block device"
	case t&fs.ModeSocket != 0:
		kind = "a socket"
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Spec file is not a regular file",
		Detail: fmt.Sprintf("%s is %s. A spec is read only from a regular file (or a symlink to one), so that reading it always ends; "+
			"to check a spec that comes from a pipe or another program, write it to a file first.", path, kind),
	}
}

func tooLarge(path string, size int64) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Spec file too large",
		Detail: fmt.Sprintf("%s is %s bytes; a spec may be at most %d bytes (%d KiB). A host spec is a few kilobytes: check that -f names the spec.",
			path, sizeText(size), MaxFileSize, MaxFileSize>>10),
	}
}

// sizeText is size, or "more than" the limit when only the limit was read.
func sizeText(size int64) string {
	if size == MaxFileSize+1 {
		return fmt.Sprintf("more than %d", MaxFileSize)
	}
	return strconv.FormatInt(size, 10)
}
