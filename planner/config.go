package planner

import (
	"embed"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"text/template"

	"github.com/zfsinstall/zfsinstall/catalog"
	"github.com/zfsinstall/zfsinstall/facts"
)

// DefaultBinary is where the day-2 unit and hook run zfsinstall from when
// the plan does not know the binary's own path (planning from saved facts):
// where the zfsinstall RPM installs it.
const DefaultBinary = "/usr/sbin/zfsinstall"

// The files zfsinstall writes (facts.ManagedFiles lists them all).
const (
	ModulesLoadFile  = facts.ModulesLoadFile
	ModprobeFile     = facts.ModprobeFile
	NeedsRestartFile = facts.NeedsRestartFile
	SpecCopyFile     = facts.SpecCopyFile
	VerifyUnitFile   = facts.VerifyUnitFile
	GuardHookFile    = facts.GuardHookFile
	OldGuardHookFile = facts.OldGuardHookFile
	VerifyUnit       = facts.VerifyUnit
)

const (
	managedHeader = "# Managed by zfsinstall from the host spec; local edits are replaced on the next apply.\n"
	// managedMark is in every file zfsinstall writes (but the spec copy).
	managedMark = "Managed by zfsinstall"
)

//go:embed templates
var templateFS embed.FS

// templates are parsed on first use, not at start-up.
var templates = sync.OnceValue(func() *template.Template {
	return template.Must(template.ParseFS(templateFS, "templates/*"))
})

// render fills a template with the paths the day-2 files use.
func render(name, binary string) string {
	var b strings.Builder
	if err := templates().ExecuteTemplate(&b, name, struct{ Binary, SpecCopy string }{binary, SpecCopyFile}); err != nil {
		panic(fmt.Sprintf("planner: template %s: %v", name, err)) // embedded: a build defect
	}
	return b.String()
}

// config plans the module autoload and options files, and the files that
// keep ZFS working after day one.
func (pl *planner) config() bool {
	pl.checkOptions()
	pl.guardBootLoader()
	pl.file(ModulesLoadFile, pl.s.Module.Autoload, ModulesLoadContent(),
		"loads zfs at boot through systemd-modules-load (module.autoload)", 0)
	pl.file(ModprobeFile, len(pl.s.Module.Options) > 0, ModprobeContent(pl.s.Module.Options),
		"module options from module.options, applied whenever the module loads", 0)
	pl.file(NeedsRestartFile, true, managedHeader+"zfs\nkmod-zfs\nzfs-dkms\n",
		"`dnf needs-restarting -r` then reports that a reboot is needed after an update of the ZFS module or userland, as it does for the kernel: the new module only loads at the next boot (or reload)", 0)
	verify := pl.s.Services.VerifyOnBoot
	pl.file(SpecCopyFile, verify, pl.s.Source,
		"a copy of the host spec for `zfsinstall verify` at boot (services.verify_on_boot)", 0o600)
	bin := pl.binary()
	pl.file(VerifyUnitFile, verify, VerifyUnitContent(bin),
		"runs `zfsinstall verify` once at boot, after zfs.target, and leaves the result in the journal (`journalctl -u "+VerifyUnit+"`): for hosts installed from kickstart, where the module could not be loaded at install time (services.verify_on_boot); it runs "+bin, 0)
	pl.file(GuardHookFile, pl.s.Guard.Enabled, GuardHookContent(bin),
		"guard.enabled: kernel-install runs this plugin when a kernel is installed, after 20-grub.install has written its boot entry and made it the default (grub2-tools, with UPDATEDEFAULT=yes), after 40-dkms.install has tried to build for it (it exits 0 even when the build fails) and weak-modules has linked the kmod (kernel-core %posttrans). "+
			"If `zfsinstall guard` finds ZFS would not work on the new kernel, it makes the newest kernel on which ZFS works the default boot entry again (grubby --set-default) and says so in dnf's output and the journal; the new kernel stays installed. "+
			"A dnf post-transaction action could only report after the fact, which is why this is a kernel-install plugin; it runs "+bin, 0o755)
	pl.file(facts.GuardBuildHookFile, pl.s.Guard.Enabled && pl.buildsDKMS, GuardBuildHookContent(bin),
		"guard.enabled on a DKMS host: kernel-install runs this plugin after 20-grub.install made the new kernel the default and before 40-dkms.install builds for it; it keeps the newest kernel ZFS works on the default during the build. dkms 3.2's plugin exits non-zero when the build fails, and kernel-install (systemd 252) stops at the first plugin that fails, so 98-zfsinstall-guard.install would never run; this way a failed build leaves the previous kernel the default, and 98 makes the new one the default once ZFS works on it. It runs "+bin, 0o755)
	pl.file(OldGuardHookFile, false, "", "", 0)
	return true
}

// binary is the zfsinstall the day-2 files run.
func (pl *planner) binary() string {
	if pl.opts.Binary != "" {
		return pl.opts.Binary
	}
	return DefaultBinary
}

func (pl *planner) file(path string, want bool, content, why string, mode uint32) {
	cur, exists := pl.f.Files[path]
	fs := &FileStep{Path: path, Content: content, Mode: mode}
	switch {
	case want && !exists:
		pl.add(Step{ID: "file." + path, Action: Create, Kind: KindFile, Summary: "create " + path, Reason: why, After: content, File: fs})
	case want && cur != content:
		pl.add(Step{ID: "file." + path, Action: Update, Kind: KindFile, Summary: "update " + path, Reason: why + "; the file differs from the spec", Before: cur, After: content, File: fs})
	case !want && exists && (strings.Contains(cur, managedMark) || path == SpecCopyFile):
		pl.add(Step{ID: "file." + path, Action: Delete, Kind: KindFile, Summary: "remove " + path, Reason: "zfsinstall wrote it and the spec no longer asks for it", Before: cur, File: &FileStep{Path: path}})
	}
}

// ModulesLoadContent is /etc/modules-load.d/zfs.conf as zfsinstall writes it.
func ModulesLoadContent() string { return managedHeader + "zfs\n" }

// ModprobeContent is /etc/modprobe.d/zfs.conf for the given options, sorted:
// `options zfs NAME=VALUE`, or `options spl` for the spl module's own
// parameters (spl_kmem_cache_*, spl_taskq_*), which the zfs module rejects.
func ModprobeContent(opts map[string]string) string {
	var b strings.Builder
	b.WriteString(managedHeader)
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		module := "zfs"
		if _, ok := catalog.LookupSPLParam(k); ok {
			module = "spl"
		} else if d, ok := catalog.LookupDocumentedParam(k); ok {
			module = d.Module
		}
		fmt.Fprintf(&b, "options %s %s=%s\n", module, k, opts[k])
	}
	return b.String()
}

// VerifyUnitContent is the oneshot unit that runs verify at boot with the
// zfsinstall at binary.
func VerifyUnitContent(binary string) string { return render("zfsinstall-verify.service", binary) }

// GuardHookContent is the kernel-install plugin that keeps a kernel ZFS
// cannot work on from becoming the next boot, running the zfsinstall at
// binary.
func GuardHookContent(binary string) string { return render("98-zfsinstall-guard.install", binary) }

// GuardBuildHookContent is the kernel-install plugin that keeps the
// previous kernel the default while DKMS builds for a new one.
func GuardBuildHookContent(binary string) string {
	return render("39-zfsinstall-guard.install", binary)
}

// checkOptions warns about module option names the OpenZFS documentation
// does not know: the module ignores an unknown parameter at load with only
// a kernel log line, so a typo would silently do nothing. spec.Parse
// refuses such names; this covers specs made another way.
func (pl *planner) checkOptions() {
	for _, k := range slices.Sorted(maps.Keys(pl.s.Module.Options)) {
		if _, ok := catalog.LookupModuleParam(k); ok {
			continue
		}
		if _, ok := catalog.LookupSPLParam(k); ok {
			continue
		}
		if _, ok := catalog.LookupDocumentedParam(k); ok {
			continue // another release's page documents it
		}
		hint := ""
		if sug := catalog.SuggestModuleParam(k); len(sug) > 0 {
			hint = " Did you mean " + strings.Join(sug, " or ") + "?"
		}
		pl.warnf("module.options."+k, "unknown zfs module parameter "+k,
			"%s is not a parameter documented in OpenZFS's zfs(4) or spl(4); it is written as asked, but the module ignores unknown parameters (a line in the kernel log), so a typo silently does nothing.%s", k, hint)
	}
}
