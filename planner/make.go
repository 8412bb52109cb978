package planner

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/backends/dkms"
	"github.com/zfsinstall/zfsinstall/backends/kmod"
	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/repos"
	"github.com/zfsinstall/zfsinstall/spec"
)

// Options are planning inputs that come from the command line, not the spec.
type Options struct {
	// Kernel overrides the spec's kernel.target (plan --kernel RELEASE).
	Kernel string
	// ReleaseKey replaces the pinned OpenZFS key (--release-key: private
	// mirrors that re-sign, test beds). Nil: the pinned key for the host.
	ReleaseKey *repos.Key
	// ReleaseCheck is the outcome of verifying the zfs-release package
	// before planning (nil: not checked, e.g. the URL was not reachable).
	ReleaseCheck *ReleaseCheck
}

// ReleaseCheck is what verifying the zfs-release package at plan time found.
type ReleaseCheck struct {
	Info repos.ReleaseInfo
	Err  error
}

// Transactions, in the order apply runs them.
const (
	txnRelease  = 1 // zfs-release (+ epel-release): repos must exist before anything is installed from them
	txnPackages = 2 // kernel-devel, dkms, zfs and its module, removal of the other packaging
)

const (
	repoFile        = "/etc/yum.repos.d/zfs.repo"
	modulesLoadFile = "/etc/modules-load.d/zfs.conf"
	modprobeFile    = "/etc/modprobe.d/zfs.conf"
	managedHeader   = "# Managed by zfsinstall from the host spec; local edits are replaced on the next apply.\n"
)

// planner carries one planning run.
type planner struct {
	s    *spec.Spec
	f    *facts.Facts
	opts Options
	p    *Plan
	b    backends.Backend
	// kernels are the target kernels, classified.
	kernels []catalog.KernelInfo
}

// Make plans the changes that bring the host described by f to spec s.
func Make(s *spec.Spec, f *facts.Facts, opts Options) *Plan {
	pl := &planner{s: s, f: f, opts: opts, p: &Plan{FormatVersion: FormatVersion, Steps: []Step{}, Diagnostics: []Diagnostic{}, FactsDigest: Digest(f)}}
	pl.p.AllowKnownBad = s.ZFS.AllowKnownBad
	pl.p.AllowDowngrade = s.ZFS.AllowDowngrade
	pl.plan()
	return pl.p
}

func (pl *planner) errorf(attr, summary, detail string, args ...any) {
	pl.diag("error", attr, summary, fmt.Sprintf(detail, args...))
}

func (pl *planner) warnf(attr, summary, detail string, args ...any) {
	pl.diag("warning", attr, summary, fmt.Sprintf(detail, args...))
}

func (pl *planner) diag(sev, attr, summary, detail string) {
	d := Diagnostic{Severity: sev, Summary: summary, Detail: detail, Attribute: attr}
	if r, ok := pl.s.Ranges[attr]; ok && attr != "" {
		r := r
		d.Range = &r
	}
	pl.p.Diagnostics = append(pl.p.Diagnostics, d)
}

func (pl *planner) note(format string, args ...any) {
	pl.p.Notes = append(pl.p.Notes, fmt.Sprintf(format, args...))
}

func (pl *planner) add(s Step) { pl.p.Steps = append(pl.p.Steps, s) }

func (pl *planner) plan() {
	d := pl.f.Distro
	if !d.Supported() {
		name := d.Name
		if name == "" {
			name = d.ID + " " + d.VersionID
		}
		pl.errorf("", "unsupported distribution: "+name,
			"zfsinstall manages OpenZFS on Enterprise Linux 7-10 (RHEL, Rocky Linux, AlmaLinux, Oracle Linux, CentOS Stream) and Fedora; "+
				"this host's /etc/os-release says ID=%q VERSION_ID=%q. On other distributions use their own OpenZFS packages.", d.ID, d.VersionID)
		return
	}
	if _, ok := pl.f.Installed("dnf"); d.Major == 7 && !ok {
		pl.errorf("", "EL7 without dnf",
			"zfsinstall drives dnf, and EL %s ships yum. Install dnf from the extras repository first (yum install dnf dnf-plugins-core), then plan again; it uses zfs-release 2-3, the last release package for EL7. (EL7 is past the end of its maintenance; moving the host to EL8 or later is the lasting way out.)", d.VersionID)
		return
	}
	if !pl.targets() {
		return
	}
	pl.choosePackaging()
	if pl.p.HasErrors() {
		return
	}
	pl.preflight()
	pl.advisories()
	pl.releasever()
	pl.release()
	pl.epel()
	pl.repoSections()
	pl.packages()
	pl.dkmsBuilds()
	pl.mok()
	pl.initramfs()
	pl.checkOptions()
	pl.files()
	pl.services()
	pl.module()
	if pl.p.HasErrors() {
		pl.p.Steps = []Step{}
	}
}

// targets resolves the kernels the module must work on.
func (pl *planner) targets() bool {
	k := pl.f.Kernel
	want := pl.s.Kernel.Target
	if pl.opts.Kernel != "" {
		want = pl.opts.Kernel
	}
	var rels []string
	switch want {
	case "", "running":
		if pl.f.Chroot && len(k.Installed) == 0 && pl.opts.Kernel == "" && k.Target == k.Running {
			pl.errorf("kernel.target", "no kernel installed in "+pl.f.Root,
				"inside a chroot or --root the target is the newest kernel in the root's rpm database, and there is none (`uname -r` here is %s, the machine's own kernel, not the one the root boots). Install a kernel in the root first, or name the target with --kernel RELEASE or kernel.target.", k.Running)
			return false
		}
		rels = []string{k.Target}
	case "default":
		if k.Default == "" {
			pl.warnf("kernel.target", "next boot's kernel unknown",
				"kernel.target = \"default\" but the default kernel could not be read (no grubby); planning for %s instead.", k.Target)
			rels = []string{k.Target}
		} else {
			rels = []string{k.Default}
		}
	case "all":
		for _, ik := range k.Installed {
			rels = append(rels, ik.Release)
		}
	default:
		rels = []string{want}
	}
	if len(rels) == 0 || rels[0] == "" {
		pl.errorf("kernel.target", "no target kernel",
			"no kernel is installed under %s and `uname -r` gave nothing; install a kernel first or name one with --kernel RELEASE.", pl.f.Root)
		return false
	}
	for _, r := range rels {
		pl.kernels = append(pl.kernels, catalog.ClassifyKernel(r, pl.f.Kernel.Owner(r)))
	}
	pl.p.TargetKernel = rels[0]
	if len(rels) > 1 {
		pl.p.TargetKernels = rels
	}
	return true
}

// choosePackaging picks DKMS or kmod and says why.
func (pl *planner) choosePackaging() {
	d := pl.f.Distro
	km, dk := kmod.Backend{}, dkms.Backend{}
	var unsupported []string
	for _, k := range pl.kernels {
		if ok, why := km.Supports(d, k); !ok {
			unsupported = append(unsupported, why)
		} else if why, ok := pl.kmodPublished(k); !ok {
			unsupported = append(unsupported, why)
		}
	}
	switch pl.s.ZFS.Packaging {
	case "kmod":
		if len(unsupported) > 0 {
			way := "or keep booting a kernel of a minor release that has a kmod until OpenZFS publishes one"
			for _, k := range pl.kernels {
				if k.Flavor != "stock" || k.Variant != "" {
					way = "or boot a distribution kernel"
				}
			}
			pl.errorf("zfs.packaging", "kmod packaging cannot work on this host",
				"%s. Use packaging = \"dkms\" (or \"auto\"), %s.", strings.Join(unsupported, "; "), way)
			return
		}
		pl.b = km
		pl.p.PackagingReason = "packaging = \"kmod\" in the spec; " + lastReason(km, d, pl.kernels)
	case "dkms":
		pl.b = dk
		pl.p.PackagingReason = "packaging = \"dkms\" in the spec: the module is built on this host for each target kernel against its exact kernel-devel"
	default:
		if len(unsupported) > 0 {
			pl.b = dk
			pl.p.PackagingReason = "auto: " + unsupported[0] + "; DKMS builds the module on this host against the kernel's exact kernel-devel instead"
		} else {
			pl.b = km
			pl.p.PackagingReason = "auto: " + lastReason(km, d, pl.kernels)
		}
	}
	pl.p.Packaging = pl.b.Name()
	if pl.b.Name() == "dkms" && !pl.s.Kernel.Devel {
		pl.errorf("kernel.devel", "DKMS needs kernel-devel",
			"kernel.devel = false, but DKMS compiles the module against the target kernel's headers (kernel-devel of exactly %s). Remove devel = false or use packaging = \"kmod\" on a stock kernel.", pl.p.TargetKernel)
	}
	if pl.f.SecureBoot == "enabled" {
		if pl.b.Name() == "kmod" {
			pl.warnf("zfs.packaging", "Secure Boot is enabled and kmod-zfs is not signed for this host",
				"the published kmod-zfs modules are not signed with a key this host trusts, so loading them fails with \"Key was rejected by service\". Use packaging = \"dkms\" (DKMS signs with its own MOK key) or enrol the signing key yourself.")
		}
	}
}

// candidate is the OpenZFS version dnf would install: the pinned one, or
// the newest the repositories offer within the constraint ("" = unknown
// until apply asks the repositories).
func (pl *planner) candidate() string {
	if v := exactVersion(pl.s); v != "" {
		return v
	}
	if !pl.f.Available.Known {
		return ""
	}
	best := ""
	for _, p := range pl.f.Available.Packages {
		if p.Name != pl.b.ModulePackage() || (pl.s.ZFS.Constraint != nil && !pl.s.ZFS.Constraint.Check(mustVersion(p.Version))) {
			continue
		}
		if best == "" || facts.ComparePackages(facts.Package{Version: p.Version}, facts.Package{Version: best}) > 0 {
			best = p.Version
		}
	}
	return best
}

// preflight refuses, before anything is installed, an OpenZFS release that
// cannot build on a target kernel. Where the candidate is not known yet
// apply runs the same check once the repositories have answered.
func (pl *planner) preflight() {
	if pl.b.Name() != "dkms" {
		return
	}
	v := pl.candidate()
	if v == "" {
		return
	}
	attr := "zfs.repo"
	if exactVersion(pl.s) != "" {
		attr = "zfs.version"
	}
	for _, k := range pl.kernels {
		if err := backends.CheckKernel(v, k, pl.s.ZFS.Constraint); err != nil {
			pl.errorf(attr, "OpenZFS "+v+" cannot be built for kernel "+k.Release, "%v.", err)
		}
	}
}

func lastReason(b backends.Backend, d facts.Distro, ks []catalog.KernelInfo) string {
	var why []string
	for _, k := range ks {
		_, w := b.Supports(d, k)
		why = append(why, w)
	}
	return strings.Join(why, "; ")
}

// releasever warns about a $releasever pinned to a minor release, which
// breaks the OpenZFS key path and repo URLs.
func (pl *planner) releasever() {
	d := pl.f.Distro
	if d.Family == "el" && strings.Contains(d.Releasever, ".") {
		pl.errorf("", "$releasever is pinned to "+d.Releasever,
			"/etc/dnf/vars/releasever says %q, so zfs.repo points at .../epel/%s/... and at /etc/pki/rpm-gpg/RPM-GPG-KEY-openzfs-el-%s, neither of which exists. "+
				"Remove the pin (rm /etc/dnf/vars/releasever) or, if the minor pin is deliberate for the OS repos, pin it in those repo files instead.", d.Releasever, d.Releasever, d.Releasever)
	}
}

// release plans the zfs-release package and its key.
func (pl *planner) release() {
	key, err := repos.KeyFor(pl.f.Distro)
	if err != nil {
		pl.errorf("", "no OpenZFS signing key for this distribution", "%v", err)
		return
	}
	if pl.opts.ReleaseKey != nil {
		key = *pl.opts.ReleaseKey
		pl.note("zfs-release is verified against the key given with --release-key (%s, %s), not the pinned OpenZFS keys.", key.Name, key.Fingerprint)
	}
	if _, ok := pl.f.Installed("zfs-release"); !ok {
		src := pl.s.ZFS.ReleaseRPM
		if src == "" {
			if src, err = repos.ReleaseURL(pl.f.Distro); err != nil {
				pl.errorf("zfs.release_rpm", "no zfs-release package for this distribution", "%v", err)
				return
			}
		}
		st := Step{ID: "release.zfs-release", Action: Create, Kind: KindRelease, Txn: txnRelease,
			Summary: "install zfs-release from " + src,
			Reason: fmt.Sprintf("zfs-release provides %s and the OpenZFS signing keys; it is verified against the pinned %s (%s) before it is installed, and the key is imported into the rpm database so dnf checks every ZFS package it signs",
				repoFile, key.Name, key.Fingerprint),
			Package: src, Key: key.Name}
		switch c := pl.opts.ReleaseCheck; {
		case c == nil:
			st.Reason += "; not verified yet (not reachable now): apply fetches and verifies it before anything is installed"
		case c.Err != nil:
			pl.errorf("zfs.release_rpm", "zfs-release refused", "%v", c.Err)
			return
		default:
			st.Summary = fmt.Sprintf("install %s-%s-%s.%s from %s", c.Info.Name, c.Info.Version, c.Info.Release, c.Info.Arch, src)
			st.Reason += fmt.Sprintf("; verified now: signed by %s, sha256 %s, and apply installs only a file with that digest", c.Info.SignedBy, c.Info.SHA256)
			st.Content = c.Info.SHA256
		}
		pl.add(st)
		return
	}
	if !pl.keyImported(key) {
		pl.add(Step{ID: "key." + key.Name, Action: Create, Kind: KindKey,
			Summary: "import " + key.Name + " into the rpm database",
			Reason:  fmt.Sprintf("zfs-release is installed but its key (%s) is not in the rpm database; EL8+ do not import it automatically, and zfsinstall never turns GPG checks off", key.Fingerprint),
			Key:     key.Name, Path: "/etc/pki/rpm-gpg/" + key.Name})
	}
	if _, ok := pl.f.Files[repoFile+".rpmnew"]; ok {
		pl.note("%s.rpmnew exists: an upgrade of zfs-release shipped a new repo file that rpm did not apply because zfs.repo had been edited. zfsinstall manages the sections of zfs.repo; compare the two files and merge new sections by hand.", repoFile)
	}
}

// keyImported looks for the gpg-pubkey package named by the key's short ID.
func (pl *planner) keyImported(k repos.Key) bool {
	for _, p := range pl.f.Packages {
		if p.Name == "gpg-pubkey" && p.Version == k.ShortID() {
			return true
		}
	}
	return false
}

// defaultSections is the section layout of zfs-release 3-0, used to plan
// section changes before the package is installed; apply works on the file
// actually installed.
func defaultSections(d facts.Distro, branch string) []repos.Section {
	ids := []string{"zfs", "zfs-source", "zfs-testing", "zfs-testing-source", "zfs-latest", "zfs-latest-source", "zfs-legacy", "zfs-legacy-source"}
	if d.Family == "el" {
		ids = append(ids, "zfs-kmod", "zfs-testing-kmod", "zfs-latest-kmod", "zfs-legacy-kmod")
	}
	if branch != "" && branch != "default" && branch != "latest" && branch != "legacy" {
		ids = append(ids, "zfs-"+branch, "zfs-"+branch+"-source")
		if d.Family == "el" {
			ids = append(ids, "zfs-"+branch+"-kmod")
		}
	}
	secs := make([]repos.Section, len(ids))
	for i, id := range ids {
		secs[i] = repos.Section{ID: id, Enabled: id == "zfs", HasEnabledLine: true}
	}
	return secs
}

// epel plans EPEL, which DKMS needs for dkms itself; it is installed in
// the same transaction as zfs-release.
func (pl *planner) epel() {
	if pl.b.NeedsEPEL() && pl.f.Distro.Family == "el" {
		if _, ok := pl.f.Installed("epel-release"); !ok && !pl.enabledRepo("epel") {
			why := "dkms is packaged in EPEL, not in the distribution's repositories"
			if pl.f.Distro.ID == "rhel" {
				why += fmt.Sprintf("; on RHEL some EPEL packages also need CodeReady Builder: subscription-manager repos --enable codeready-builder-for-rhel-%d-%s-rpms", pl.f.Distro.Major, pl.f.Arch)
			}
			pl.add(Step{ID: "package.epel-release", Action: Create, Kind: KindPackage, Txn: txnRelease,
				Summary: "install epel-release", Reason: why, Package: "epel-release"})
		}
	}
}

// repoSections plans zfs.repo so that exactly the wanted section is enabled.
func (pl *planner) repoSections() {
	var secs []repos.Section
	for _, r := range pl.f.Repos {
		if r.File == repoFile {
			secs = append(secs, repos.Section{ID: r.ID, Enabled: r.Enabled, HasEnabledLine: true, BaseURL: r.BaseURL, GPGKey: r.GPGKey, Exclude: r.Exclude, Include: r.Include})
		}
	}
	if len(secs) == 0 {
		secs = defaultSections(pl.f.Distro, pl.s.ZFS.Repo)
	}
	want, err := repos.Wanted(secs, pl.s.ZFS.Repo, pl.b.KmodRepos())
	if err != nil {
		pl.errorf("zfs.repo", "cannot choose the zfs.repo section", "%v", err)
		return
	}
	for _, sec := range secs {
		w, ok := want[sec.ID]
		if ok && w {
			pl.hold(sec)
		} else if ok && isHold(sec.Include) {
			pl.add(Step{ID: "hold." + sec.ID, Action: Delete, Kind: KindHold, Path: repoFile, Section: sec.ID,
				Summary: fmt.Sprintf("repo %s: remove includepkgs=%s", sec.ID, sec.Include), Before: sec.Include,
				Reason: "zfsinstall held the version here; this section is no longer the one in use"})
		}
		if !ok || w == sec.Enabled {
			continue
		}
		pl.add(Step{ID: "repo." + sec.ID, Action: Update, Kind: KindRepo,
			Summary: fmt.Sprintf("repo %s: enabled %s -> %s", sec.ID, b01(sec.Enabled), b01(w)),
			Reason:  pl.sectionReason(sec.ID, w),
			Path:    repoFile, Section: sec.ID, Enabled: w,
			Before: "enabled=" + b01(sec.Enabled), After: "enabled=" + b01(w)})
	}
}

func (pl *planner) sectionReason(id string, enabled bool) string {
	kind := "DKMS"
	if pl.b.KmodRepos() {
		kind = "kmod"
	}
	branch := pl.s.ZFS.Repo
	if enabled {
		return fmt.Sprintf("%s packages for repo = %q come from [%s]; exactly one OpenZFS section is enabled so dnf cannot mix builds", kind, branch, id)
	}
	return fmt.Sprintf("only one OpenZFS section may be enabled (packaging %s, repo = %q); [%s] would offer a second, different build", pl.b.Name(), branch, id)
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// develPackage names the kernel-devel package matching kernel k.
func develPackage(k catalog.KernelInfo) string {
	name := "kernel-devel"
	switch k.Flavor {
	case "elrepo-lt":
		name = "kernel-lt-devel"
	case "elrepo-ml":
		name = "kernel-ml-devel"
	case "uek":
		name = "kernel-uek-devel"
	}
	switch k.Variant {
	case "rt":
		name = "kernel-rt-devel"
	case "debug":
		name = "kernel-debug-devel"
	case "64k":
		name = "kernel-64k-devel"
	}
	return name
}

// DevelNVRA is the exact kernel-devel package for kernel release kver.
func DevelNVRA(k catalog.KernelInfo) string {
	rel := k.Release
	if i := strings.IndexByte(rel, '+'); i >= 0 {
		rel = rel[:i]
	}
	return develPackage(k) + "-" + rel
}

func (pl *planner) installed(nvra string) bool {
	for _, p := range pl.f.Packages {
		if p.NVRA() == nvra {
			return true
		}
	}
	return false
}

func (pl *planner) hasRepo(id string) bool {
	for _, r := range pl.f.Repos {
		if r.ID == id {
			return true
		}
	}
	return false
}

func (pl *planner) enabledRepo(id string) bool {
	for _, r := range pl.f.Repos {
		if r.ID == id && r.Enabled {
			return true
		}
	}
	return false
}

// packages plans the package transactions.
func (pl *planner) packages() {
	needDevel := pl.b.NeedsDevel()
	if !needDevel {
		_, written := pl.s.Ranges["kernel.devel"]
		needDevel = written && pl.s.Kernel.Devel
	}
	if needDevel {
		for _, k := range pl.kernels {
			nvra := DevelNVRA(k)
			if pl.installed(nvra) {
				continue
			}
			st := Step{ID: "package." + nvra, Action: Create, Kind: KindPackage, Txn: txnPackages,
				Summary: "install " + nvra,
				Reason:  fmt.Sprintf("provides kernel-devel-uname-r = %s: DKMS must build against exactly the target kernel's headers, not the newest kernel-devel", k.Release),
				Package: nvra}
			if !pl.b.NeedsDevel() {
				st.Reason = fmt.Sprintf("kernel.devel = true: headers of exactly the target kernel %s", k.Release)
			}
			if strings.HasPrefix(k.Flavor, "elrepo") {
				if !pl.hasRepo("elrepo-kernel") {
					pl.errorf("kernel.target", "no elrepo-kernel repository for "+nvra,
						"kernel %s is an ELRepo kernel; its headers (%s) come from ELRepo's elrepo-kernel repository, which no file in /etc/yum.repos.d defines. Install elrepo-release (dnf install https://www.elrepo.org/elrepo-release-%d.el%d.elrepo.noarch.rpm) and plan again.",
						k.Release, nvra, pl.f.Distro.Major, pl.f.Distro.Major)
					continue
				}
				st.EnableRepos = []string{"elrepo-kernel"}
				st.Reason += "; ELRepo keeps it in elrepo-kernel, enabled for this transaction only (--enablerepo=elrepo-kernel), never left enabled"
			}
			pl.add(st)
		}
	}
	pl.develOffered()
	if pl.b.Name() == "dkms" {
		pl.develMatched()
		if _, ok := pl.f.Installed("dkms"); !ok {
			pl.add(Step{ID: "package.dkms", Action: Create, Kind: KindPackage, Txn: txnPackages,
				Summary: "install dkms", Reason: "zfs-dkms hands the module source to dkms, which builds it for each kernel", Package: "dkms"})
		}
	}
	pl.zfsPackages()
}

// zfsPackages plans userland and module packages and the removal of the
// other packaging, all in one transaction.
func (pl *planner) zfsPackages() {
	c := pl.s.ZFS.Version
	verSuffix := ""
	if exact := exactVersion(pl.s); exact != "" {
		verSuffix = "-" + exact
	}
	for _, name := range []string{"zfs", pl.b.ModulePackage()} {
		p, ok := pl.f.Installed(name)
		if ok && (pl.s.ZFS.Constraint == nil || pl.s.ZFS.Constraint.Check(mustVersion(p.Version))) {
			continue
		}
		st := Step{ID: "package." + name, Action: Create, Kind: KindPackage, Txn: txnPackages,
			Package: name + verSuffix, Constraint: c}
		desc := name
		if c != "" {
			desc += " " + c
		}
		switch {
		case ok && pl.downgrade(p.Version):
			if !pl.s.ZFS.AllowDowngrade {
				pl.errorf("zfs.version", fmt.Sprintf("zfs.version = %q would downgrade %s from %s", c, name, p.Version),
					"every release zfs.version allows is older than the installed %s %s. A downgrade steps the module and userland back, and pools whose newer features were enabled may not import with the older module. Widen zfs.version to include %s, or set allow_downgrade = true in the zfs block if the downgrade is intended.", name, p.Version, p.Version)
				return
			}
			st.Action = Update
			st.Before = p.Version
			st.Summary = fmt.Sprintf("downgrade %s %s -> %s", name, p.EVR(), orAny(c))
			st.Reason = fmt.Sprintf("installed %s %s is newer than zfs.version = %q allows; allow_downgrade = true", name, p.Version, c)
		case ok:
			st.Action = Update
			st.Before = p.Version
			st.Summary = fmt.Sprintf("update %s %s -> %s", name, p.EVR(), orAny(c))
			st.Reason = fmt.Sprintf("installed %s %s does not satisfy zfs.version = %q", name, p.Version, c)
		case name == "zfs":
			st.Summary = "install " + desc
			st.Reason = "the OpenZFS userland (zfs, zpool, libzfs); its version must equal the kernel module's"
		default:
			st.Summary = "install " + desc
			if pl.b.Name() == "dkms" {
				st.Reason = "the module source, built by dkms for each target kernel"
			} else {
				st.Reason = "the kABI-tracking module prebuilt for EL " + pl.kernels[0].ELMinor
			}
		}
		pl.add(st)
	}
	other := backends.Other(pl.b)
	if p, ok := pl.f.Installed(other); ok {
		why := fmt.Sprintf("kmod-zfs declares Conflicts: zfs-dkms and both must never be installed; removed in the same transaction that installs %s so the host is never left without a module package", pl.b.ModulePackage())
		if !pl.stepFor("package." + pl.b.ModulePackage()) {
			why = fmt.Sprintf("both zfs-dkms and kmod-zfs are installed (kmod-zfs declares Conflicts: zfs-dkms); packaging is %s, so %s goes and %s keeps providing the module", pl.b.Name(), other, pl.b.ModulePackage())
		}
		pl.add(Step{ID: "package." + other, Action: Delete, Kind: KindPackage, Txn: txnPackages,
			Summary: "remove " + other + "-" + p.EVR(), Reason: why, Package: other})
	}
}

func orAny(c string) string {
	if c == "" {
		return "newest"
	}
	return c
}

// exactVersion returns the version when zfs.version pins one ("2.2.7" or "= 2.2.7").
func exactVersion(s *spec.Spec) string {
	v := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s.ZFS.Version), "="))
	if v == "" || strings.ContainsAny(v, "<>~!,= ") {
		return ""
	}
	return v
}

// dkmsBuilds plans one dkms install per target kernel.
func (pl *planner) dkmsBuilds() {
	if pl.b.Name() != "dkms" {
		return
	}
	ver := ""
	if p, ok := pl.f.Installed("zfs-dkms"); ok && !pl.stepFor("package.zfs-dkms") {
		ver = p.Version
	}
	for _, k := range pl.kernels {
		if ver != "" && pl.dkmsInstalled(ver, k.Release) {
			continue
		}
		shown := ver
		if shown == "" {
			shown = "(version installed above)"
		}
		pl.add(Step{ID: "dkms." + k.Release, Action: Create, Kind: KindDKMS,
			Summary: fmt.Sprintf("dkms install zfs %s for %s", shown, k.Release),
			Reason:  fmt.Sprintf("builds and installs the module for %s explicitly (-k), so the build is for the target kernel, not the kernel this command runs on; verified with modinfo afterwards", k.Release),
			Kernel:  k.Release, Version: ver})
	}
}

func (pl *planner) stepFor(id string) bool {
	for _, s := range pl.p.Steps {
		if s.ID == id {
			return true
		}
	}
	return false
}

func (pl *planner) dkmsInstalled(ver, kver string) bool {
	for _, e := range pl.f.DKMS {
		if e.Module == "zfs" && e.Version == ver && e.Kernel == kver && e.State == "installed" {
			return true
		}
	}
	return false
}

// ModulesLoadContent is /etc/modules-load.d/zfs.conf as zfsinstall writes it.
func ModulesLoadContent() string { return managedHeader + "zfs\n" }

// ModprobeContent is /etc/modprobe.d/zfs.conf for the given options, sorted:
// `options zfs NAME=VALUE`, or `options spl` for the spl module's own
// parameters (spl_kmem_cache_*, spl_taskq_*), which the zfs module rejects.
func ModprobeContent(opts map[string]string) string {
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(managedHeader)
	for _, k := range keys {
		module := "zfs"
		if _, ok := catalog.LookupSPLParam(k); ok {
			module = "spl"
		}
		fmt.Fprintf(&b, "options %s %s=%s\n", module, k, opts[k])
	}
	return b.String()
}

// checkOptions warns about module option names the OpenZFS documentation
// does not know: the module ignores an unknown parameter at load with only
// a kernel log line, so a typo would silently do nothing.
func (pl *planner) checkOptions() {
	names := make([]string, 0, len(pl.s.Module.Options))
	for k := range pl.s.Module.Options {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if _, ok := catalog.LookupModuleParam(k); ok {
			continue
		}
		if _, ok := catalog.LookupSPLParam(k); ok {
			continue
		}
		hint := ""
		if sug := catalog.SuggestModuleParam(k); len(sug) > 0 {
			hint = " Did you mean " + strings.Join(sug, " or ") + "?"
		}
		pl.warnf("module.options."+k, "unknown zfs module parameter "+k,
			"%s is not a parameter documented in OpenZFS's zfs(4) or spl(4); it is written as asked, but the module ignores unknown parameters (a line in the kernel log), so a typo silently does nothing.%s", k, hint)
	}
}

// Files zfsinstall installs for day-2 operation.
const (
	SpecCopyFile     = "/etc/zfsinstall/host.hcl"
	VerifyUnit       = "zfsinstall-verify.service"
	VerifyUnitFile   = "/etc/systemd/system/" + VerifyUnit
	GuardHookFile    = "/etc/kernel/install.d/85-zfsinstall-guard.install"
	NeedsRestartFile = "/etc/dnf/plugins/needs-restarting.d/zfs.conf"
	// Binary is where the units and hooks expect zfsinstall.
	Binary = "/usr/local/sbin/zfsinstall"
)

// files plans the module autoload and options files, and the files that
// keep ZFS working after day one.
func (pl *planner) files() {
	pl.file(modulesLoadFile, pl.s.Module.Autoload, ModulesLoadContent(),
		"loads zfs at boot through systemd-modules-load (module.autoload)", 0)
	pl.file(modprobeFile, len(pl.s.Module.Options) > 0, ModprobeContent(pl.s.Module.Options),
		"module options from module.options, applied whenever the module loads", 0)
	pl.file(NeedsRestartFile, true, managedHeader+"zfs\nkmod-zfs\nzfs-dkms\n",
		"`dnf needs-restarting -r` then reports that a reboot is needed after an update of the ZFS module or userland, as it does for the kernel: the new module only loads at the next boot (or reload)", 0)
	verify := pl.s.Services.VerifyOnBoot
	pl.file(SpecCopyFile, verify, pl.s.Source,
		"a copy of the host spec for `zfsinstall verify` at boot (services.verify_on_boot)", 0o600)
	pl.file(VerifyUnitFile, verify, VerifyUnitContent(),
		"runs `zfsinstall verify` once at boot, after zfs.target, and leaves the result in the journal (`journalctl -u "+VerifyUnit+"`): for hosts installed from kickstart, where the module could not be loaded at install time (services.verify_on_boot); it expects zfsinstall at "+Binary, 0)
	pl.file(GuardHookFile, pl.s.Guard.Enabled, GuardHookContent(),
		"guard.enabled: kernel-install runs this plugin when a kernel is installed, after dkms (40-dkms.install) has built for it and weak-modules has linked the kmod, and before 90-loaderentry.install writes the boot entry. "+
			"If `zfsinstall guard` finds ZFS would not work on the new kernel it exits non-zero, kernel-install stops, no boot entry is made, and the next boot stays on the current kernel. "+
			"A dnf post-transaction action could only report after the fact, which is why this is a kernel-install plugin; it expects zfsinstall at "+Binary, 0o755)
}

func (pl *planner) file(path string, want bool, content, why string, mode uint32) {
	cur, exists := pl.f.Files[path]
	switch {
	case want && !exists:
		pl.add(Step{ID: "file." + path, Action: Create, Kind: KindFile, Summary: "create " + path, Reason: why, Path: path, Content: content, After: content, Mode: mode})
	case want && cur != content:
		pl.add(Step{ID: "file." + path, Action: Update, Kind: KindFile, Summary: "update " + path, Reason: why + "; the file differs from the spec", Path: path, Content: content, Before: cur, After: content, Mode: mode})
	case !want && exists && (strings.Contains(cur, managedMark) || path == SpecCopyFile):
		pl.add(Step{ID: "file." + path, Action: Delete, Kind: KindFile, Summary: "remove " + path, Reason: "zfsinstall wrote it and the spec no longer asks for it", Path: path, Before: cur})
	}
}

// managedMark is in every file zfsinstall writes (but the spec copy).
const managedMark = "Managed by zfsinstall"

// VerifyUnitContent is the oneshot unit that runs verify at boot.
func VerifyUnitContent() string {
	return managedHeader + `[Unit]
Description=Verify the OpenZFS install (zfsinstall verify)
After=zfs.target systemd-modules-load.service
Wants=zfs.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=` + Binary + ` verify -f ` + SpecCopyFile + `

[Install]
WantedBy=multi-user.target
`
}

// GuardHookContent is the kernel-install plugin that keeps a kernel ZFS
// cannot work on from becoming the next boot.
func GuardHookContent() string {
	return `#!/bin/sh
# Managed by zfsinstall (guard { enabled = true }); local edits are replaced on the next apply.
# kernel-install runs this on "add", after 40-dkms.install and before 90-loaderentry.install.
# A non-zero exit stops kernel-install: the new kernel gets no boot entry and the next boot
# stays on the current kernel. Remove guard { enabled = true } from the spec to drop it.
[ "$1" = add ] || exit 0
if [ ! -x ` + Binary + ` ]; then
	echo "zfsinstall guard: ` + Binary + ` is missing, kernel $2 is not checked" >&2
	exit 0
fi
exec ` + Binary + ` guard --kernel "$2"
`
}

// WantedUnits maps each managed unit to whether the spec wants it enabled.
func WantedUnits(s spec.Services) map[string]bool {
	return map[string]bool{
		"zfs-import-cache.service": s.Import == "cache",
		"zfs-import-scan.service":  s.Import == "scan",
		"zfs-import.target":        s.Import != "none",
		"zfs-mount.service":        s.Mount,
		"zfs-share.service":        s.Share,
		"zfs-zed.service":          s.ZED,
		"zfs.target":               true,
	}
}

var unitReasons = map[string]string{
	"zfs-import-cache.service": "imports pools listed in /etc/zfs/zpool.cache at boot (services.import = \"cache\")",
	"zfs-import-scan.service":  "imports pools by scanning disks at boot (services.import = \"scan\")",
	"zfs-import.target":        "orders pool import before mounting",
	"zfs-mount.service":        "mounts ZFS filesystems at boot (services.mount)",
	"zfs-share.service":        "shares ZFS filesystems over NFS/SMB (services.share)",
	"zfs-zed.service":          "the ZFS event daemon: fault reporting and hot spares (services.zed)",
	"zfs.target":               "pulls the ZFS units into the boot",
	VerifyUnit:                 "runs zfsinstall verify at boot (services.verify_on_boot)",
}

// services plans unit enablement; units the zfs package has not installed
// yet are planned as they will be after it is.
func (pl *planner) services() {
	want := WantedUnits(pl.s.Services)
	if pl.s.Services.VerifyOnBoot || pl.f.Services[VerifyUnit] == "enabled" {
		want[VerifyUnit] = pl.s.Services.VerifyOnBoot
	}
	units := make([]string, 0, len(want))
	for u := range want {
		units = append(units, u)
	}
	sort.Strings(units)
	for _, u := range units {
		cur := pl.f.Services[u]
		enabled := cur == "enabled"
		switch {
		case want[u] && !enabled:
			pl.add(Step{ID: "service." + u, Action: Create, Kind: KindService, Summary: "enable " + u, Reason: unitReasons[u], Unit: u, Enabled: true})
		case !want[u] && enabled:
			pl.add(Step{ID: "service." + u, Action: Delete, Kind: KindService, Summary: "disable " + u, Reason: "the spec does not ask for it: " + unitReasons[u], Unit: u})
		}
	}
}

// module plans loading the module now, or says why not.
func (pl *planner) module() {
	if !pl.s.Module.Load {
		return
	}
	z := pl.f.ZFS
	if pl.f.Chroot {
		pl.note("installing into a chroot or --root: the module is not loaded now; it loads at the first boot of %s (module.autoload).", pl.p.TargetKernel)
		return
	}
	if pl.p.TargetKernel != pl.f.Kernel.Running {
		pl.note("the target kernel %s is not the running kernel %s: the module loads after a reboot into it.", pl.p.TargetKernel, pl.f.Kernel.Running)
		return
	}
	if pl.stepFor("mok.dkms") {
		pl.note("Secure Boot: the module is not loaded now; it would be refused (\"Key was rejected by service\") until DKMS's key is enrolled at the next boot, after which it loads (module.autoload).")
		return
	}
	want := z.Userland
	if ver := exactVersion(pl.s); ver != "" {
		want = ver
	}
	switch {
	case z.ModuleLoaded == "":
		pl.add(Step{ID: "module.zfs", Action: Create, Kind: KindModule, Summary: "load the zfs module (modprobe zfs)",
			Reason: "module.load = true; loading now proves the module works on the running kernel"})
	case want != "" && !backends.SameVersion(z.ModuleLoaded, want) || pl.changesModule():
		if len(pl.f.Pools) > 0 {
			if pl.changesModule() {
				pl.warnf("", "reboot required after apply: the loaded zfs module is "+z.ModuleLoaded,
					"this plan replaces the zfs packages; the module loaded now (%s) stays in the kernel until it is unloaded, and pools are imported (%s), so it cannot be reloaded safely: reboot into %s after apply. Until then userland and loaded module differ, and `zfs send` and other ioctls may fail with \"invalid argument\".",
					z.ModuleLoaded, strings.Join(pl.f.Pools, ", "), pl.p.TargetKernel)
				return
			}
			pl.warnf("", "reboot required: the loaded zfs module is "+z.ModuleLoaded,
				"the zfs module loaded now is %s but the userland is %s (module on disk: %s). Pools are imported (%s), so the module cannot be reloaded safely: reboot into %s. Until then `zfs send` and other ioctls may fail with \"invalid argument\".",
				z.ModuleLoaded, orUnknown(want), orUnknown(z.ModuleOnDisk), strings.Join(pl.f.Pools, ", "), pl.p.TargetKernel)
			return
		}
		newer := "userland " + orUnknown(want)
		if pl.changesModule() {
			newer = "to the module installed above"
		}
		pl.add(Step{ID: "module.zfs", Action: Update, Kind: KindModule, Before: z.ModuleLoaded, After: want,
			Summary: fmt.Sprintf("reload the zfs module (loaded %s, %s)", z.ModuleLoaded, newer),
			Reason:  "the loaded module must match the userland; no pool is imported (zpool list is empty), so it is safe to unload and load the new module now instead of rebooting"})
	}
}

// changesModule reports whether the plan replaces the module package.
func (pl *planner) changesModule() bool {
	return pl.stepFor("package."+pl.b.ModulePackage()) || pl.stepFor("package.zfs")
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// HCL converts the diagnostic for hcl printing (file:line:col and a snippet).
func (d Diagnostic) HCL() *hcl.Diagnostic {
	sev := hcl.DiagError
	if d.Severity == "warning" {
		sev = hcl.DiagWarning
	}
	return &hcl.Diagnostic{Severity: sev, Summary: d.Summary, Detail: d.Detail, Subject: d.Range}
}

// kmodPublished checks, where the repositories have been asked, that some
// offered kmod-zfs was built for the kernel's EL minor release. A new point
// release comes out before OpenZFS publishes its kmod; installing the old
// minor's kmod then fails at modprobe, or makes dnf pull an older kernel.
func (pl *planner) kmodPublished(k catalog.KernelInfo) (string, bool) {
	if !pl.f.Available.Known {
		return "", true
	}
	minors := map[string]string{}
	for _, p := range pl.f.Available.Packages {
		if p.Name == "kmod-zfs" && p.Kernel != "" {
			minors[catalog.ClassifyKernel(p.Kernel, "").ELMinor] = p.Kernel
		}
	}
	if len(minors) == 0 {
		return "", true // no kmod offered yet (zfs-kmod not enabled): apply checks again
	}
	if _, ok := minors[k.ELMinor]; ok {
		return "", true
	}
	var built []string
	for m, kv := range minors {
		built = append(built, fmt.Sprintf("EL %s (%s)", m, kv))
	}
	sort.Strings(built)
	return fmt.Sprintf("kernel %s is EL %s, but the kmod-zfs packages on offer are built for %s: no kABI-tracking kmod is published for EL %s yet (a new point release comes out before OpenZFS rebuilds; openzfs/zfs#18566), and the old one fails at modprobe or makes dnf pull an older kernel",
		k.Release, k.ELMinor, strings.Join(built, ", "), k.ELMinor), false
}

// advisories refuses a pinned or resolved OpenZFS version with a known
// serious defect unless the spec accepts that advisory by ID, and warns
// about an installed one.
func (pl *planner) advisories() {
	if v := pl.candidate(); v != "" {
		attr := "zfs.version"
		if exactVersion(pl.s) == "" {
			attr = "zfs.repo"
		}
		for _, a := range catalog.AdvisoriesFor(v) {
			if slices.Contains(pl.s.ZFS.AllowKnownBad, a.ID) {
				pl.note("OpenZFS %s is affected by %s (%s; %s), accepted by allow_known_bad.", v, a.ID, a.Impact, a.Source)
				continue
			}
			pl.errorf(attr, fmt.Sprintf("OpenZFS %s has a known serious defect (%s)", v, a.ID),
				"%s: %s (affected: %s). %s To install it anyway, add %q to zfs.allow_known_bad.",
				a.Source, a.Impact, a.AffectedText, fixedAdvice(a), a.ID)
		}
	}
	if p, ok := pl.f.Installed("zfs"); ok {
		for _, a := range catalog.Unaccepted(p.Version, pl.s.ZFS.AllowKnownBad) {
			pl.warnf("", fmt.Sprintf("installed OpenZFS %s has a known serious defect (%s)", p.Version, a.ID),
				"%s: %s (affected: %s). %s", a.Source, a.Impact, a.AffectedText, fixedAdvice(a))
		}
	}
}

func fixedAdvice(a catalog.Advisory) string {
	if a.FixedIn == "" {
		return "No fixed release is named upstream: avoid the affected versions."
	}
	return "Fixed in " + a.FixedIn + ": set zfs.version to allow it (e.g. \">= " + a.FixedIn + "\")."
}

// develMatched pins kernel-devel-matched on EL9+ and Fedora. dkms there
// requires "(kernel-devel-matched if kernel-core)"; left to itself dnf
// satisfies that with the newest kernel-devel-matched, which drags in the
// newest kernel, and the next boot lands on a kernel nobody planned for.
// Naming the devel-matched of the target (or, for a non-distribution target,
// of the newest distribution kernel already installed) keeps dnf where it is.
func (pl *planner) develMatched() {
	d := pl.f.Distro
	if !(d.Family == "el" && d.Major >= 9 || d.Family == "fedora") {
		return
	}
	if _, ok := pl.f.Installed("kernel-core"); !ok {
		return
	}
	var kver string
	for _, k := range pl.kernels {
		if (k.Flavor == "stock" || k.Flavor == "stream" || k.Flavor == "fedora") && k.Variant == "" {
			kver = k.Release
		}
	}
	why := "dkms requires (kernel-devel-matched if kernel-core); naming this one keeps dnf from picking the newest kernel-devel-matched, which would install a newer kernel as well"
	if kver == "" {
		for _, ik := range pl.f.Kernel.Installed {
			if ik.Package == "kernel-core" && ik.Variant == "" {
				kver = ik.Release // oldest first: the last is the newest
			}
		}
		why += "; the target is not a distribution kernel, so it matches the newest distribution kernel already installed"
	}
	nvra := "kernel-devel-matched-" + kver
	if kver == "" || pl.installed(nvra) {
		return
	}
	pl.add(Step{ID: "package." + nvra, Action: Create, Kind: KindPackage, Txn: txnPackages,
		Summary: "install " + nvra, Reason: why, Package: nvra})
}

// HoldPattern is the includepkgs= value that holds a section at version v:
// every package of that release (zfs, the libraries, the module package)
// and nothing else, so a plain `dnf update` cannot move ZFS.
func HoldPattern(v string) string { return "*-" + v + "-*" }

// isHold reports whether an includepkgs= value is one zfsinstall wrote.
func isHold(include string) bool {
	return strings.HasPrefix(include, "*-") && strings.HasSuffix(include, "-*") && !strings.Contains(include, " ")
}

// hold plans the version hold on the section in use: with an exact
// zfs.version the section offers only that release. A version range is not
// held (dnf update may move within what the section offers); the plan says so.
func (pl *planner) hold(sec repos.Section) {
	v := exactVersion(pl.s)
	switch {
	case v == "" && isHold(sec.Include):
		pl.add(Step{ID: "hold." + sec.ID, Action: Delete, Kind: KindHold, Path: repoFile, Section: sec.ID,
			Summary: fmt.Sprintf("repo %s: remove includepkgs=%s (release the hold)", sec.ID, sec.Include), Before: sec.Include,
			Reason: "zfs.version no longer pins one release"})
	case v == "":
		if pl.s.ZFS.Version != "" {
			pl.note("zfs.version = %q is a range: the resolved release is not held, so `dnf update` may move ZFS within it. Pin one release (e.g. version = \"2.2.7\") to hold it.", pl.s.ZFS.Version)
		}
	case sec.Include != HoldPattern(v):
		action := Create
		if sec.Include != "" {
			action = Update
		}
		pl.add(Step{ID: "hold." + sec.ID, Action: action, Kind: KindHold, Path: repoFile, Section: sec.ID,
			Summary: fmt.Sprintf("repo %s: includepkgs=%s (hold OpenZFS at %s)", sec.ID, HoldPattern(v), v),
			Reason: "zfs.version pins " + v + ": the section then offers only that release, so a plain `dnf update` cannot move zfs, its libraries or its module. " +
				"includepkgs= in zfs.repo, not dnf versionlock: it needs no plugin, is visible where the repo is defined, and works the same in a chroot or --root (versionlock reads its list from the machine's /etc/dnf/plugins)",
			Before: sec.Include, After: HoldPattern(v), Content: HoldPattern(v), Version: v})
	}
}

// downgrade reports whether meeting zfs.version means going below the
// installed version: no release the constraint allows (of those offered,
// or, when the repositories were not asked, of all OpenZFS releases) is at
// least the installed one.
func (pl *planner) downgrade(installed string) bool {
	c := pl.s.ZFS.Constraint
	if c == nil {
		return false
	}
	var versions []string
	if pl.f.Available.Known {
		for _, p := range pl.f.Available.Packages {
			if p.Name == "zfs" {
				versions = append(versions, p.Version)
			}
		}
	} else {
		for _, r := range catalog.Releases() {
			if r.Kind == "release" {
				versions = append(versions, r.Version.String())
			}
		}
	}
	iv := mustVersion(installed)
	for _, v := range versions {
		if pv := mustVersion(v); c.Check(pv) && !pv.LessThan(iv) {
			return false
		}
	}
	return true
}

// initramfs rebuilds the initramfs of each target kernel when it carries
// zfs and this plan changes the module: a stale initramfs would load the
// old module at boot, before the root filesystem is even mounted.
func (pl *planner) initramfs() {
	if !pl.f.ZFS.InInitramfs || !(pl.changesModule() || pl.stepKind(KindDKMS)) {
		return
	}
	for _, k := range pl.kernels {
		pl.add(Step{ID: "initramfs." + k.Release, Action: Update, Kind: KindCommand,
			Summary: "rebuild the initramfs of " + k.Release + " (dracut -f --kver " + k.Release + ")",
			Reason:  "the initramfs of " + k.Release + " carries the zfs module (zfs-dracut); after the module changes it must be rebuilt, or the old module loads at boot",
			Argv:    []string{"dracut", "-f", "--kver", k.Release}, Kernel: k.Release})
	}
}

func (pl *planner) stepKind(k Kind) bool {
	for _, s := range pl.p.Steps {
		if s.Kind == k {
			return true
		}
	}
	return false
}

// develOffered refuses, when the repositories have been asked, a plan whose
// kernel-devel is not offered any more: mirrors drop old z-stream kernels'
// packages once a newer kernel is out. (Apply checks again either way.)
func (pl *planner) develOffered() {
	if !pl.f.Available.Known {
		return
	}
	offered := map[string]bool{}
	for _, p := range pl.f.Available.Packages {
		offered[p.NVRA()] = true
	}
	for _, st := range pl.p.Steps {
		if st.Kind != KindPackage || !strings.HasPrefix(st.ID, "package.kernel") || offered[st.Package] {
			continue
		}
		if len(st.EnableRepos) > 0 {
			continue // offered by a repo that is enabled only for the transaction; apply asks it
		}
		pl.errorf("kernel.target", st.Package+" is not offered by any enabled repository",
			"DKMS needs exactly this package and the mirrors no longer carry it (they drop an old z-stream kernel's packages once a newer kernel is out). Two ways out: "+
				"(1) update the kernel and reboot into it (dnf update 'kernel*' && reboot), then plan again; "+
				"(2) enable a repository that still carries it (the distribution's vault for this minor release) and plan again.")
	}
}

// MOKKey is the key DKMS signs modules with (DKMS 3 makes it at the first build).
const MOKKey = "/var/lib/dkms/mok.pub"

// mok plans, with Secure Boot on and DKMS, the request to enrol DKMS's
// signing key. An unenrolled key means the module is refused at load with
// "Key was rejected by service". --root-pw makes the request without a
// prompt; someone still confirms it at the console (MokManager, with the
// root password) on the next boot.
func (pl *planner) mok() {
	if pl.f.SecureBoot != "enabled" || pl.b.Name() != "dkms" || pl.f.MOK == "enrolled" {
		return
	}
	pl.add(Step{ID: "mok.dkms", Action: Create, Kind: KindCommand,
		Summary: "request enrolment of DKMS's signing key (mokutil --import " + MOKKey + " --root-pw)",
		Reason: "Secure Boot is enabled: DKMS signs the module it builds with its MOK key, and the firmware accepts it only once the key is enrolled. " +
			"This queues the enrolment; at the next boot someone must confirm it at the console (MokManager asks for the root password). Until then loading the module fails with \"Key was rejected by service\"",
		Argv:      []string{"mokutil", "--import", MOKKey, "--root-pw"},
		CheckArgv: []string{"mokutil", "--test-key", MOKKey}, CheckOutput: "is already enrolled"})
}
