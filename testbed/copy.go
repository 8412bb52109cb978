package testbed

import (
	"fmt"
	"os"
	"path/filepath"
)

// CopyRootAt makes dir a copy of the root src, as a second host in the same state: the
// root's files (rpm database, dnf cache and history, /etc, /var) and its overlay's upper layer
// (what its packages installed under /usr, with the whiteouts that hide the machine's
// copies) are copied with cp -a, and the copy gets its own /usr overlay and /proc mounted, as
// NewRootAt's roots have (the caller calls Close). Mounts are not copied: `cp -a` of a root
// whose /proc is mounted would copy /proc/kcore. HOME is copied to dir+".home". Benchmarks
// copy one template root into many identical fresh hosts this way.
func CopyRootAt(src *Root, dir string) (*Root, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	cp, err := lookSystem("cp")
	if err != nil {
		return nil, err
	}
	r := &Root{Dir: dir, Home: dir + ".home", Packages: src.Packages, Arch: src.Arch}
	srcUpper, _ := overlayDirs(src.Dir)
	dstUpper, _ := overlayDirs(dir)
	for _, d := range []string{dir, r.Home, dstUpper} {
		if _, err := os.Lstat(d); err == nil {
			return nil, fmt.Errorf("copying root %s: %s exists", src.Dir, d)
		}
	}
	// --one-file-system copies the mount points (/usr, /proc) as empty directories and
	// nothing below them; -a keeps owners, modes, links, device nodes and the upper layer's
	// trusted.overlay.* attributes (opaque directories).
	for _, c := range [][2]string{{src.Dir, dir}, {srcUpper, dstUpper}, {src.Home, r.Home}} {
		if _, err := run(runOpts{}, cp, "-a", "--one-file-system", c[0], c[1]); err != nil {
			return nil, fmt.Errorf("copying root %s: %w", src.Dir, err)
		}
	}
	if err := mountUserland(dir); err != nil {
		return r, err
	}
	r.mounted = true
	registerMounted(r)
	if r.Packages != nil {
		r.Packages.register(r)
	}
	return r, nil
}

// Remove unmounts the root and removes it, its overlay layers and its HOME.
func (r *Root) Remove() error {
	if err := r.Close(); err != nil {
		return err
	}
	if below, err := mountsBelow(r.Dir); err != nil || len(below) > 0 {
		return fmt.Errorf("not removing root %s: still mounted below it: %v %v", r.Dir, below, err)
	}
	upper, work := overlayDirs(r.Dir)
	for _, d := range []string{r.Dir, upper, work, r.Home} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	return nil
}
