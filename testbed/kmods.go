package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// KmodBuild says how one kmod-zfs package's modules are built: which release, against which
// bed kernel's header tree, and which kernel symbols they use.
type KmodBuild struct {
	Version string // OpenZFS version, e.g. "2.2.8"
	Release string // package release, e.g. "1" (default "1")
	Kernel  string // `uname -r` of the bed kernel the modules are compiled against (default Kernel94)
	// Stable makes the modules reference only the symbols whose CRCs every header tree shares
	// (StableSymbols): such a kmod fits every bed kernel by its symbols, and only module_layout,
	// struct module or the build kernel tell the kernels apart.
	Stable bool
}

func (b KmodBuild) withDefaults() KmodBuild {
	if b.Release == "" {
		b.Release = "1"
	}
	if b.Kernel == "" {
		b.Kernel = Kernel94
	}
	return b
}

// layout is the module layout of the release: one directory per module for 2.1, zfs.ko and
// spl.ko side by side from 2.2.
func (b KmodBuild) layout() string {
	if strings.HasPrefix(b.Version, "2.1.") || strings.HasPrefix(b.Version, "2.0.") {
		return "2.1"
	}
	return "2.2"
}

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

// allTreeSymvers reads the Module.symvers of every header tree the bed uses.
func allTreeSymvers() ([][]symEntry, error) {
	var out [][]symEntry
	for _, h := range headerPackages {
		b, err := os.ReadFile("/usr/src/linux-headers-" + h.Tree + "/Module.symvers")
		if err != nil {
			return nil, fmt.Errorf("reading the header tree %s: %w (make deps installs linux-headers-%s)", h.Tree, err, h.Tree)
		}
		out = append(out, readSymvers(b))
	}
	return out, nil
}

// StableSymbols returns the kernel symbols StableKmod-style builds use: those of the bed's
// kmod symbol list that every header tree exports with one CRC.
func StableSymbols() ([]string, error) {
	trees, err := allTreeSymvers()
	if err != nil {
		return nil, err
	}
	return stableSymbols(kmodSymbols, trees), nil
}

// buildKmod compiles a kmod's modules and writes them into src at their kmod_files paths,
// with requires.inc (its kernel(SYMBOL) requirements) beside them. It returns kmod_files.
func (p *Packages) buildKmod(b KmodBuild, src string) ([]string, error) {
	b = b.withDefaults()
	k, ok := kernelByUnameR(b.Kernel)
	if !ok || k.tree == "" {
		return nil, fmt.Errorf("no header tree for kernel %q in the test bed", b.Kernel)
	}
	t, err := p.tree(k)
	if err != nil {
		return nil, err
	}
	syms := usable(kmodSymbols, t.Symvers)
	if b.Stable {
		if syms, err = StableSymbols(); err != nil {
			return nil, err
		}
	}
	layout := b.layout()
	res, err := p.kbuild(t, zfsModules(layout, b.Version+"-"+b.Release, syms))
	if err != nil {
		return nil, err
	}
	files := kmodFiles(layout)
	versions := map[string]string{}
	for _, f := range files {
		ko := res.Modules[moduleName(f)]
		if err := copyFile(ko, filepath.Join(src, f), 0o744); err != nil {
			return nil, err
		}
		v, err := p.dumpModversions(ko)
		if err != nil {
			return nil, err
		}
		for s, c := range v {
			versions[s] = c
		}
	}
	var inc strings.Builder
	for _, r := range kabiRequirements(versions, res.Exports, t.Symvers) {
		inc.WriteString("Requires:       " + r + "\n")
	}
	if err := os.WriteFile(filepath.Join(src, "requires.inc"), []byte(inc.String()), 0o644); err != nil {
		return nil, err
	}
	return files, nil
}

// moduleName is the name of a module file: extra/zfs/avl/zavl.ko -> zavl.
func moduleName(file string) string {
	return strings.TrimSuffix(strings.TrimSuffix(filepath.Base(file), ".xz"), ".ko")
}

// dkmsSource writes the source tree zfs-dkms ships under /usr/src/zfs-VERSION (besides META and
// dkms.conf, which the spec writes): module/ with the Kbuild and C sources of zfs.ko and spl.ko
// (the same test modules kmod-zfs has, using the kernel symbols the tree offers), a Makefile
// that runs kbuild against the kernel dkms names, and configure, which checks the kernel the
// way OpenZFS's configure does before anything compiles: the kernel's version (from the tree's
// utsrelease.h) against META's Linux-Minimum/Maximum, and the builds upstream reports fail on
// stock EL kernels inside that range (testbed/build-failures, from dkmsBuildFailures: those
// configure checks of interfaces Red Hat's backports removed cannot be reproduced on 6.1
// headers, so configure matches the kernel release instead and prints the reported error).
func dkmsSource(version, release, src string) error {
	mods := zfsModules("2.2", version+"-"+release, dkmsSymbols)
	dir := filepath.Join(src, "source")
	if err := os.MkdirAll(filepath.Join(dir, "module"), 0o755); err != nil {
		return err
	}
	files := moduleSources(mods)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, "module", n), []byte(files[n]), 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte(dkmsMakefile), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "configure"), []byte(dkmsConfigure), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "testbed"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "testbed", "build-failures"), []byte(dkmsFailuresFile(version)), 0o644)
}

// dkmsSymbols are the kernel symbols the DKMS source uses: a fixed set every header tree
// exports (the source is compiled against whichever kernel dkms is asked for).
var dkmsSymbols = []string{"__kmalloc", "kfree", "vmalloc", "vfree", "_printk", "memcpy", "memset",
	"kmalloc_caches", "kmalloc_trace", "__alloc_pages", "write_cache_pages", "param_ops_ulong", "mutex_lock", "mutex_unlock"}

// dkmsMakefile builds the modules with kbuild against the tree dkms names (LINUX=).
const dkmsMakefile = `# Test bed zfs-dkms Makefile: kbuild against the kernel tree dkms names.
all:
	$(MAKE) -C $(LINUX) M=$(CURDIR)/module modules
clean:
	rm -rf module/*.o module/*.ko module/.*.cmd module/*.mod* module/Module.symvers module/modules.order
`

// dkmsConfigure is the zfs-dkms source's configure (POSIX sh, run by dkms.conf's MAKE[0] so
// that its output is in make.log). Its messages are OpenZFS configure's.
const dkmsConfigure = `#!/bin/sh
# Test bed configure for zfs-dkms (zfsinstall's test bed): checks the kernel like OpenZFS's
# configure before the build. --with-linux=DIR names the kernel tree dkms builds against.
linux=
for a in "$@"; do
	case "$a" in
	--with-linux=*) linux=${a#--with-linux=} ;;
	esac
done
here=$(cd "$(dirname "$0")" && pwd)
meta() { sed -n "s/^$1: *//p" "$here/META"; }
version=$(meta Version); release=$(meta Release); kmin=$(meta Linux-Minimum); kmax=$(meta Linux-Maximum)
echo "checking kernel source directory... $linux"
[ -f "$linux/include/generated/utsrelease.h" ] || {
	echo "configure: error: *** Please make sure the kernel devel package for your distribution is installed."
	exit 1
}
kver=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' "$linux/include/generated/utsrelease.h")
echo "checking kernel source version... $kver"
# version_gt A B: is major.minor of A above B?
version_gt() {
	a1=${1%%.*}; a2=${1#*.}; a2=${a2%%[!0-9]*}
	b1=${2%%.*}; b2=${2#*.}; b2=${b2%%[!0-9]*}
	[ "$a1" -gt "$b1" ] || { [ "$a1" -eq "$b1" ] && [ "$a2" -gt "$b2" ]; }
}
fail_interfaces() {
	echo "configure: error: "
	echo "	*** None of the expected \"$1\" interfaces were detected."
	echo "	*** This may be because your kernel version is newer than what is"
	echo "	*** supported, or you are using a patched custom kernel with"
	echo "	*** incompatible modifications."
	echo "	***"
	echo "	*** ZFS Version: zfs-$version-$release"
	echo "	*** Compatible Kernels: $kmin - $kmax"
	exit 1
}
if [ -e /var/lib/zfs-test/dkms-build-fail ]; then
	# Fault injection (the bed's tests): the build fails as on an unsupported kernel.
	fail_interfaces bdev_file_open_by_path
fi
if version_gt "$kver" "$kmax"; then
	fail_interfaces bdev_file_open_by_path
fi
# Builds upstream reports fail on stock EL kernels inside META's range.
if [ -f "$here/testbed/build-failures" ]; then
	awk -v k="$kver" '
		/^kernel / { on = 0; n = split($2, g, "*"); re = "^"; for (i = 1; i <= n; i++) { gsub(/\./, "\\.", g[i]); re = re g[i] (i < n ? ".*" : "") }; re = re "$"; on = (k ~ re); hit = hit || on; next }
		/^\.$/ { on = 0; next }
		on { print }
		END { exit !hit }' "$here/testbed/build-failures" && exit 1
fi
echo "configure: creating ./config.status"
exit 0
`

// precompile prepares the header trees and compiles the modules of a build group ("" for the
// base build) two at a time, so that the rpmbuild jobs find them in the cache: each kernel's
// reference module and, for the base build, the kmods of zfsReleases.
func (p *Packages) precompile(group string) error {
	var fs []func() error
	for _, k := range kernels {
		if k.group != group || k.tree == "" {
			continue
		}
		fs = append(fs, func() error {
			t, err := p.tree(k)
			if err != nil {
				return err
			}
			_, err = p.kbuild(t, []modSpec{{Name: refModule, Refs: []string{"_printk"}}})
			return err
		})
	}
	if group == "" {
		for _, z := range zfsReleases {
			if z.kmod == "" {
				continue
			}
			fs = append(fs, func() error {
				dir, err := os.MkdirTemp(filepath.Join(p.Dir, "build"), "precompile-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				_, err = p.buildKmod(KmodBuild{Version: z.version, Release: z.release}, dir)
				return err
			})
		}
	}
	return runParallel(2, fs)
}
