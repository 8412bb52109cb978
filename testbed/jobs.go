package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// job is one rpmbuild run of a spec with defines; its RPMs are signed by vendor's key and
// placed by route (package name -> repo id; "" keeps the RPM out of every repository).
type job struct {
	id      string
	spec    string
	target  string // rpmbuild --target (an architecture); "" builds for the machine (x86_64)
	defines [][2]string
	prepare func(src string) error
	vendor  string
	route   func(name string) string
}

type jobResult struct {
	job   job
	files []string // built RPMs
}

func to(repo string) func(string) string { return func(string) string { return repo } }

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}

// specFile returns the path of an embedded file written to Dir/specs.
func (p *Packages) specFile(name string) string { return filepath.Join(p.Dir, "specs", name) }

// jobs lists every package build of the bed.
func (p *Packages) jobs() ([]job, error) {
	key := func(vendor string) string { return p.Keys[vendor].File }
	realRepo, err := specFS.ReadFile("specs/zfs.repo")
	if err != nil {
		return nil, err
	}
	zfsRepo := strings.ReplaceAll(string(realRepo), zfsOrgPrefix, p.Mirror+"/zfsonlinux/")
	if strings.Contains(zfsRepo, "zfsonlinux.org") && strings.Contains(zfsRepo, "baseurl=http") {
		return nil, fmt.Errorf("zfs.repo still has remote baseurls after rewriting")
	}

	copyFiles := func(names ...string) func(src string) error {
		return func(src string) error {
			for _, f := range names {
				if err := copyFile(p.specFile("files/"+f), filepath.Join(src, f), 0o755); err != nil {
					return err
				}
			}
			return nil
		}
	}
	kmodPrepare := p.kmodFiles
	bashFiles := func(src string) error { return copyFile(p.tools.Bash, filepath.Join(src, "bash"), 0o755) }
	js := []job{
		{id: "filesystem", spec: "filesystem.spec", vendor: "rocky", route: to("baseos")},
		{id: "bash", spec: "bash.spec", vendor: "rocky", route: to("baseos"), prepare: bashFiles},
		{id: "kmod", spec: "kmod.spec", vendor: "rocky", route: to("baseos"), prepare: kmodPrepare},
		{id: "rocky-release", spec: "rocky-release.spec", vendor: "rocky", route: to("baseos"),
			defines: [][2]string{{"rocky_version", "9.4"}, {"rocky_release", "1.7"}, {"mirror", p.Mirror}},
			prepare: func(src string) error {
				return copyFile(key("rocky"), filepath.Join(src, "RPM-GPG-KEY-Rocky-9"), 0o644)
			}},
		{id: "epel-release", spec: "epel-release.spec", vendor: "rocky", route: to("extras"),
			defines: [][2]string{{"mirror", p.Mirror}},
			prepare: func(src string) error {
				return copyFile(key("epel"), filepath.Join(src, "RPM-GPG-KEY-EPEL-9"), 0o644)
			}},
		{id: "zfs-release", spec: "zfs-release.spec", vendor: "openzfs", route: to(""),
			prepare: func(src string) error {
				// The real package has two keys (2013 for EL<=8, 2022 for EL>=9); the bed has
				// one OpenZFS key and installs it under both names.
				for _, n := range []string{"RPM-GPG-KEY-openzfs-2013", "RPM-GPG-KEY-openzfs-2022"} {
					if err := copyFile(key("openzfs"), filepath.Join(src, n), 0o644); err != nil {
						return err
					}
				}
				return os.WriteFile(filepath.Join(src, "zfs.repo"), []byte(zfsRepo), 0o644)
			}},
	}
	for _, v := range []string{DKMSOld, DKMSNew} {
		js = append(js, job{id: "dkms-" + v, spec: "dkms.spec", vendor: "epel", route: to("epel"),
			defines: [][2]string{{"dkms_version", v}},
			prepare: func(src string) error {
				if err := copyFiles("40-dkms.install-3.0", "40-dkms.install-3.2")(src); err != nil {
					return err
				}
				return copyMachineFiles(src, realDKMSFiles)
			}})
	}
	var stubList []string
	stubRepo := map[string]string{}
	for _, s := range stubs {
		stubList = append(stubList, s.name+":"+s.version+":"+s.release)
		stubRepo[s.name] = s.repo
	}
	js = append(js, job{id: "stubs", spec: "stubs.spec", vendor: "rocky", route: func(name string) string { return stubRepo[name] },
		defines: [][2]string{{"stub_list", strings.Join(stubList, " ")}}})
	js = append(js, p.kernelJobs("")...)
	for _, z := range zfsReleases {
		z := z
		base := [][2]string{{"zfs_version", z.version}, {"zfs_release", z.release}}
		js = append(js, job{id: "zfs-" + z.version, spec: "zfs.spec", vendor: "openzfs", defines: base,
			prepare: copyFiles("zfs"), route: to(z.userland)})
		if z.dkms {
			js = append(js, job{id: "zfs-dkms-" + z.version, spec: "zfs-dkms.spec", vendor: "openzfs", route: to("zfs"),
				defines: append(append([][2]string{}, base...), [2]string{"kmin", z.kmin}, [2]string{"kmax", z.kmax},
					[2]string{"dkms_uname_r", map[bool]string{true: "1", false: "0"}[z.unameR]}),
				prepare: func(src string) error { return dkmsSource(z.version, z.release, src) }})
		}
		if z.kmod != "" {
			b := KmodBuild{Version: z.version, Release: z.release}
			js = append(js, job{id: "kmod-zfs-" + z.version, spec: "kmod-zfs.spec", vendor: "openzfs", route: to("zfs-kmod"),
				defines: append(append([][2]string{}, base...), [2]string{"kverrel", Kernel94},
					[2]string{"kmod_files", strings.Join(kmodFiles(b.layout()), " ")}),
				prepare: func(src string) error {
					_, err := p.buildKmod(b, src)
					return err
				}})
		}
	}
	return js, nil
}

// kernelJobs lists the kernel builds of a group ("" for the base build).
func (p *Packages) kernelJobs(group string) []job {
	var js []job
	for _, k := range kernels {
		if k.group != group {
			continue
		}
		k := k
		defs := [][2]string{{"kversion", k.version}, {"krelease", k.release}}
		target := ""
		if k.arch != "" {
			target = k.arch
		}
		js = append(js, job{id: "kernel-" + k.unameR(), spec: k.spec + ".spec", target: target, vendor: k.signingWith, defines: defs,
			prepare: func(src string) error { return p.prepareKernel(k, src) },
			route: func(name string) string {
				if strings.HasSuffix(name, "-devel") || strings.HasSuffix(name, "-devel-matched") {
					return k.develRepo
				}
				return k.coreRepo
			}})
	}
	return js
}

// groupJobs lists the builds of a group built on demand (buildGroup).
func (p *Packages) groupJobs(group string) []job {
	js := p.kernelJobs(group)
	if group == "aarch64" {
		// The aarch64 mirror's arch-specific base packages (the programs inside stay the
		// machine's: scriptlets run on this machine).
		js = append(js,
			job{id: "bash-aarch64", spec: "bash.spec", target: "aarch64", vendor: "rocky", route: to("baseos"),
				prepare: func(src string) error { return copyFile(p.tools.Bash, filepath.Join(src, "bash"), 0o755) }},
			job{id: "kmod-aarch64", spec: "kmod.spec", target: "aarch64", vendor: "rocky", route: to("baseos"), prepare: p.kmodFiles})
	}
	return js
}

// runJobs runs the builds, a few at a time.
func (p *Packages) runJobs(js []job) ([]jobResult, error) {
	results := make([]jobResult, len(js))
	fs := make([]func() error, len(js))
	for i, j := range js {
		fs[i] = func() error {
			files, err := p.rpmbuild(j)
			results[i] = jobResult{job: j, files: files}
			if err != nil {
				return fmt.Errorf("building %s: %w", j.id, err)
			}
			return nil
		}
	}
	if err := runParallel(4, fs); err != nil {
		return nil, err
	}
	return results, nil
}

// rpmbuild builds one job into Dir/rpms/<id>/ and returns the RPMs, sorted.
func (p *Packages) rpmbuild(j job) ([]string, error) {
	src := filepath.Join(p.Dir, "src", "job-"+j.id)
	top := filepath.Join(p.Dir, "build", "rpmbuild-"+j.id)
	out := filepath.Join(p.Dir, "rpms", j.id)
	for _, d := range []string{src, top, out} {
		if err := os.RemoveAll(d); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if j.prepare != nil {
		if err := j.prepare(src); err != nil {
			return nil, err
		}
	}
	argv := []string{p.tools.RPMBuild, "-bb", "--quiet"}
	if j.target != "" {
		argv = append(argv, "--target", j.target)
	}
	argv = append(argv,
		"--define", "_topdir "+top,
		"--define", "_rpmdir "+out,
		"--define", "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm",
		// Debian's rpmbuild runs %install with dash (TESTBED.md trap 6).
		"--define", "_buildshell /bin/bash",
		"--define", "dist .el9",
		"--define", "__os_install_post %{nil}",
		"--define", "debug_package %{nil}",
		"--define", "_build_id_links none",
		"--define", "_binary_payload w3.zstdio",
		"--define", "srcdir "+src,
	)
	for _, d := range j.defines {
		argv = append(argv, "--define", d[0]+" "+d[1])
	}
	argv = append(argv, p.specFile(j.spec))
	if _, err := run(runOpts{Env: baseEnv(p.home)}, argv...); err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(out, "*.rpm"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("rpmbuild of %s made no RPM", j.spec)
	}
	sort.Strings(files)
	return files, nil
}

// rpmName returns the package name of an RPM file name "name-version-release.arch.rpm".
func rpmName(file string) string {
	base := strings.TrimSuffix(filepath.Base(file), ".rpm")
	parts := strings.Split(base, "-")
	if len(parts) < 3 {
		return base
	}
	return strings.Join(parts[:len(parts)-2], "-")
}

// realKmodFiles are the machine's files the bed's kmod and systemd-udev packages carry
// (Debian's kmod 30 and systemd 252), by the name the spec reads them under.
var realKmodFiles = map[string]string{
	"kmod":                   "/usr/bin/kmod",
	"kernel-install":         "/usr/bin/kernel-install",
	"50-depmod.install":      "/usr/lib/kernel/install.d/50-depmod.install",
	"90-loaderentry.install": "/usr/lib/kernel/install.d/90-loaderentry.install",
}

// realDKMSFiles are the machine's files (Debian's dkms 3.0.10) the bed's dkms packages carry.
var realDKMSFiles = map[string]string{
	"dkms":               "/usr/sbin/dkms",
	"common.postinst":    "/usr/lib/dkms/common.postinst",
	"dkms_autoinstaller": "/usr/lib/dkms/dkms_autoinstaller",
	"framework.conf":     "/etc/dkms/framework.conf",
	"postinst.d-dkms":    "/etc/kernel/postinst.d/dkms",
	"prerm.d-dkms":       "/etc/kernel/prerm.d/dkms",
}

// copyMachineFiles copies machine files into a job's source directory under the given names.
func copyMachineFiles(src string, files map[string]string) error {
	for name, from := range files {
		fi, err := os.Stat(from)
		if err != nil {
			return fmt.Errorf("%s is missing on this machine (make deps installs it): %w", from, err)
		}
		if err := copyFile(from, filepath.Join(src, name), fi.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

// kmodFiles prepares the kmod job: the real tools, the modprobe wrapper and weak-modules.
func (p *Packages) kmodFiles(src string) error {
	for _, f := range []string{"modprobe", "weak-modules"} {
		if err := copyFile(p.specFile("files/"+f), filepath.Join(src, f), 0o755); err != nil {
			return err
		}
	}
	return copyMachineFiles(src, realKmodFiles)
}
