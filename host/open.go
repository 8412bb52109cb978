package host

import (
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// Open opens a regular file for reading at any offset: for files read a
// piece at a time, such as the rpm database, which may be far larger than
// MaxReadSize. The path is resolved inside the root as ReadFile resolves
// it; a FIFO, device or directory is refused without blocking. Open is not
// part of Host (a fake serves ReadFile): callers ask for it with a type
// assertion and fall back to ReadFile.
func (r *Real) Open(p string) (*os.File, error) {
	var f *os.File
	if r.live() {
		var err error
		if f, err = os.OpenFile(r.Path(p), os.O_RDONLY|unix.O_NONBLOCK, 0); err != nil {
			return nil, err
		}
	} else {
		w, name, err := r.resolve("open", p, walkOpts{follow: true})
		if err != nil {
			return nil, err
		}
		defer w.close()
		fd, err := unix.Openat(w.top().fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: r.Path(p), Err: err}
		}
		f = os.NewFile(uintptr(fd), r.Path(p))
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = &fs.PathError{Op: "open", Path: r.Path(p), Err: fmt.Errorf("%w (%s)", errNotRegular, fi.Mode().Type())}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
