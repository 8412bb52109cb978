package backends

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"errors"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/ulikunitz/xz"
	"github.com/zfsinstall/zfsinstall/host"
)

// maxModuleSize bounds what is read of a module file (zfs.ko is ~10 MiB
// uncompressed with debug info stripped).
const maxModuleSize = 256 << 20

// errUnreadable means the module could not be read in process: modinfo is
// asked instead.
var errUnreadable = errors.New("module not readable in process")

// ModuleInfo says which zfs module kver would load and what it is: the
// file modules.dep names for it (depmod writes it; modprobe and modinfo
// resolve modules through it: DKMS's extra/, a kmod's weak-updates/ link)
// and its .modinfo section, read here without running a program; modinfo
// is asked only where that fails (no modules.dep, a compression this reader
// does not know). The zero ModInfo means there is none.
func ModuleInfo(ctx context.Context, h host.Host, kver string) ModInfo {
	if kver == "" {
		return ModInfo{}
	}
	m, err := readModule(h, kver)
	if err == nil {
		return m
	}
	if errors.Is(err, fs.ErrNotExist) {
		return ModInfo{}
	}
	res, err := h.Run(ctx, host.Cmd{Argv: ModinfoArgs(h, kver)})
	if err != nil {
		return ModInfo{}
	}
	return ParseModinfo(res.Stdout)
}

// readModule finds zfs in kver's modules.dep and reads its .modinfo.
// fs.ErrNotExist means modules.dep names no zfs module; errUnreadable that
// the module must be read some other way.
func readModule(h host.Host, kver string) (ModInfo, error) {
	dir := "/lib/modules/" + kver
	dep, err := h.ReadFile(dir + "/modules.dep")
	if err != nil {
		return ModInfo{}, errUnreadable
	}
	rel := ""
	sc := bufio.NewScanner(bytes.NewReader(dep))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		file, _, ok := strings.Cut(sc.Text(), ":")
		if ok && moduleName(file) == "zfs" {
			rel = file
			break
		}
	}
	if rel == "" {
		return ModInfo{}, fs.ErrNotExist
	}
	file := rel
	if !path.IsAbs(file) {
		file = dir + "/" + rel
	}
	data, err := readInRoot(h, file)
	if err != nil {
		return ModInfo{}, errUnreadable
	}
	m, err := parseModule(file, data)
	if err != nil {
		return ModInfo{}, errUnreadable
	}
	m.Filename = file
	return m, nil
}

// moduleName is the module a modules.dep path holds: "extra/zfs.ko.xz" -> "zfs".
func moduleName(file string) string {
	base := path.Base(file)
	name, _, _ := strings.Cut(base, ".ko")
	return name
}

// readInRoot reads a file, following symbolic links as they resolve inside
// the host's root: a kmod's weak-updates link is an absolute path on the
// managed host, not on the machine.
func readInRoot(h host.Host, p string) ([]byte, error) {
	for range 8 {
		fi, err := h.Lstat(p)
		if err != nil {
			return nil, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if !fi.Mode().IsRegular() || fi.Size() > maxModuleSize {
				return nil, errUnreadable
			}
			return h.ReadFile(p)
		}
		target, err := h.Readlink(p)
		if err != nil {
			return nil, err
		}
		if !path.IsAbs(target) {
			target = path.Join(path.Dir(p), target)
		}
		p = path.Clean(target)
	}
	return nil, errUnreadable
}

// parseModule reads version and vermagic from a module's .modinfo
// section, decompressing .ko.xz and .ko.gz.
func parseModule(name string, data []byte) (ModInfo, error) {
	f, err := openModule(name, data)
	if err != nil {
		return ModInfo{}, err
	}
	return modinfoOf(f)
}

// decompressModule returns a module file's ELF bytes: .ko as it is, .ko.xz
// and .ko.gz decompressed (at most maxModuleSize); other compressions
// (.zst) are errUnreadable, left to modinfo.
func decompressModule(name string, data []byte) ([]byte, error) {
	var r io.Reader = bytes.NewReader(data)
	switch {
	case strings.HasSuffix(name, ".xz"):
		x, err := xz.NewReader(r)
		if err != nil {
			return nil, err
		}
		r = x
	case strings.HasSuffix(name, ".gz"):
		g, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		r = g
	case !strings.HasSuffix(name, ".ko"):
		return nil, errUnreadable
	default:
		return data, nil
	}
	return io.ReadAll(io.LimitReader(r, maxModuleSize))
}

// modinfoOf reads version and vermagic from a module's .modinfo section.
func modinfoOf(f *elf.File) (ModInfo, error) {
	sec := f.Section(".modinfo")
	if sec == nil {
		return ModInfo{}, errUnreadable
	}
	if sec.Size > maxModuleSize {
		return ModInfo{}, errUnreadable
	}
	info, err := sec.Data()
	if err != nil {
		return ModInfo{}, err
	}
	var m ModInfo
	for _, field := range bytes.Split(info, []byte{0}) {
		k, v, ok := strings.Cut(string(field), "=")
		switch {
		case !ok:
		case k == "version":
			m.Version = v
		case k == "vermagic":
			if f := strings.Fields(v); len(f) > 0 {
				m.Vermagic = f[0]
			}
		}
	}
	return m, nil
}
