// Package gather reads a host's facts through the host seam: one rpm query,
// files under the root, and a few cheap commands. It never changes the host.
package gather

import (
	"context"
	"errors"
	"fmt"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/repos"
)

// Options steer fact gathering.
type Options struct {
	// Kernel overrides the target kernel (--kernel, or an explicit kernel.target).
	Kernel string `json:"kernel,omitempty"`
	// DefaultKernel makes the next boot's kernel the target (kernel.target = "default").
	DefaultKernel bool `json:"default_kernel,omitempty"`
	// QueryRepos asks the enabled repositories what they offer (dnf repoquery).
	// Off by default: a converged host plans without touching the network.
	QueryRepos bool `json:"query_repos,omitempty"`
	// Stream is the spec's zfs.repo ("default", "latest", "2.2", ...): the
	// query sees both of its OpenZFS sections (DKMS and kmod) and no other,
	// so the planner can weigh both packagings.
	Stream string `json:"stream,omitempty"`
	// DNFArgs are extra arguments for every dnf call (e.g. --disableplugin).
	DNFArgs []string `json:"-"`
}

// packageNames are the installed packages that matter, asked for by name
// in one `rpm -q` (rpm's name index: as fast with 5,000 packages installed
// as with 200, where `rpm -qa PATTERN` reads every header): OpenZFS's
// packages and every library name any release used, every kernel and
// kernel-devel package name, the release packages, dkms, dnf (4 and 5) and the
// imported keys (gpg-pubkey lists them all).
var packageNames = sync.OnceValue(func() []string {
	names := []string{"zfs", "zfs-dkms", "kmod-zfs", "zfs-release", "zfs-dracut", "zfs-test",
		"dkms", "dnf", "dnf5", "epel-release", "oracle-epel-release-el7", "oracle-epel-release-el8", "oracle-epel-release-el9",
		"elrepo-release", "python3-dnf-plugin-versionlock", "gpg-pubkey"}
	names = append(names, catalog.LibraryPackageNames()...)
	return append(names, catalog.KernelPackageNames()...)
})

// Gather reads everything the planner needs from h. Commands that are not
// installed (mokutil, modinfo, dkms) leave their facts empty; only a host
// that cannot be read at all is an error.
func Gather(ctx context.Context, h host.Host, opts Options) (*facts.Facts, error) {
	if err := pkgmgr.CheckDNFArgs(opts.DNFArgs); err != nil {
		return nil, err
	}
	f := &facts.Facts{FormatVersion: facts.FormatVersion, Root: h.Root(), Files: map[string]string{}, Services: map[string]facts.UnitState{}}
	c := pkgmgr.New(h, opts.DNFArgs)
	osr, err := h.ReadFile("/etc/os-release")
	if err != nil {
		if osr, err = h.ReadFile("/usr/lib/os-release"); err != nil {
			return nil, fmt.Errorf("reading os-release under %s: %w (is --root the root of an installed system?)", h.Root(), err)
		}
	}
	f.Distro = facts.DistroFromOSRelease(facts.ParseOSRelease(osr))
	for _, p := range facts.TrackedFiles {
		if b, err := h.ReadFile(p); err == nil {
			f.Files[p] = string(b)
		}
	}
	if pin := strings.TrimSpace(f.Files[facts.ReleaseverFile]); pin != "" {
		f.Distro.Releasever = pin
	}
	f.Chroot = h.Root() != "/" || inChroot(h)
	if !f.Distro.Supported() {
		return f, nil // the planner refuses it, naming what is supported
	}
	// The rpm query is most of a converged plan's time: the facts that do
	// not depend on the packages are read while it runs.
	type query struct {
		pkgs []facts.Package
		err  error
	}
	installed := make(chan query, 1)
	go func() {
		pkgs, err := c.ReadInstalled(ctx, packageNames()...)
		installed <- query{pkgs, err}
	}()
	f.Repos, err = repos.ReadAll(h)
	f.SecureBoot = secureBoot(ctx, h, f.Chroot)
	f.MOK = mokState(ctx, h, f.SecureBoot)
	f.Services = unitStates(h)
	q := <-installed
	if err != nil {
		return nil, err
	}
	if q.err != nil {
		return nil, q.err
	}
	f.Packages = q.pkgs
	keepKernelRequires(f.Packages)
	f.DNF = pkgmgr.HostDNF(h, f.Packages)
	f.Arch = archOf(h, f.Packages)
	f.Kernel = kernelFacts(ctx, h, f, opts)
	f.ZFS = zfsVersions(ctx, h, f)
	bootEntries(h, &f.Kernel)
	f.Kernel.BootLoader = bootLoader(h)
	kernelModules(ctx, h, f)
	if _, ok := f.Installed("dkms"); ok {
		f.DKMS = c.DKMSStatus()
	}
	f.Pools = pools(ctx, h, f)
	if opts.QueryRepos {
		f.Available = available(ctx, c, streamQuery(f.Repos, opts.Stream))
	} else {
		f.Available = facts.Available{Reason: "repositories not queried (use --refresh to ask them)"}
	}
	if err := kernelSymbols(ctx, c, f); err != nil {
		return nil, err
	}
	return f, nil
}

// dependsOnKernel are the packages whose requirements on the kernel the
// facts keep: they decide which kernels the module fits.
var dependsOnKernel = map[string]bool{"kmod-zfs": true, "zfs-dkms": true}

// keepKernelRequires drops the requirements of packages that are not in
// dependsOnKernel.
func keepKernelRequires(pkgs []facts.Package) {
	for i := range pkgs {
		if !dependsOnKernel[pkgs[i].Name] {
			pkgs[i].Requires = nil
		}
	}
}

// kernelSymbols reads, for the installed kernels, the kABI symbols that a
// kmod-zfs in the facts (installed or offered) requires, so the planner can
// tell which kernels each kmod fits. One rpm call, and none when no kmod is
// in sight or when the installed kmod already reaches every kernel: a
// kernel whose zfs module is the installed kmod's version got it from the
// kmod itself or from weak-modules, which links a kmod into a kernel only
// when the kernel's symbol versions match (the same kABI test; weak-modules
// --add-kernel in the kernel's %posttrans).
func kernelSymbols(ctx context.Context, c *pkgmgr.Client, f *facts.Facts) error {
	want := map[string]bool{}
	for _, pkgs := range [][]facts.Package{f.Packages, f.Available.Packages} {
		for _, p := range pkgs {
			if p.Name == "kmod-zfs" {
				for sym := range backends.KmodSymbols(p.Requires) {
					want[sym] = true
				}
			}
		}
	}
	kmod, hasKmod := f.Installed("kmod-zfs")
	var read []facts.InstalledKernel
	for _, k := range f.Kernel.Installed {
		reached := hasKmod && k.Module != "" && backends.SameVersion(k.Module, kmod.Version)
		if f.Available.Known || !reached {
			read = append(read, k)
		}
	}
	if len(want) == 0 || len(read) == 0 {
		return nil
	}
	syms, err := c.KernelSymbols(ctx, read, want)
	if err != nil {
		return err
	}
	for i, k := range f.Kernel.Installed {
		if s, ok := syms[k.Release]; ok {
			f.Kernel.Installed[i].Symbols, f.Kernel.Installed[i].SymbolsRead = s, true
		}
	}
	return nil
}

// inChroot compares the root directory with init's: different inodes mean
// we run inside a chroot such as a kickstart %post.
func inChroot(h host.Host) bool {
	self, err1 := h.Stat("/")
	init, err2 := h.Stat("/proc/1/root/")
	if err1 != nil || err2 != nil {
		return false
	}
	return !sameFile(self, init)
}

func archOf(h host.Host, pkgs []facts.Package) string {
	for _, p := range pkgs {
		if strings.HasPrefix(p.Name, "kernel") && p.Arch != "noarch" {
			return p.Arch
		}
	}
	for _, p := range pkgs {
		if p.Arch != "noarch" && p.Arch != "" && p.Name != "gpg-pubkey" {
			return p.Arch
		}
	}
	// A root without kernels (a container image, an early kickstart
	// stage) may be of another architecture than the machine: ask its shell.
	if b, err := h.ReadFile("/bin/sh"); err == nil {
		if a := elfArch(b); a != "" {
			return a
		}
	}
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return runtime.GOARCH
}

func kernelFacts(ctx context.Context, h host.Host, f *facts.Facts, opts Options) facts.Kernel {
	k := facts.Kernel{Installed: facts.InstalledKernels(f.Packages)}
	k.Running = runningKernel(ctx, h)
	k.Default = defaultKernel(ctx, h)
	switch {
	case opts.Kernel != "":
		k.Target = opts.Kernel
	case opts.DefaultKernel && k.Default != "":
		k.Target = k.Default
	case f.Chroot && len(k.Installed) > 0:
		// Inside a kickstart %post or an install root, uname -r is the
		// installer's kernel: the target is the newest one in the root.
		k.Target = k.Installed[len(k.Installed)-1].Release
	default:
		k.Target = k.Running
	}
	info := catalog.ClassifyKernel(k.Target, k.Owner(k.Target))
	k.Flavor, k.Variant, k.ELMinor, k.Upstream = info.Flavor, info.Variant, info.ELMinor, info.Upstream
	return k
}

// runningKernel is the release of the kernel this machine runs: uname(2)
// where the host can say without a program (host.Real), else `uname -r`.
func runningKernel(ctx context.Context, h host.Host) string {
	if u, ok := h.(interface{ KernelRelease() (string, error) }); ok {
		if rel, err := u.KernelRelease(); err == nil {
			return rel
		}
	}
	if res, err := h.Run(ctx, host.Cmd{Argv: []string{"uname", "-r"}}); err == nil {
		return strings.TrimSpace(string(res.Stdout))
	}
	return ""
}

// defaultKernel is the next boot's kernel: from the boot loader's own files
// where they say (GRUB's saved_entry naming a Boot Loader Specification
// entry, EL8+ and Fedora; this works in a chroot or --root too), else from
// grubby on a live host.
func defaultKernel(ctx context.Context, h host.Host) string {
	if env, err := h.ReadFile("/boot/grub2/grubenv"); err == nil {
		for _, line := range strings.Split(string(env), "\n") {
			if id, ok := strings.CutPrefix(line, "saved_entry="); ok && id != "" {
				if k := blsVersion(h, "/boot/loader/entries/"+id+".conf"); k != "" {
					return k
				}
			}
		}
	}
	if h.Root() != "/" || !host.Exists(h, "/usr/sbin/grubby") {
		return ""
	}
	res, err := h.Run(ctx, host.Cmd{Argv: []string{"grubby", "--default-kernel"}})
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.TrimSpace(string(res.Stdout)), "/boot/vmlinuz-")
}

// bootLoader recognises how the host boots from its files, which works
// the same in a chroot or --root:
//   - image mode: /run/ostree-booted (what dnf's own units test to stay off
//     such hosts: ConditionPathExists=!/run/ostree-booted in
//     dnf-automatic.service) or an /ostree repository in the root;
//   - unified kernel images: layout=uki in /etc/kernel/install.conf
//     (kernel-install(8));
//   - systemd-boot: its EFI binary or loader.conf on the ESP (/boot/efi,
//     /efi or /boot mounted as the ESP);
//   - GRUB 2: grubenv or grub.cfg under /boot/grub2.
func bootLoader(h host.Host) facts.BootLoader {
	switch {
	case host.Exists(h, "/run/ostree-booted") || host.Exists(h, "/ostree/repo"):
		return facts.BootImageMode
	}
	if conf, err := h.ReadFile("/etc/kernel/install.conf"); err == nil {
		for _, line := range strings.Split(string(conf), "\n") {
			if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && strings.TrimSpace(k) == "layout" && strings.TrimSpace(v) == "uki" {
				return facts.BootUKI
			}
		}
	}
	for _, esp := range []string{"/boot/efi", "/efi", "/boot"} {
		if host.Exists(h, esp+"/loader/loader.conf") || host.Exists(h, esp+"/EFI/systemd") {
			return facts.BootSystemdBoot
		}
	}
	if host.Exists(h, "/boot/grub2/grubenv") || host.Exists(h, "/boot/grub2/grub.cfg") || host.Exists(h, "/etc/default/grub") {
		return facts.BootGRUB
	}
	return ""
}

// bootEntries marks the installed kernels a Boot Loader Specification entry
// boots.
func bootEntries(h host.Host, k *facts.Kernel) {
	entries, err := h.Glob("/boot/loader/entries/*.conf")
	if err != nil || len(entries) == 0 {
		return
	}
	booted := map[string]bool{}
	for _, e := range entries {
		booted[blsVersion(h, e)] = true
	}
	k.BootEntriesRead = true
	for i := range k.Installed {
		k.Installed[i].BootEntry = booted[k.Installed[i].Release]
	}
}

// kernelModules reads, when OpenZFS is installed, which zfs module each
// installed kernel would load (modules.dep and the module file: no program
// runs for the usual layouts).
func kernelModules(ctx context.Context, h host.Host, f *facts.Facts) {
	if f.ZFS.Userland == "" {
		return
	}
	for i, k := range f.Kernel.Installed {
		if k.Release == f.Kernel.Target {
			f.Kernel.Installed[i].Module = f.ZFS.ModuleOnDisk
			continue
		}
		f.Kernel.Installed[i].Module = backends.ModuleOnDisk(ctx, h, k.Release)
	}
}

// blsVersion reads the kernel release a BLS entry boots ("version" key, or
// the linux line's /vmlinuz-<release>).
func blsVersion(h host.Host, path string) string {
	data, err := h.ReadFile(path)
	if err != nil {
		return ""
	}
	linux := ""
	for _, line := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch k {
		case "version":
			return strings.TrimSpace(v)
		case "linux":
			linux = strings.TrimSpace(v)
		}
	}
	if i := strings.LastIndex(linux, "vmlinuz-"); i >= 0 {
		return linux[i+len("vmlinuz-"):]
	}
	return ""
}

func zfsVersions(ctx context.Context, h host.Host, f *facts.Facts) facts.ZFS {
	var z facts.ZFS
	if p, ok := f.Installed("zfs"); ok {
		// 2.2.7-1.el9 -> 2.2.7-1, as modinfo prints it.
		rel, _, _ := strings.Cut(p.Release, ".")
		z.Userland = p.Version + "-" + rel
	}
	if z.Userland != "" || f.Kernel.Target != "" {
		z.ModuleOnDisk = backends.ModuleOnDisk(ctx, h, f.Kernel.Target)
	}
	if h.Root() == "/" {
		if b, err := h.ReadFile("/sys/module/zfs/version"); err == nil {
			z.ModuleLoaded = strings.TrimSpace(string(b))
		}
	}
	if _, ok := f.Installed("zfs-dracut"); ok {
		z.InInitramfs = inInitramfs(ctx, h, f.Kernel.Target)
	}
	z.RootOnZFS = rootOnZFS(h)
	z.HostID = host.Exists(h, "/etc/hostid")
	return z
}

// rootOnZFS says whether / is on ZFS: on a live host from the mount table,
// else (a chroot, an install root) from the kernel command line the boot
// entries use (root=ZFS=pool/dataset, zfs-dracut's syntax).
func rootOnZFS(h host.Host) bool {
	if h.Root() == "/" {
		if m, err := h.ReadFile("/proc/self/mounts"); err == nil {
			for _, line := range strings.Split(string(m), "\n") {
				if f := strings.Fields(line); len(f) >= 3 && f[1] == "/" && f[2] == "zfs" {
					return true
				}
			}
		}
	}
	for _, p := range []string{"/etc/kernel/cmdline", "/etc/default/grub"} {
		if b, err := h.ReadFile(p); err == nil && strings.Contains(string(b), "root=ZFS=") {
			return true
		}
	}
	return false
}

const secureBootVar = "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"

// secureBoot reads the EFI variable (4 bytes of attributes, then the value);
// mokutil is asked only where the variable is not readable.
func secureBoot(ctx context.Context, h host.Host, chroot bool) facts.SecureBoot {
	if b, err := h.ReadFile(secureBootVar); err == nil && len(b) >= 5 {
		if b[4] == 1 {
			return facts.SecureBootEnabled
		}
		return facts.SecureBootDisabled
	}
	if h.Root() != "/" {
		return facts.SecureBootUnknown
	}
	if !chroot && !host.Exists(h, "/sys/firmware/efi") {
		return facts.SecureBootDisabled // legacy BIOS boot: no Secure Boot
	}
	if host.Exists(h, "/usr/bin/mokutil") {
		res, _ := h.Run(ctx, host.Cmd{Argv: []string{"mokutil", "--sb-state"}})
		out := string(res.Stdout)
		switch {
		case strings.Contains(out, "SecureBoot enabled"):
			return facts.SecureBootEnabled
		case strings.Contains(out, "SecureBoot disabled"):
			return facts.SecureBootDisabled
		}
	}
	return facts.SecureBootUnknown
}

// mokState asks mokutil whether DKMS's signing key is enrolled; only with
// Secure Boot on and the key present (DKMS makes it at its first build).
func mokState(ctx context.Context, h host.Host, sb facts.SecureBoot) facts.MOKState {
	if sb != facts.SecureBootEnabled || !host.Exists(h, "/var/lib/dkms/mok.pub") {
		return ""
	}
	res, _ := h.Run(ctx, host.Cmd{Argv: host.InRoot(h, "mokutil", "--test-key", "/var/lib/dkms/mok.pub")})
	out := string(res.Stdout) + string(res.Stderr)
	switch {
	case strings.Contains(out, "is already enrolled"):
		return facts.MOKEnrolled
	case strings.Contains(out, "is not enrolled"):
		return facts.MOKNotEnrolled
	}
	return ""
}

// unitStates reads enablement from the unit symlinks, so it works the same
// on a live host, in a chroot and in an install root.
func unitStates(h host.Host) map[string]facts.UnitState {
	// Every managed unit's name starts with "zfs": four directory reads
	// answer for all of them (a unit file in any unit directory; a wants
	// link in any *.wants directory).
	present, enabled := map[string]bool{}, map[string]bool{}
	for _, dir := range []string{"/usr/lib/systemd/system/", "/lib/systemd/system/", "/etc/systemd/system/"} {
		files, _ := h.Glob(dir + "zfs*")
		for _, f := range files {
			present[path.Base(f)] = true
		}
	}
	links, _ := h.Glob("/etc/systemd/system/*.wants/zfs*")
	for _, l := range links {
		enabled[path.Base(l)] = true
	}
	out := map[string]facts.UnitState{}
	for _, u := range facts.ManagedUnits {
		switch {
		case enabled[u]:
			out[u] = facts.UnitEnabled
		case present[u]:
			out[u] = facts.UnitDisabled
		default:
			out[u] = facts.UnitMissing
		}
	}
	return out
}

// pools lists imported pools: only meaningful on a live host with the module loaded.
func pools(ctx context.Context, h host.Host, f *facts.Facts) []string {
	if h.Root() != "/" || f.ZFS.ModuleLoaded == "" {
		return nil
	}
	res, err := h.Run(ctx, host.Cmd{Argv: []string{"zpool", "list", "-H", "-o", "name"}})
	if err != nil {
		return nil
	}
	out := []string{}
	for _, l := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// AvailableNames are the packages whose offered versions the planner uses.
var AvailableNames = []string{
	"zfs", "zfs-dkms", "kmod-zfs", "dkms", "epel-release",
	"kernel-devel", "kernel-lt-devel", "kernel-ml-devel", "kernel-uek-devel", "kernel-rt-devel", "kernel-debug-devel", "kernel-64k-devel",
}

// streamQuery is a query that sees the two OpenZFS sections of stream
// (repos.StreamSections) that zfs.repo defines, and none of its others.
func streamQuery(list []facts.Repo, stream string) pkgmgr.Query {
	q := pkgmgr.Query{Refresh: true}
	want := repos.StreamSections(stream)
	for _, r := range list {
		if r.File != repos.ZFSRepoPath {
			continue
		}
		switch {
		case slices.Contains(want, r.ID):
			q.Enable = append(q.Enable, r.ID)
		case r.Enabled:
			q.Disable = append(q.Disable, r.ID)
		}
	}
	return q
}

func available(ctx context.Context, c *pkgmgr.Client, q pkgmgr.Query) facts.Available {
	pkgs, err := c.Offered(ctx, q, AvailableNames...)
	if err != nil {
		reason := err.Error()
		var ce *host.CmdError
		if errors.As(err, &ce) {
			reason = "dnf repoquery failed: " + host.Tail(ce.Stderr, 3)
		}
		return facts.Available{Reason: reason}
	}
	keepKernelRequires(pkgs)
	return facts.Available{Known: true, Packages: pkgs}
}

// elfArch names the architecture of an ELF binary from its e_machine field.
func elfArch(b []byte) string {
	if len(b) < 20 || string(b[:4]) != "\x7fELF" {
		return ""
	}
	little := b[5] == 1
	m := uint16(b[18])<<8 | uint16(b[19])
	if little {
		m = uint16(b[19])<<8 | uint16(b[18])
	}
	switch m {
	case 62:
		return "x86_64"
	case 183:
		return "aarch64"
	case 22:
		return "s390x"
	case 21:
		if little {
			return "ppc64le"
		}
		return "ppc64"
	case 243:
		return "riscv64"
	}
	return ""
}

// inInitramfs asks lsinitrd whether the target kernel's initramfs carries
// the zfs dracut module; where lsinitrd cannot tell, zfs-dracut being
// installed is taken as yes (that is what it is for).
func inInitramfs(ctx context.Context, h host.Host, kver string) bool {
	res, err := h.Run(ctx, host.Cmd{Argv: host.InRoot(h, "lsinitrd", "-m", "/boot/initramfs-"+kver+".img")})
	if err != nil {
		return true
	}
	for _, l := range strings.Split(string(res.Stdout), "\n") {
		if strings.TrimSpace(l) == "zfs" {
			return true
		}
	}
	return false
}
