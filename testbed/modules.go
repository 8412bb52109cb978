package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Test kernel modules: empty ELF relocatable objects (assembled from nothing) with a .modinfo
// section like a real module's, so that `modinfo -b ROOT -k KVER -F version zfs` reads a real
// version from a real file. libkmod resolves a module name only through the binary index
// modules.dep.bin, which the root cannot produce (no real depmod there): the bed builds the
// index for each kernel and each zfs module layout with the machine's depmod, kernel-core
// ships them under /usr/lib/testbed-depmod/KVER/<layout>/, and the root's depmod stand-in
// (specs/files/depmod) installs the one matching the files present.

// moduleLayouts are the zfs module file sets an index is built for.
var moduleLayouts = map[string][]string{
	"none": nil,
	"kmod": {"extra/zfs/zfs.ko", "extra/zfs/spl.ko"}, // kmod-zfs (INSTALL_MOD_DIR=extra/zfs)
	"dkms": {"extra/zfs.ko.xz", "extra/spl.ko.xz"},   // DKMS 3 on EL9: DEST_MODULE_LOCATION=/extra, xz
}

// modinfoFields is the .modinfo content of a test module, in a real module's order.
func modinfoFields(name, version, kver string) string {
	deps := ""
	if name == "zfs" {
		deps = "spl"
	}
	desc := map[string]string{"zfs": "ZFS", "spl": "Solaris Porting Layer"}[name]
	fields := []string{
		"version=" + version,
		"license=CDDL",
		"author=OpenZFS",
		"description=" + desc,
		"depends=" + deps,
		"retpoline=Y",
		"name=" + name,
		"vermagic=" + kver + " SMP preempt mod_unload modversions ",
	}
	return strings.Join(fields, "\x00") + "\x00"
}

// makeModule writes a test module to dst (and dst.xz instead when xz is set).
func (p *Packages) makeModule(empty, dst, name, version, kver string, xz bool) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	info := dst + ".modinfo"
	if err := os.WriteFile(info, []byte(modinfoFields(name, version, kver)), 0o644); err != nil {
		return err
	}
	defer os.Remove(info)
	if _, err := run(runOpts{}, p.tools.Objcopy, "--add-section", ".modinfo="+info,
		"--set-section-flags", ".modinfo=alloc,readonly", empty, dst); err != nil {
		return err
	}
	if xz {
		// The kernel's own choice for compressed modules: crc32 check.
		if _, err := run(runOpts{}, p.tools.XZ, "-f", "--check=crc32", dst); err != nil {
			return err
		}
	}
	return nil
}

// makeModules builds the modules kmod-zfs and zfs-dkms ship and the module indexes each
// kernel-core ships.
func (p *Packages) makeModules() error {
	work := filepath.Join(p.Dir, "build", "modules")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	empty := filepath.Join(work, "empty.o")
	if _, err := run(runOpts{}, p.tools.As, "--64", "-o", empty, "/dev/null"); err != nil {
		return err
	}
	for _, z := range zfsReleases {
		modver := z.version + "-1"
		// kmod-zfs: built for Rocky 9.4's kernel.
		for _, m := range []string{"zfs", "spl"} {
			dst := filepath.Join(p.Dir, "src", "kmod-zfs-"+z.version, m+".ko")
			if err := p.makeModule(empty, dst, m, modver, Kernel94, false); err != nil {
				return err
			}
		}
		// zfs-dkms: what "building" produces, per known kernel and for any other kernel.
		targets := []string{"generic"}
		for _, k := range kernels {
			targets = append(targets, k.unameR())
		}
		for _, k := range targets {
			vermagic := k
			if k == "generic" {
				vermagic = "unknown"
			}
			for _, m := range []string{"zfs", "spl"} {
				dst := filepath.Join(p.Dir, "src", "zfs-dkms-"+z.version, "testbed", k, m+".ko")
				if err := p.makeModule(empty, dst, m, modver, vermagic, true); err != nil {
					return err
				}
			}
		}
	}
	// Module indexes, per kernel and layout, made by the machine's depmod on a staging tree.
	conf := filepath.Join(work, "depmod.d")
	if err := os.MkdirAll(conf, 0o755); err != nil {
		return err
	}
	for _, k := range kernels {
		kv := k.unameR()
		for layout, files := range moduleLayouts {
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
			for _, f := range files {
				name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".xz"), ".ko")
				if err := p.makeModule(empty, filepath.Join(mdir, strings.TrimSuffix(f, ".xz")), name,
					"0-testbed", kv, strings.HasSuffix(f, ".xz")); err != nil {
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
		}
	}
	return nil
}
