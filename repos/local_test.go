package repos

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadLocalRelease(t *testing.T) {
	real := readTestFile(t, filepath.Join(releaseDir, "zfs-release-3-0.el9.noarch.rpm"))
	cases := map[string]struct {
		setup   func(t *testing.T, dir string) string // returns the path to read
		want    []byte
		wantErr string
	}{
		"regular file": {
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "zfs-release.rpm")
				os.WriteFile(p, real, 0o644)
				return p
			},
			want: real,
		},
		"symlink to a regular file": {
			setup: func(t *testing.T, dir string) string {
				os.WriteFile(filepath.Join(dir, "zfs-release-3-0.el9.noarch.rpm"), real, 0o644)
				p := filepath.Join(dir, "zfs-release.rpm")
				os.Symlink("zfs-release-3-0.el9.noarch.rpm", p)
				return p
			},
			want: real,
		},
		"exactly 16 MiB (sparse)": {
			setup: func(t *testing.T, dir string) string { return sparse(t, dir, maxReleaseSize) },
			want:  make([]byte, maxReleaseSize),
		},
		"/dev/zero": {
			setup:   func(t *testing.T, dir string) string { return "/dev/zero" },
			wantErr: "reading the zfs-release package /dev/zero: it is a character device, not a regular file: set release_rpm to the path of a downloaded zfs-release .rpm file, or to its https URL",
		},
		"symlink to /dev/zero": {
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "zfs-release.rpm")
				os.Symlink("/dev/zero", p)
				return p
			},
			wantErr: "it is a character device, not a regular file",
		},
		"FIFO with no writer": {
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "zfs-release.rpm")
				if err := syscall.Mkfifo(p, 0o644); err != nil {
					t.Fatal(err)
				}
				return p
			},
			wantErr: "it is a FIFO, not a regular file",
		},
		"directory": {
			setup:   func(t *testing.T, dir string) string { return dir },
			wantErr: "it is a directory, not a regular file",
		},
		"sparse file of 16 MiB and one byte": {
			setup:   func(t *testing.T, dir string) string { return sparse(t, dir, maxReleaseSize+1) },
			wantErr: "it is 16777217 bytes, larger than the 16 MiB any zfs-release package is (they are about 14 KiB): check the path",
		},
		"sparse file of 100 GiB": {
			setup:   func(t *testing.T, dir string) string { return sparse(t, dir, 100<<30) },
			wantErr: "it is 107374182400 bytes, larger than the 16 MiB",
		},
		"missing file": {
			setup:   func(t *testing.T, dir string) string { return filepath.Join(dir, "nope.rpm") },
			wantErr: "nope.rpm: no such file or directory: set release_rpm to the path of a downloaded zfs-release .rpm file, or to its https URL",
		},
		"dangling symlink": {
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "zfs-release.rpm")
				os.Symlink(filepath.Join(dir, "gone"), p)
				return p
			},
			wantErr: "no such file or directory",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			path := c.setup(t, t.TempDir())
			done := make(chan struct{})
			var got []byte
			var err error
			go func() {
				got, err = ReadLocalRelease(path)
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("ReadLocalRelease blocked")
			}
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("error: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			case c.wantErr == "" && !bytes.Equal(got, c.want):
				t.Errorf("read %d bytes, want %d", len(got), len(c.want))
			}
		})
	}
}

// sparse makes a sparse file of size bytes.
func sparse(t *testing.T, dir string, size int64) string {
	t.Helper()
	p := filepath.Join(dir, "big.rpm")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return p
}
