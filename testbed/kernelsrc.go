package testbed

import (
	"os"
	"path/filepath"
	"strings"
)

// refModule is the reference module every bed kernel ships in kernel-modules-core as
// /lib/modules/KVER/kernel/lib/testbed_ref.ko: headers packages carry no module of the kernel
// itself, and a check that needs the kernel's own modules (the size of struct module in
// .gnu.linkonce.this_module, openzfs/zfs#17165) reads it. It is compiled against the kernel's
// tree like the kernel's own modules are.
const refModule = "testbed_ref"

// refModulePath is where a kernel's reference module is installed.
func refModulePath(kver string) string {
	return "/lib/modules/" + kver + "/kernel/lib/" + refModule + ".ko"
}

// prepareKernel writes what kernel.spec (or kernel-lt.spec) packs for one kernel into src:
// provides.inc (kernel-core's kernel(SYMBOL) = CRC provides, as rpm's kabi.sh writes them),
// symvers.gz (the tree's Module.symvers), config, the reference module, and devel/ (the
// renamed header tree kernel-devel ships as /usr/src/kernels/KVER).
func (p *Packages) prepareKernel(k kernelDef, src string) error {
	var provides strings.Builder
	if k.tree == "" {
		// No header tree (aarch64): no kABI data, an empty symvers and a minimal devel tree.
		if err := os.WriteFile(filepath.Join(src, "symvers.gz"), gzipBytes(nil), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(src, "config"), []byte("CONFIG_MODVERSIONS=y\n"), 0o644); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(src, "devel", "include"), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(src, "devel", "Makefile"), []byte("# no header tree for "+k.unameR()+"\n"), 0o644); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(src, "provides.inc"), nil, 0o644)
	}
	t, err := p.tree(k)
	if err != nil {
		return err
	}
	if k.provides {
		for _, pr := range kabiProvides(t.Symvers) {
			provides.WriteString("Provides: " + pr + "\n")
		}
	}
	if err := os.WriteFile(filepath.Join(src, "provides.inc"), []byte(provides.String()), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(src, "symvers.gz"), gzipBytes(writeSymvers(t.Symvers)), 0o644); err != nil {
		return err
	}
	if err := copyFile(filepath.Join(t.Dir, ".config"), filepath.Join(src, "config"), 0o644); err != nil {
		return err
	}
	ref, err := p.kbuild(t, []modSpec{{Name: refModule, Refs: []string{"_printk"}}})
	if err != nil {
		return err
	}
	if err := copyFile(ref.Modules[refModule], filepath.Join(src, refModule+".ko"), 0o644); err != nil {
		return err
	}
	_, err = run(runOpts{}, "/bin/cp", "-a", t.Dir, filepath.Join(src, "devel"))
	return err
}
