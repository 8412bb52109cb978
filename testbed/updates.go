package testbed

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// What issue 18 (the kernel-update pre-flight and hold) needs from the bed: update kernels in
// baseos that do and do not fit the installed kmod, a rebuilt kmod published during a test,
// kmods and kernels for the loadability failures beyond CRCs, and (with RemoveFromRepo) a
// kernel whose kernel-devel is not offered.

// KernelPackages returns the packages of one bed kernel build, as name-version-release: the
// kernel and its subpackages (kernel, kernel-core, kernel-modules, kernel-modules-core,
// kernel-devel, kernel-devel-matched). dnf.conf's excludepkgs must name all of them to keep
// dnf from installing any part of that kernel (see TestModelHoldExcludes).
func KernelPackages(kver string) []string {
	k, ok := kernelByUnameR(kver)
	if !ok {
		return nil
	}
	var l []string
	for _, sub := range []string{"", "-core", "-modules", "-modules-core", "-devel", "-devel-matched"} {
		l = append(l, k.spec+sub+"-"+k.version+"-"+k.release)
	}
	return l
}

// PublishKernelUpdates puts issue 18's two update kernels into the mirror for the rest of the
// test: KernelUpdateFit (Kernel94's kABI: the installed kmod fits it) and KernelUpdateBreak,
// the newest (the -rt build's CRCs: it does not), their kernel, -core, -modules and
// -modules-core in baseos and -devel, -devel-matched in appstream, so that `dnf upgrade` on a
// Kernel94 root sees both. The test's cleanup takes them out again (like the fault helpers: a
// test using it must not run in parallel with others on the same Packages).
func (p *Packages) PublishKernelUpdates(t testing.TB) (restore func()) {
	t.Helper()
	g, err := p.buildGroup("updates")
	if err != nil {
		t.Fatalf("testbed: building the update kernels: %v", err)
	}
	var added []string
	repos := map[string]bool{}
	for _, kver := range []string{KernelUpdateFit, KernelUpdateBreak} {
		k, _ := kernelByUnameR(kver)
		for _, nevr := range KernelPackages(kver) {
			f, ok := g.rpms[nevr+"."+k.targetArch()]
			if !ok {
				t.Fatalf("testbed: %s was not built", nevr)
			}
			repo := k.coreRepo
			if strings.Contains(nevr, "-devel-") {
				repo = k.develRepo
			}
			d, err := p.RepoDir(repo)
			if err != nil {
				t.Fatalf("testbed: %v", err)
			}
			dst := filepath.Join(d, filepath.Base(f))
			if err := os.Link(f, dst); err != nil {
				t.Fatalf("testbed: %v", err)
			}
			added = append(added, dst)
			repos[repo] = true
		}
	}
	p.rewriteRepos(t, repos)
	t.Logf("testbed: update kernels %s and %s published (%s)", KernelUpdateFit, KernelUpdateBreak, p.groupTook("updates"))
	return once(t, func() {
		for _, f := range added {
			os.Remove(f)
		}
		p.rewriteRepos(t, repos)
	})
}

func (p *Packages) rewriteRepos(t testing.TB, repos map[string]bool) {
	for r := range repos {
		if err := p.createrepo(r); err != nil {
			t.Errorf("testbed: %v", err)
		}
	}
	p.expireAll()
}

// PublishKmod builds a kmod-zfs whose modules are compiled against b.Kernel (a bed kernel; its
// kernel(SYMBOL) requirements generated from them), signs it with the OpenZFS key like the
// others and adds it to zfs-kmod for the rest of the test, e.g. a rebuilt 2.2.8-2 for
// KernelUpdateBreak, with which a hold on that kernel lifts. It returns the RPM paths in the
// repository. Like the fault helpers it changes the shared mirror.
func (p *Packages) PublishKmod(t testing.TB, b KmodBuild) []string {
	t.Helper()
	b = b.withDefaults()
	return p.AddSigned(t, "zfs-kmod", "openzfs", "kmod-zfs", b.defines()...)
}

func (b KmodBuild) defines() []string {
	d := []string{"zfs_version=" + b.Version, "zfs_release=" + b.Release, "kverrel=" + b.Kernel}
	if b.Stable {
		d = append(d, "stable=1")
	}
	return d
}

// KmodRPM builds a kmod-zfs RPM (signed with the OpenZFS key, in no repository) whose modules
// are compiled against b.Kernel: for the loadability models of issue 18, e.g. a kmod built for
// Kernel94Z installed on Kernel94 (#14411: its build kernel is newer than the target), or a
// StableSymbols kmod on Kernel17924 or Kernel17165. Install it with dnf from the file.
func (p *Packages) KmodRPM(t testing.TB, b KmodBuild) string {
	t.Helper()
	b = b.withDefaults()
	files := p.buildExtra(t, "openzfs", "kmod-zfs.spec", b.defines())
	return files[0]
}
