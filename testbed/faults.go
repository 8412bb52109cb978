package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Faults change the mirror and are reversible: each returns (or registers with t.Cleanup) the
// function that undoes it. They also drop the dnf cache of every root made from these
// Packages (Root.ExpireCache), so the next dnf call sees the mirror as it now is.

func (p *Packages) register(r *Root) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.roots = append(p.roots, r)
}

func (p *Packages) expireAll() {
	p.mu.Lock()
	roots := append([]*Root(nil), p.roots...)
	p.mu.Unlock()
	for _, r := range roots {
		r.ExpireCache()
	}
}

// once wraps a restore function so that it runs at most once, and registers it with t.Cleanup.
func once(t testing.TB, f func()) func() {
	var o sync.Once
	g := func() { o.Do(f) }
	t.Cleanup(g)
	return g
}

// BreakRepo makes a repository unreachable (its directory moved away): dnf then fails with
// "Failed to download metadata for repo '<name>'" (skip_if_unavailable=False).
func (p *Packages) BreakRepo(t testing.TB, name string) (restore func()) {
	t.Helper()
	d, err := p.RepoDir(name)
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	broken := d + ".broken"
	if err := os.Rename(d, broken); err != nil {
		t.Fatalf("testbed: breaking repo %s: %v", name, err)
	}
	p.expireAll()
	return once(t, func() {
		if err := os.Rename(broken, d); err != nil {
			t.Errorf("testbed: restoring repo %s: %v", name, err)
		}
		p.expireAll()
	})
}

// RemoveFromRepo takes the RPMs whose file names start with nevraPrefix out of a repository
// and rewrites its metadata, e.g. ("appstream", "kernel-devel-5.14.0-427.") for "the mirror no
// longer has kernel-devel for the running kernel". It fails the test when nothing matches.
func (p *Packages) RemoveFromRepo(t testing.TB, repo, nevraPrefix string) (restore func()) {
	t.Helper()
	d, err := p.RepoDir(repo)
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	matches, _ := filepath.Glob(filepath.Join(d, nevraPrefix+"*.rpm"))
	if len(matches) == 0 {
		t.Fatalf("testbed: no RPM in %s starts with %q", repo, nevraPrefix)
	}
	p.mu.Lock()
	p.nextJob++
	stash := filepath.Join(p.Dir, "stash", fmt.Sprint(p.nextJob))
	p.mu.Unlock()
	if err := os.MkdirAll(stash, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, m := range matches {
		if err := os.Rename(m, filepath.Join(stash, filepath.Base(m))); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.createrepo(repo); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	p.expireAll()
	return once(t, func() {
		for _, m := range matches {
			if err := os.Rename(filepath.Join(stash, filepath.Base(m)), m); err != nil {
				t.Errorf("testbed: %v", err)
			}
		}
		if err := p.createrepo(repo); err != nil {
			t.Errorf("testbed: %v", err)
		}
		p.expireAll()
	})
}

// AddUnsigned builds spec (a file name in specs/, with or without ".spec": "zfs", "stub",
// "zfs-dkms", "kmod-zfs") with defines ("zfs_version=2.2.9", ...; unset ones get the bed's
// defaults) and adds the unsigned RPMs to a repository. Installing them fails dnf's GPG check
// ("... is not signed"). The test's cleanup takes them out again.
func (p *Packages) AddUnsigned(t testing.TB, repo, spec string, defines ...string) []string {
	t.Helper()
	return p.add(t, repo, "", spec, defines)
}

// AddSigned is AddUnsigned with the RPMs signed by a vendor's key: "rocky", "epel", "elrepo",
// "openzfs", or "rogue", a key no root and no repo file knows (a package signed with the
// wrong key).
func (p *Packages) AddSigned(t testing.TB, repo, vendor, spec string, defines ...string) []string {
	t.Helper()
	if _, ok := p.Keys[vendor]; !ok {
		t.Fatalf("testbed: no key for vendor %q", vendor)
	}
	return p.add(t, repo, vendor, spec, defines)
}

// specDefaults are the defines a spec gets when a caller of AddUnsigned does not set them.
var specDefaults = map[string][][2]string{
	"stub.spec":     {{"stub_name", "testbed-extra"}, {"stub_version", "1.0"}, {"stub_release", "1"}},
	"zfs.spec":      {{"zfs_version", ZFSOld}, {"zfs_release", "1"}},
	"zfs-dkms.spec": {{"zfs_version", ZFSOld}, {"zfs_release", "1"}, {"kmin", "4.18"}, {"kmax", "6.12"}, {"dkms_uname_r", "0"}},
	"kmod-zfs.spec": {{"zfs_version", ZFSOld}, {"zfs_release", "1"}, {"kverrel", Kernel94}},
}

func (p *Packages) add(t testing.TB, repo, vendor, spec string, defines []string) []string {
	t.Helper()
	if !strings.HasSuffix(spec, ".spec") {
		spec += ".spec"
	}
	d, err := p.RepoDir(repo)
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	files := p.buildExtra(t, vendor, spec, defines)
	var added []string
	for _, f := range files {
		dst := filepath.Join(d, filepath.Base(f))
		if err := os.Link(f, dst); err != nil {
			t.Fatalf("testbed: %v", err)
		}
		added = append(added, dst)
	}
	if err := p.createrepo(repo); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	p.expireAll()
	once(t, func() {
		for _, f := range added {
			os.Remove(f)
		}
		if err := p.createrepo(repo); err != nil {
			t.Errorf("testbed: %v", err)
		}
		p.expireAll()
	})
	return added
}

// buildExtra builds spec with defines (unset ones get specDefaults) into RPMs signed by vendor
// ("" for unsigned) and returns their paths.
func (p *Packages) buildExtra(t testing.TB, vendor, spec string, defines []string) []string {
	t.Helper()
	defs, ok := specDefaults[spec]
	if !ok {
		t.Fatalf("testbed: adding packages from %s is not supported (have stub, zfs, zfs-dkms, kmod-zfs)", spec)
	}
	set := map[string]string{}
	var order []string
	for _, d := range defs {
		set[d[0]] = d[1]
		order = append(order, d[0])
	}
	for _, d := range defines {
		k, v, ok := strings.Cut(d, "=")
		if !ok {
			t.Fatalf("testbed: define %q is not key=value", d)
		}
		if _, seen := set[k]; !seen {
			order = append(order, k)
		}
		set[k] = v
	}
	if spec == "kmod-zfs.spec" {
		if _, ok := set["kmod_files"]; !ok {
			order = append(order, "kmod_files")
			set["kmod_files"] = strings.Join(kmodFiles(KmodBuild{Version: set["zfs_version"]}.layout()), " ")
		}
	}
	var ds [][2]string
	for _, k := range order {
		ds = append(ds, [2]string{k, set[k]})
	}
	p.mu.Lock()
	p.nextJob++
	id := fmt.Sprintf("extra-%d", p.nextJob)
	p.mu.Unlock()
	j := job{id: id, spec: spec, defines: ds, vendor: vendor,
		prepare: func(src string) error { return p.prepareExtra(spec, set, src) }}
	files, err := p.rpmbuild(j)
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	if vendor != "" {
		err := p.signFiles(vendor, files)
		p.stopAgent()
		if err != nil {
			t.Fatalf("testbed: %v", err)
		}
	}
	return files
}

// prepareExtra writes the sources a spec needs for AddUnsigned/AddSigned: kmod-zfs's modules
// are compiled for real against the kernel kverrel names (its kernel(SYMBOL) requirements
// generated from them), zfs-dkms gets the real DKMS source.
func (p *Packages) prepareExtra(spec string, set map[string]string, src string) error {
	switch spec {
	case "zfs.spec":
		return copyFile(p.specFile("files/zfs"), filepath.Join(src, "zfs"), 0o755)
	case "kmod-zfs.spec":
		_, err := p.buildKmod(KmodBuild{Version: set["zfs_version"], Release: set["zfs_release"], Kernel: set["kverrel"],
			Stable: set["stable"] == "1"}, src)
		return err
	case "zfs-dkms.spec":
		return dkmsSource(set["zfs_version"], set["zfs_release"], src)
	}
	return nil
}
