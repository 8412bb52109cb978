package testbed

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Test kernel modules: empty ELF relocatable objects (assembled from nothing) with a .modinfo
// section like a real module's and, for modules built against a kernel, a __versions section
// with the CRCs of the kernel symbols the module needs (struct modversion_info: 8-byte CRC,
// 56-byte name), so that `modinfo -b ROOT -k KVER -F version zfs` reads a real version from a
// real file and `modprobe --dump-modversions FILE` lists real CRCs. libkmod resolves a module
// name only through the binary index modules.dep.bin, which the root cannot produce (no real
// depmod there): the bed builds the index for each kernel and each zfs module layout with the
// machine's depmod, kernel-core ships them under /usr/lib/testbed-depmod/KVER/<layout>/, and
// the root's depmod stand-in (specs/files/depmod) installs the one matching the files present.

// kmod21Modules are the modules of a 2.1 kmod-zfs, each in its own directory under
// extra/zfs/: ZFS_MODULES in module/Kbuild.in at zfs-2.1.15, with the module names of
// scripts/dkms.mkconf there (zavl, znvpair, ...); `rpm -ql kmod-zfs` in openzfs/zfs#12497 and
// the weak-updates link in #14724 show the same tree.
var kmod21Modules = []string{"spl/spl", "avl/zavl", "icp/icp", "lua/zlua", "nvpair/znvpair",
	"unicode/zunicode", "zcommon/zcommon", "zfs/zfs", "zstd/zzstd"}

// kmodFiles are the module files (relative to /lib/modules/KVER/extra/zfs/) of a kmod-zfs
// with the given layout: 2.2 puts zfs.ko and spl.ko directly there (zfs-kmod.spec.in at
// zfs-2.2.7: INSTALL_MOD_DIR=extra/zfs, chmod extra/*/*), 2.1 one directory per module.
func kmodFiles(layout string) []string {
	if layout == "2.1" {
		var l []string
		for _, m := range kmod21Modules {
			l = append(l, m+".ko")
		}
		return l
	}
	return []string{"zfs.ko", "spl.ko"}
}

// moduleLayouts are the zfs module file sets an index is built for, relative to
// /lib/modules/KVER/. The depmod stand-in (specs/files/depmod) picks the first layout whose
// first file exists, in the order dkms, kmod, kmod21, weak, weak21, else none.
var moduleLayouts = map[string][]string{
	"none":   nil,
	"dkms":   {"extra/zfs.ko.xz", "extra/spl.ko.xz"}, // DKMS 3 on EL9: DEST_MODULE_LOCATION=/extra, xz
	"kmod":   prefixed("extra/zfs/", kmodFiles("2.2")),
	"kmod21": prefixed("extra/zfs/", kmodFiles("2.1")),
	"weak":   prefixed("weak-updates/zfs/", kmodFiles("2.2")), // weak-modules' links to another kernel's kmod
	"weak21": prefixed("weak-updates/zfs/", kmodFiles("2.1")),
}

func prefixed(prefix string, l []string) []string {
	var out []string
	for _, s := range l {
		out = append(out, prefix+s)
	}
	return out
}

// layoutsFor says which layouts a kernel gets indexes for: every kernel "none" and "dkms";
// the kernel the bed's kmods are built for (Kernel94) its own kmod layouts; every other kernel
// with kABI provides the weak-updates layouts; a kernel without them (ELRepo's) nothing more.
// A kmod added for another kernel (AddSigned) therefore has no index there: modinfo does not
// find it.
func layoutsFor(k kernelDef) []string {
	switch {
	case !k.provides:
		return []string{"none", "dkms"}
	case k.unameR() == Kernel94:
		return []string{"none", "dkms", "kmod", "kmod21"}
	}
	return []string{"none", "dkms", "weak", "weak21"}
}

// moduleName is the name of a module file: extra/zfs/avl/zavl.ko -> zavl.
func moduleName(file string) string {
	return strings.TrimSuffix(strings.TrimSuffix(filepath.Base(file), ".xz"), ".ko")
}

// modinfoFields is the .modinfo content of a test module, in a real module's order.
func modinfoFields(name, version, kver string, layout21 bool) string {
	deps := map[string]string{"zfs": "spl", "icp": "spl", "znvpair": "spl", "zcommon": "spl,znvpair", "zavl": "spl"}[name]
	if layout21 && name == "zfs" {
		// The modules `lsmod` shows using zfs in openzfs/zfs#10318, and zzstd (2.1).
		deps = "spl,znvpair,zcommon,zunicode,zzstd,icp,zavl,zlua"
	}
	fields := []string{"version=" + version, "license=CDDL", "author=OpenZFS"}
	if desc := map[string]string{"zfs": "ZFS", "spl": "Solaris Porting Layer"}[name]; desc != "" {
		fields = append(fields, "description="+desc)
	}
	fields = append(fields,
		"depends="+deps,
		"retpoline=Y",
		"name="+name,
		"vermagic="+kver+" SMP preempt mod_unload modversions ",
	)
	return strings.Join(fields, "\x00") + "\x00"
}

// modVersions is a __versions section: one struct modversion_info (64 bytes on 64-bit
// kernels) per symbol the module needs.
func modVersions(k kabi) ([]byte, error) {
	var out []byte
	for _, e := range [][2]string{{"__alloc_pages", k.alloc}, {"write_cache_pages", k.wcp}} {
		crc, err := strconv.ParseUint(strings.TrimPrefix(e[1], "0x"), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("kABI CRC %q of %s: %w", e[1], e[0], err)
		}
		rec := make([]byte, 64)
		binary.LittleEndian.PutUint64(rec, crc)
		copy(rec[8:], e[0])
		out = append(out, rec...)
	}
	return out, nil
}

// testModule says what one test module file is.
type testModule struct {
	dst, name, version, kver string
	versions                 *kabi // CRCs of the kernel it was built against, or none
	xz                       bool  // write dst.xz instead of dst
	layout21                 bool  // a 2.1 module (for depends=)
}

// makeModule writes a test module.
func (p *Packages) makeModule(empty string, m testModule) error {
	if err := os.MkdirAll(filepath.Dir(m.dst), 0o755); err != nil {
		return err
	}
	info := m.dst + ".modinfo"
	if err := os.WriteFile(info, []byte(modinfoFields(m.name, m.version, m.kver, m.layout21)), 0o644); err != nil {
		return err
	}
	defer os.Remove(info)
	argv := []string{p.tools.Objcopy, "--add-section", ".modinfo=" + info, "--set-section-flags", ".modinfo=alloc,readonly"}
	if m.versions != nil {
		b, err := modVersions(*m.versions)
		if err != nil {
			return err
		}
		vers := m.dst + ".versions"
		if err := os.WriteFile(vers, b, 0o644); err != nil {
			return err
		}
		defer os.Remove(vers)
		argv = append(argv, "--add-section", "__versions="+vers, "--set-section-flags", "__versions=alloc,readonly")
	}
	if _, err := run(runOpts{}, append(argv, empty, m.dst)...); err != nil {
		return err
	}
	if m.xz {
		// The kernel's own choice for compressed modules: crc32 check.
		if _, err := run(runOpts{}, p.tools.XZ, "-f", "--check=crc32", m.dst); err != nil {
			return err
		}
	}
	return nil
}

// makeKmodModules writes the modules of one kmod-zfs into dir (relative paths as under
// extra/zfs/), built against kernel kver with kABI k.
func (p *Packages) makeKmodModules(empty, dir, layout, modver, kver string, k kabi) error {
	for _, f := range kmodFiles(layout) {
		if err := p.makeModule(empty, testModule{dst: filepath.Join(dir, f), name: moduleName(f), version: modver,
			kver: kver, versions: &k, layout21: layout == "2.1"}); err != nil {
			return err
		}
	}
	return nil
}

// makeModules builds, for the base build (group ""), the modules kmod-zfs and zfs-dkms ship
// and, for the kernels of the group, the module indexes their kernel-core ships.
func (p *Packages) makeModules(group string) error {
	work := filepath.Join(p.Dir, "build", "modules")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	empty := filepath.Join(work, "empty.o")
	if _, err := os.Stat(empty); err != nil {
		if _, err := run(runOpts{}, p.tools.As, "--64", "-o", empty, "/dev/null"); err != nil {
			return err
		}
	}
	var jobs []func() error
	for _, z := range zfsReleases {
		if group != "" {
			break
		}
		z := z
		modver := z.version + "-" + z.release
		if z.kmod != "" {
			// kmod-zfs: built for Rocky 9.4's kernel.
			jobs = append(jobs, func() error {
				return p.makeKmodModules(empty, filepath.Join(p.Dir, "src", "kmod-zfs-"+z.version), z.kmod, modver, Kernel94, kabi94)
			})
		}
		if z.dkms {
			// zfs-dkms: what "building" produces, per kernel of the base build (with its
			// vermagic and CRCs; 2.2 only) and for any other kernel (testbed/generic).
			for _, k := range append([]kernelDef{{}}, kernels...) {
				if k.version != "" && (k.group != "" || !z.perKernel) {
					continue
				}
				k := k
				jobs = append(jobs, func() error {
					target, vermagic, vers := "generic", "unknown", (*kabi)(nil)
					if k.version != "" {
						target, vermagic, vers = k.unameR(), k.unameR(), &k.kabi
					}
					for _, m := range []string{"zfs", "spl"} {
						dst := filepath.Join(p.Dir, "src", "zfs-dkms-"+z.version, "testbed", target, m+".ko")
						if err := p.makeModule(empty, testModule{dst: dst, name: m, version: modver, kver: vermagic,
							versions: vers, xz: true}); err != nil {
							return err
						}
					}
					return nil
				})
			}
		}
	}
	// Module indexes, per kernel and layout, made by the machine's depmod on a staging tree.
	conf := filepath.Join(work, "depmod.d")
	if err := os.MkdirAll(conf, 0o755); err != nil {
		return err
	}
	// The staging trees share one module file per name: depmod reads only the names.
	for _, f := range stagedModuleFiles() {
		f := f
		dst := stagedModule(work, f)
		if _, err := os.Stat(dst); err == nil {
			continue // made by an earlier group
		}
		jobs = append(jobs, func() error {
			return p.makeModule(empty, testModule{dst: strings.TrimSuffix(dst, ".xz"), name: moduleName(f), version: "0-testbed",
				kver: "testbed", xz: strings.HasSuffix(f, ".xz")})
		})
	}
	if err := runParallel(2, jobs); err != nil {
		return err
	}
	jobs = nil
	for _, k := range kernels {
		if k.group != group {
			continue
		}
		for _, layout := range layoutsFor(k) {
			k, layout := k, layout
			jobs = append(jobs, func() error { return p.makeIndex(work, conf, k.unameR(), layout) })
		}
	}
	return runParallel(2, jobs)
}

// stagedModuleFiles are the distinct module files (by base name) of all layouts.
func stagedModuleFiles() []string {
	seen := map[string]bool{}
	var l []string
	for _, files := range moduleLayouts {
		for _, f := range files {
			if b := stagedModule("", f); !seen[b] {
				seen[b] = true
				l = append(l, f)
			}
		}
	}
	return l
}

// stagedModule is the shared staging copy of a layout's module file.
// xz-compressed ones live apart: xz replaces NAME.ko by NAME.ko.xz.
func stagedModule(work, f string) string {
	if strings.HasSuffix(f, ".xz") {
		return filepath.Join(work, "stagemods", "xz", filepath.Base(f))
	}
	return filepath.Join(work, "stagemods", filepath.Base(f))
}

// makeIndex builds the module index of one kernel with one zfs layout.
func (p *Packages) makeIndex(work, conf, kv, layout string) error {
	stage := filepath.Join(work, "stage", kv, layout)
	mdir := filepath.Join(stage, "lib", "modules", kv)
	if err := os.MkdirAll(mdir, 0o755); err != nil {
		return err
	}
	for _, f := range []string{"modules.order", "modules.builtin", "modules.builtin.modinfo"} {
		if err := os.WriteFile(filepath.Join(mdir, f), nil, 0o644); err != nil {
			return err
		}
	}
	for _, f := range moduleLayouts[layout] {
		dst := filepath.Join(mdir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.Link(stagedModule(work, f), dst); err != nil {
			return err
		}
	}
	if out, err := run(runOpts{}, p.tools.Depmod, "-b", stage, "-C", conf, kv); err != nil {
		return err
	} else if strings.Contains(out, "ERROR") {
		return fmt.Errorf("depmod for %s/%s: %s", kv, layout, out)
	}
	dst := filepath.Join(p.Dir, "src", "kernel-"+kv, "depmod", layout)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(mdir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, "modules.") || n == "modules.order" || n == "modules.builtin" ||
			n == "modules.builtin.modinfo" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(mdir, n))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, n), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// runParallel runs fs, n at a time, and returns their errors joined.
func runParallel(n int, fs []func() error) error {
	errs := make([]error, len(fs))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = f()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
