package testbed

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Real kernel data. The bed's kernels keep their EL names (the tool classifies kernels by
// name), but every symbol CRC, module_layout, vermagic and struct module size comes from a
// real kernel build: the header trees of Debian's linux-headers packages, each with the real
// Module.symvers of its build (about 24,600 exported symbols, 10,500 of them vmlinux's) and a
// kbuild tree that compiles out-of-tree modules. Which tree each kernel takes is kernelDef.tree;
// headerPackages says why each package is there.

// headerPackage is a Debian linux-headers package the bed reads.
type headerPackage struct {
	Tree string // the tree under /usr/src/linux-headers-TREE
	Why  string
}

// headerPackages are the header trees the bed uses (the Makefile's DEB_PKGS installs them).
var headerPackages = []headerPackage{
	{"6.1.0-47-amd64", "Kernel94, Kernel95Fit and KernelUpdateFit (one kABI): the kmods are built against it"},
	{"6.1.0-50-amd64", "Kernel94Z and Kernel17924: the next ABI revision of the same series; ~18,100 CRCs differ from -47 (the #16219 z-stream break), while _printk, kfree, __kmalloc, vmalloc, memcpy, __fentry__ keep theirs"},
	{"6.1.0-57-amd64", "Kernel95 and KernelLT: a later revision again"},
	{"6.1.0-57-cloud-amd64", "Kernel96: another flavour's build (14,400 symbols)"},
	{"6.1.0-57-rt-amd64", "KernelUpdateBreak: the -rt flavour, whose locking symbols (mutex_lock, down_read, ...) differ from the generic build's"},
	{"6.12.107+deb12-amd64", "Kernel17165: a later series whose struct module is 0x500 bytes where every 6.1 tree's (-rt and -cloud included) is 0x380 (measured with readelf on a module built against each): the #17165 refusal from real data. kfree, memcpy, __fentry__ keep their 6.1 CRCs"},
}

// HeaderPackages returns the Debian packages of the header trees the bed uses.
func HeaderPackages() []string {
	var l []string
	for _, h := range headerPackages {
		l = append(l, "linux-headers-"+h.Tree)
	}
	return l
}

// citedCRCs are the CRCs a report gives: kmod-zfs-2.1.15-2.el9, built for
// 5.14.0-427.13.1.el9_4, requires kernel(__alloc_pages) = 0x721dbc2e and
// kernel(write_cache_pages) = 0x30a4cdde (openzfs/zfs#16179, dnf's message). The kernels that
// play 427.13.1's kABI (kernelDef.cited) carry them in place of the Debian tree's values, in
// Module.symvers before anything is compiled against it, so the kmods built for them carry
// them in __versions and require them.
var citedCRCs = map[string]string{"__alloc_pages": "0x721dbc2e", "write_cache_pages": "0x30a4cdde"}

// symEntry is one line of Module.symvers: CRC, symbol, module ("vmlinux" for the kernel
// image), export type, namespace.
type symEntry struct {
	CRC, Name, Module, Export, NS string
}

// readSymvers parses a Module.symvers file.
func readSymvers(data []byte) []symEntry {
	var l []symEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 4 {
			continue
		}
		e := symEntry{CRC: f[0], Name: f[1], Module: f[2], Export: f[3]}
		if len(f) > 4 {
			e.NS = f[4]
		}
		l = append(l, e)
	}
	return l
}

func writeSymvers(l []symEntry) []byte {
	var b bytes.Buffer
	for _, e := range l {
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\n", e.CRC, e.Name, e.Module, e.Export, e.NS)
	}
	return b.Bytes()
}

// kabiProvides are the provides rpm's kABI generator writes for a kernel-core that ships
// /lib/modules/KVER/symvers.gz: scripts/kabi.sh (rpm; fileattrs/kabi.attr matches
// /lib/modules/[1-9].*/symvers.gz) prints `kernel(SYMBOL) = CRC` for every line whose module
// is vmlinux, "We generate dependencies only for symbols exported by vmlinux itself and not
// for kmods here as they are spread across subpackages". CRC is spelled as in symvers (0x and
// eight hex digits).
func kabiProvides(l []symEntry) []string {
	var out []string
	for _, e := range l {
		if e.Module == "vmlinux" && e.CRC != "" && e.CRC != "0x00000000" {
			out = append(out, "kernel("+e.Name+") = "+e.CRC)
		}
	}
	return out
}

// kernelTree is a bed kernel's header tree: a copy of the Debian tree with the release
// renamed to the EL name (vermagic, UTS_RELEASE, KERNELRELEASE), the relative links into
// /usr/lib/linux-kbuild-6.1 made absolute so the copy works from anywhere (kernel-devel puts
// it at /usr/src/kernels/KVER), and, for the kernels that play 427.13.1, the cited CRCs.
type kernelTree struct {
	Dir     string     // the renamed copy
	Symvers []symEntry // its Module.symvers
	Release string
	Source  string // the Debian tree it was copied from
	Digest  string // sha256 of what a module build reads from it that can change (Module.symvers, autoconf.h)
}

var treeCache struct {
	sync.Mutex
	m map[string]*treeOnce
}

type treeOnce struct {
	once sync.Once
	t    *kernelTree
	err  error
}

// tree returns (making it once per Packages) the renamed header tree of a bed kernel.
func (p *Packages) tree(k kernelDef) (*kernelTree, error) {
	kver := k.unameR()
	treeCache.Lock()
	if treeCache.m == nil {
		treeCache.m = map[string]*treeOnce{}
	}
	key := p.Dir + "\x00" + kver
	o, ok := treeCache.m[key]
	if !ok {
		o = &treeOnce{}
		treeCache.m[key] = o
	}
	treeCache.Unlock()
	o.once.Do(func() {
		o.t, o.err = makeTree(filepath.Join(p.Dir, "build", "trees", kver), k)
		if o.err != nil {
			o.err = fmt.Errorf("preparing the header tree of %s from linux-headers-%s: %w", kver, k.tree, o.err)
		}
	})
	return o.t, o.err
}

func makeTree(dir string, k kernelDef) (*kernelTree, error) {
	src := "/usr/src/linux-headers-" + k.tree
	if _, err := os.Stat(filepath.Join(src, "Module.symvers")); err != nil {
		return nil, fmt.Errorf("%s is missing: install the Debian package linux-headers-%s (make deps)", src, k.tree)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	if err := copyTree(src, dir); err != nil {
		return nil, err
	}
	kver := k.unameR()
	for _, f := range []struct{ name, old, new string }{
		{".kernelvariables", "KERNELRELEASE = " + k.tree, "KERNELRELEASE = " + kver},
		{"include/generated/utsrelease.h", `"` + k.tree + `"`, `"` + kver + `"`},
	} {
		path := filepath.Join(dir, f.name)
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if !bytes.Contains(b, []byte(f.old)) {
			return nil, fmt.Errorf("%s has no %q to rename", path, f.old)
		}
		if err := os.WriteFile(path, bytes.ReplaceAll(b, []byte(f.old), []byte(f.new)), 0o644); err != nil {
			return nil, err
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "Module.symvers"))
	if err != nil {
		return nil, err
	}
	syms := readSymvers(data)
	if k.cited {
		for i, e := range syms {
			if c, ok := citedCRCs[e.Name]; ok && e.Module == "vmlinux" {
				syms[i].CRC = c
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "Module.symvers"), writeSymvers(syms), 0o644); err != nil {
			return nil, err
		}
	}
	digest := sha256.New()
	digest.Write(writeSymvers(syms))
	if b, err := os.ReadFile(filepath.Join(dir, "include/generated/autoconf.h")); err == nil {
		digest.Write(b)
	}
	return &kernelTree{Dir: dir, Symvers: syms, Release: kver, Source: k.tree, Digest: hex.EncodeToString(digest.Sum(nil))}, nil
}

// gzipBytes compresses data (symvers.gz), deterministically.
func gzipBytes(data []byte) []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// kabiRequirements generates a kmod's kernel symbol requirements from its real modules the
// way EL does: find-requires.ksyms (kernel-srpm-macros, formerly redhat-rpm-config) takes
// every module's `modprobe --dump-modversions` (its __versions: the CRC of each symbol it
// uses, module_layout included, which modpost adds to every module), drops the symbols the
// package's own modules export, and joins the rest by "SYMBOL:CRC" with the Module.symvers of
// the kernel the modules were built for (/usr/src/kernels/VERMAGIC/Module.symvers): a match
// becomes `kernel(SYMBOL) = CRC`, the rest `ksym(SYMBOL) = CRC`. module_layout is exported by
// vmlinux, so it is among the kernel() requirements. own are the package's exports.
func kabiRequirements(versions map[string]string, own map[string]bool, kernel []symEntry) []string {
	have := map[string]bool{}
	for _, e := range kernel {
		have[e.Name+":"+e.CRC] = true
	}
	var out []string
	for sym, crc := range versions {
		if own[sym] {
			continue
		}
		if have[sym+":"+crc] {
			out = append(out, "kernel("+sym+") = "+crc)
		} else {
			out = append(out, "ksym("+sym+") = "+crc)
		}
	}
	sort.Strings(out)
	return out
}

// dumpModversions runs the machine's real `modprobe --dump-modversions` (kmod) on a module and
// returns symbol -> CRC, the CRC spelled 0x%08x as find-requires.ksyms prints it.
func (p *Packages) dumpModversions(ko string) (map[string]string, error) {
	out, err := run(runOpts{}, p.tools.Modprobe, "--dump-modversions", ko)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		crc, sym, ok := strings.Cut(strings.TrimSpace(l), "\t")
		if !ok {
			continue
		}
		var v uint64
		fmt.Sscanf(crc, "0x%x", &v)
		m[sym] = fmt.Sprintf("0x%08x", v)
	}
	return m, nil
}

// copyTree copies a Debian header tree: regular files and directories as they are, relative
// links made absolute (scripts -> /usr/lib/linux-kbuild-6.1/scripts) so the copy works from
// anywhere (kernel-devel puts it at /usr/src/kernels/KVER), and without the empty files of
// include/config (one per option, 6,400): kbuild's dependency files name them in
// $(wildcard ...), so an external module build never needs them, and kernel-devel packs 70
// files instead of 6,500.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&os.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			if !filepath.IsAbs(link) {
				link = filepath.Clean(filepath.Join(filepath.Dir(path), link))
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			fi, err := d.Info()
			if err != nil {
				return err
			}
			if fi.Size() == 0 && strings.HasPrefix(rel, "include/config/") {
				return nil
			}
			return copyFile(path, target, fi.Mode().Perm())
		}
		return nil
	})
}
