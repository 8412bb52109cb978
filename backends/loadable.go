package backends

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/cavaliergopher/rpm"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/host"
)

// Loading a module checks more than the kernel(SYMBOL) CRCs dnf resolves.
// Upstream reports of kmods whose symbols matched and still failed:
//
//   - openzfs/zfs#17165: a weak-linked kmod on 5.14.0-503.33.1.el9_5 was
//     refused with ".gnu.linkonce.this_module section size must match the
//     kernel's built struct module size": the module carries the kernel's
//     struct module as its own section, and the kernel refuses a module
//     whose copy has another size (kernel/module/main.c, elf_validity_cache_
//     index_mod).
//   - openzfs/zfs#17924: a 9.6 kmod on 9.7: "disagrees about version of
//     symbol module_layout": the kernel checks module_layout's CRC in the
//     module's __versions (check_modstruct_version) before any other
//     symbol, and the kABI requirements dnf checks do not carry it.
//   - openzfs/zfs#14411: kmod 2.1.8 built for 4.18.0-425.10.1 installed on
//     425.3.1, an older z-stream, locked the host up. RHEL's kABI promise
//     runs forward only (a module built on a kernel keeps working on later
//     kernels of the release), never backwards.
//
// ModuleABI and KernelABI read what those checks need from the files on
// the disk; CheckLoadable makes them.

// ModuleABI is what a module file says about the kernel it was built
// against, beyond its kernel(SYMBOL) requirements.
type ModuleABI struct {
	// File is the module's path on the host.
	File string `json:"file"`
	// Vermagic is the release of the kernel it was built against (the
	// first field of its vermagic).
	Vermagic string `json:"vermagic,omitempty"`
	// ModuleLayout is the CRC of module_layout in its __versions section
	// ("" when the module has none: kernels from 6.4 on dropped the symbol).
	ModuleLayout string `json:"module_layout,omitempty"`
	// StructModuleSize is the size of its .gnu.linkonce.this_module
	// section: the size of struct module in the kernel it was built against.
	StructModuleSize uint64 `json:"struct_module_size,omitempty"`
}

// KernelABI is what an installed kernel's own files say about its ABI.
type KernelABI struct {
	// ModuleLayout is module_layout's CRC in the kernel's symvers.gz
	// (kernel-core ships /lib/modules/KVER/symvers.gz); "" when unknown.
	ModuleLayout string `json:"module_layout,omitempty"`
	// StructModuleSize is the .gnu.linkonce.this_module size of one of the
	// kernel's own modules (kernel-modules-core ships them under
	// /lib/modules/KVER/kernel/); 0 when unknown.
	StructModuleSize uint64 `json:"struct_module_size,omitempty"`
	// Reference is the module StructModuleSize was read from.
	Reference string `json:"reference,omitempty"`
}

// ReadModuleABI reads a module file (plain, .xz or .gz) on the host,
// following links inside the host's root as the weak-updates links of a
// kmod are followed on the managed host.
func ReadModuleABI(h host.Host, file string) (ModuleABI, error) {
	f, err := moduleELF(h, file)
	if err != nil {
		return ModuleABI{}, err
	}
	return abiOf(file, f)
}

// moduleELF reads and opens a module file on the host.
func moduleELF(h host.Host, file string) (*elf.File, error) {
	data, err := readInRoot(h, file)
	if err != nil {
		return nil, err
	}
	f, err := openModule(file, data)
	if err != nil {
		return nil, fmt.Errorf("reading module %s: %w", file, err)
	}
	return f, nil
}

// abiOf reads the ABI of an opened module.
func abiOf(file string, f *elf.File) (ModuleABI, error) {
	m := ModuleABI{File: file}
	if info, err := modinfoOf(f); err == nil {
		m.Vermagic = info.Vermagic
	}
	if sec := f.Section(".gnu.linkonce.this_module"); sec != nil {
		m.StructModuleSize = sec.Size
	}
	versions, err := ModuleVersions(f)
	if err != nil {
		return ModuleABI{}, fmt.Errorf("reading module %s: %w", file, err)
	}
	m.ModuleLayout = versions["module_layout"]
	return m, nil
}

// ModuleVersions reads a module's __versions section: symbol -> CRC, as
// `modprobe --dump-modversions` prints them (0x%08x). Each entry is a
// struct modversion_info: an unsigned long CRC, then the name in the rest
// of 64 bytes (include/linux/module.h, MODULE_NAME_LEN).
func ModuleVersions(f *elf.File) (map[string]string, error) {
	out := map[string]string{}
	sec := f.Section("__versions")
	if sec == nil {
		return out, nil
	}
	if sec.Size > maxModuleSize {
		return nil, errors.New("__versions section too large")
	}
	data, err := sec.Data()
	if err != nil {
		return nil, err
	}
	word := 8
	if f.Class == elf.ELFCLASS32 {
		word = 4
	}
	const entry = 64
	for off := 0; off+entry <= len(data); off += entry {
		e := data[off : off+entry]
		var crc uint64
		if word == 8 {
			crc = f.ByteOrder.Uint64(e[:8])
		} else {
			crc = uint64(f.ByteOrder.Uint32(e[:4]))
		}
		name, _, _ := bytes.Cut(e[word:], []byte{0})
		if len(name) > 0 {
			out[string(name)] = fmt.Sprintf("0x%08x", uint32(crc))
		}
	}
	return out, nil
}

// ReadKernelABI reads an installed kernel's module_layout CRC from its
// symvers.gz and its struct module size from one of its own modules (the
// first module under kernel/ that modules.dep lists). What cannot be read
// stays empty: the check it feeds is then not made, and says so.
func ReadKernelABI(h host.Host, kver string) KernelABI {
	var k KernelABI
	dir := "/lib/modules/" + kver
	if data, err := h.ReadFile(dir + "/symvers.gz"); err == nil {
		k.ModuleLayout = symversCRC(data, "module_layout")
	}
	dep, err := h.ReadFile(dir + "/modules.dep")
	if err != nil {
		return k
	}
	sc := bufio.NewScanner(bytes.NewReader(dep))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for tries := 0; sc.Scan() && tries < 8; {
		file, _, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasPrefix(file, "kernel/") {
			continue
		}
		tries++
		full := path.Join(dir, file)
		f, err := moduleELF(h, full)
		if err != nil {
			continue
		}
		if sec := f.Section(".gnu.linkonce.this_module"); sec != nil {
			k.StructModuleSize, k.Reference = sec.Size, full
			break
		}
	}
	return k
}

// symversCRC finds a symbol's CRC in a gzipped symvers file
// ("0xCRC\tSYMBOL\tMODULE\tEXPORT_TYPE[\tNAMESPACE]" per line).
func symversCRC(gz []byte, symbol string) string {
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(io.LimitReader(r, maxModuleSize))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) >= 2 && f[1] == symbol {
			return strings.ToLower(f[0])
		}
	}
	return ""
}

// Loadability is the outcome of CheckLoadable: one finding per check, each
// made or, when a file could not be read, not made.
type Loadability struct {
	Findings []Finding
}

// Finding is the result of one compatibility check.
type Finding struct {
	// ID is stable for machines: kmod-build-kernel, kmod-module-layout,
	// kmod-struct-module.
	ID     string `json:"id"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Made is false when the evidence the check needs was not at hand
	// (a file not on the disk yet, a section the module lacks): OK is
	// then true and Detail says what was missing.
	Made bool `json:"made"`
}

// OK reports whether no finding speaks against loading.
func (l Loadability) OK() bool {
	for _, f := range l.Findings {
		if !f.OK {
			return false
		}
	}
	return true
}

// CheckLoadable says whether a module built as m loads on kernel kver with
// ABI k, for the three failures above.
func CheckLoadable(m ModuleABI, kver string, k KernelABI) Loadability {
	var l Loadability
	l.Findings = append(l.Findings, CheckBuildKernel(m.Vermagic, kver))
	switch {
	case m.ModuleLayout == "" || k.ModuleLayout == "":
		l.Findings = append(l.Findings, Finding{ID: "kmod-module-layout", OK: true, Detail: fmt.Sprintf("module_layout not compared: %s", missing(m.ModuleLayout == "", "the module has no module_layout in __versions", k.ModuleLayout == "", "/lib/modules/"+kver+"/symvers.gz does not give it"))})
	case m.ModuleLayout != k.ModuleLayout:
		l.Findings = append(l.Findings, Finding{ID: "kmod-module-layout", Made: true, Detail: fmt.Sprintf("%s was built with module_layout %s, and kernel %s has %s: the kernel refuses it (\"disagrees about version of symbol module_layout\", openzfs/zfs#17924) although every kernel(SYMBOL) it requires matches", m.File, m.ModuleLayout, kver, k.ModuleLayout)})
	default:
		l.Findings = append(l.Findings, Finding{ID: "kmod-module-layout", OK: true, Made: true, Detail: fmt.Sprintf("module_layout %s matches kernel %s", m.ModuleLayout, kver)})
	}
	switch {
	case m.StructModuleSize == 0 || k.StructModuleSize == 0:
		l.Findings = append(l.Findings, Finding{ID: "kmod-struct-module", OK: true, Detail: fmt.Sprintf("struct module size not compared: %s", missing(m.StructModuleSize == 0, "the module has no .gnu.linkonce.this_module section", k.StructModuleSize == 0, "none of kernel "+kver+"'s own modules could be read"))})
	case m.StructModuleSize != k.StructModuleSize:
		l.Findings = append(l.Findings, Finding{ID: "kmod-struct-module", Made: true, Detail: fmt.Sprintf("%s carries a struct module of %d bytes and kernel %s's own modules one of %d (%s): the kernel refuses it (\".gnu.linkonce.this_module section size must match the kernel's built struct module size\", openzfs/zfs#17165) although its symbols match", m.File, m.StructModuleSize, kver, k.StructModuleSize, k.Reference)})
	default:
		l.Findings = append(l.Findings, Finding{ID: "kmod-struct-module", OK: true, Made: true, Detail: fmt.Sprintf("struct module is %d bytes in the module and in kernel %s", m.StructModuleSize, kver)})
	}
	return l
}

func missing(a bool, aText string, b bool, bText string) string {
	var parts []string
	if a {
		parts = append(parts, aText)
	}
	if b {
		parts = append(parts, bText)
	}
	return strings.Join(parts, "; ")
}

// CheckBuildKernel refuses a kmod built against a newer kernel of the same
// series than the one it would load on (openzfs/zfs#14411): the kABI
// promise runs from the build kernel forward. Kernels of another series
// (another upstream version, flavour or architecture) are left to the
// symbol check.
func CheckBuildKernel(build, kver string) Finding {
	f := Finding{ID: "kmod-build-kernel", OK: true}
	if build == "" {
		f.Detail = "the module's build kernel is not known (no vermagic)"
		return f
	}
	f.Made = true
	b, t := catalog.ClassifyKernel(build, ""), catalog.ClassifyKernel(kver, "")
	if b.Version == "" || b.Version != t.Version || b.Arch != t.Arch || b.Flavor != t.Flavor || b.Variant != t.Variant {
		f.Detail = fmt.Sprintf("built against %s; kernel %s is of another series, judged by its symbols", build, kver)
		return f
	}
	if rpm.CompareVersions(releaseOf(b), releaseOf(t)) > 0 {
		f.OK = false
		f.Detail = fmt.Sprintf("built against %s, a newer kernel than %s: RHEL's kABI promise runs from the build kernel forward only, and a kmod built for a newer z-stream has locked hosts up on the older one (openzfs/zfs#14411), whatever its symbols say", build, kver)
		return f
	}
	f.Detail = fmt.Sprintf("built against %s, not newer than %s", build, kver)
	return f
}

// releaseOf is the rpm release of a kernel: "427.13.1.el9_4" of
// "5.14.0-427.13.1.el9_4.x86_64".
func releaseOf(k catalog.KernelInfo) string {
	rel := strings.TrimPrefix(k.Release, k.Version+"-")
	rel, _, _ = strings.Cut(rel, "+")
	return strings.TrimSuffix(rel, "."+k.Arch)
}

// openModule decompresses a module file by its name (.xz, .gz, plain .ko)
// and opens it as ELF.
func openModule(name string, data []byte) (*elf.File, error) {
	raw, err := decompressModule(name, data)
	if err != nil {
		return nil, err
	}
	return elf.NewFile(bytes.NewReader(raw))
}

// KmodModuleABI finds the zfs module a kmod-zfs of the given version
// installed under its build kernel's extra/ (extra/zfs/zfs.ko* from 2.2 on,
// extra/zfs/zfs/zfs.ko* for 2.1: INSTALL_MOD_DIR=extra/zfs in
// rpm/redhat/zfs-kmod.spec.in) and reads its ABI; nil when none is on the
// disk. Its Vermagic is the build kernel: the directory it is under.
func KmodModuleABI(h host.Host, version string) *ModuleABI {
	var files []string
	for _, pattern := range []string{"/lib/modules/*/extra/zfs/zfs.ko*", "/lib/modules/*/extra/zfs/zfs/zfs.ko*"} {
		found, _ := h.Glob(pattern)
		files = append(files, found...)
	}
	for _, file := range files {
		f, err := moduleELF(h, file)
		if err != nil {
			continue
		}
		if info, err := modinfoOf(f); err != nil || !SameVersion(info.Version, version) {
			continue
		}
		m, err := abiOf(file, f)
		if err != nil {
			continue
		}
		// kmodtool installs the modules under the build kernel's own
		// directory (/lib/modules/%{kverrel}.%{_arch}/extra), which is
		// what the vermagic of a real kmod-zfs names too.
		m.Vermagic = strings.Split(strings.TrimPrefix(file, "/lib/modules/"), "/")[0]
		return &m
	}
	return nil
}
