package host

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// ErrNotRegular is wrapped by every refusal to read something that is not a
// regular file (a FIFO, a device, a socket, a directory).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by every refusal to read a file larger than the
// bound its reader sets.
var ErrTooLarge = errors.New("file too large")

// ReadRegular reads the file at the machine path name when it is a regular
// file (or a symlink to one: a path given on the command line is the
// caller's choice) of at most limit bytes, and refuses anything else
// without waiting or allocating more than limit:
//
//   - the open is O_NONBLOCK, so opening a FIFO never waits for a writer
//     (a plain open(2) of a FIFO blocks until one comes, with zfsinstall's
//     signal handler unable to stop it);
//   - the type and size are checked on the opened descriptor (fstat), so a
//     file swapped for a FIFO or a device after a check is caught;
//   - at most limit+1 bytes are read, so a file that grows while it is read,
//     or a /proc-like file reporting size 0, cannot exhaust memory.
//
// The error is a *fs.PathError naming name and wrapping ErrNotRegular
// (saying what it is instead: "a FIFO", "a character device") or
// ErrTooLarge.
func ReadRegular(name string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readOpened(f, name, limit)
}

// readOpened reads the opened file f (named name in errors) when it is a
// regular file of at most limit bytes.
func readOpened(f *os.File, name string, limit int64) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: unix.EISDIR}
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w: it is %s, and zfsinstall reads only regular files", ErrNotRegular, DescribeMode(fi.Mode()))}
	}
	if fi.Size() > limit {
		return nil, tooLarge(name, fi.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(name, -1, limit)
	}
	return data, nil
}

func tooLarge(name string, size, limit int64) error {
	what := fmt.Sprintf("%d bytes", size)
	if size < 0 {
		what = "still growing"
	}
	return &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w: it is %s, larger than %s, which no file of its kind is", ErrTooLarge, what, sizeLabel(limit))}
}

// sizeLabel writes a bound for people: "64 MiB", "512 KiB".
func sizeLabel(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// DescribeMode names what a file of mode m is, for messages: "a FIFO", "a
// character device", "a directory".
func DescribeMode(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	}
	return "not a regular file (" + m.Type().String() + ")"
}
