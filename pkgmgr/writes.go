package pkgmgr

import (
	"path"
	"strings"

	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/repos"
)

// The paths rpm, dnf and systemctl write when zfsinstall runs them against
// a managed root. They open ROOT+PATH themselves (not chrooted), so before
// each run every one is checked to resolve inside the root (host.CheckTool:
// a symlink planted in the root would otherwise lead the write to this
// machine's files, issue 20 item 2). The lists come from the programs'
// sources, and were confirmed with strace -f of `rpm --root R --import`,
// `dnf --installroot R repoquery` and `dnf --installroot R install` on the
// test bed: every file opened for writing outside the chroot in which rpm
// installs the payload and runs scriptlets is under one of them (or this
// machine's own /tmp, where librepo and dnf keep temporary files).

// rpmDBPaths are where rpm keeps its database under the root: %_dbpath is
// /var/lib/rpm (rpm macros.in at rpm-4.18.0-release; zfsinstall passes
// --dbpath /var/lib/rpm), holding the database (rpmdb.sqlite with the
// -wal and -shm files sqlite creates even for a query; Packages, Index.db
// or __db.* on EL7/EL8) and the transaction lock %_rpmlock_path,
// %{_dbpath}/.rpm.lock, which rpmtsAcquireLock opens as rpmGenPath(rootDir,
// ...) (lib/rpmts.c): the database is opened before rpm chroots to install
// (lib/transaction.c rpmtsSetup: rpmtsOpenDB, then rpmChrootSet). dnf's
// rpm takes %_dbpath from this machine's macros, which is
// /usr/lib/sysimage/rpm on EL10 and Fedora (where /var/lib/rpm is a
// relative link to it inside the root).
var rpmDBPaths = []string{"/var/lib/rpm", "/usr/lib/sysimage/rpm"}

// dnf's own state, dnf 4.14.0: cachedir /var/cache/dnf (metadata, solv
// files, downloaded packages, metadata_lock.pid and download_lock.pid,
// dnf/lock.py), logdir /var/log (dnf.log, dnf.librepo.log, dnf.rpm.log,
// hawkey.log, dnf/const.py.in LOG*, and log_lock.pid), persistdir
// /var/lib/dnf (history.sqlite, dnf/db/history.py; rpmdb_lock.pid). With
// --installroot, dnf/cli/cli.py _read_conf_file prepends the root to these
// three ("cachedir, logs, releasever, and gpgkey are taken from or stored
// in installroot"); dnf.conf's [main] may name other ones, read here from
// the root's dnf.conf as dnf reads them.
const (
	dnfCacheDir   = "/var/cache/dnf"
	dnfLogDir     = "/var/log"
	dnfPersistDir = "/var/lib/dnf"
)

// dnfLogFiles are the files dnf writes in logdir.
var dnfLogFiles = []string{"dnf.log", "dnf.librepo.log", "dnf.rpm.log", "hawkey.log", "log_lock.pid"}

// dnfConfigPaths are what dnf reads its configuration from in the root
// (dnf/cli/cli.py _read_conf_file searches config_file_path and reposdir
// inside the installroot first, with os.path.exists, which follows links).
var dnfConfigPaths = []string{"/etc/dnf/dnf.conf", "/etc/yum.repos.d", "/etc/dnf/vars"}

// systemdConfigDir is where systemctl --root enable and disable create and
// remove unit links: lp->persistent_config, ROOT/etc/systemd/system, in
// NAME.wants/, NAME.requires/ and NAME.upholds/ for [Install] WantedBy=,
// RequiredBy=, UpheldBy=, and the directory itself for Alias=
// (src/shared/install.c create_symlink: mkdir_parents_label(new_path)
// follows links in the directories, then symlink(2), which does not follow
// the final name).
const systemdConfigDir = "/etc/systemd/system"

// RPMWrites are the paths rpm writes; transaction says rpm will change
// the database (install, erase, import), which must then be writable.
func RPMWrites(transaction bool) []host.ToolPath {
	var out []host.ToolPath
	for _, p := range rpmDBPaths {
		out = append(out, host.ToolPath{Path: p, Tree: true, Writable: transaction && p == "/var/lib/rpm"})
	}
	return out
}

// DNFWrites are the paths dnf writes on h (dnf.conf's cachedir, logdir and
// persistdir when it names them), then what it reads its configuration
// from; transaction says dnf will install or remove, so its history and
// the rpm database must be writable.
func DNFWrites(h host.Host, transaction bool) []host.ToolPath {
	cache, logs, persist := dnfCacheDir, dnfLogDir, dnfPersistDir
	if data, err := h.ReadFile(repos.DNFConf); err == nil {
		if f, err := repos.Parse(repos.DNFConf, data); err == nil {
			for _, o := range []struct {
				key string
				dir *string
			}{{"cachedir", &cache}, {"logdir", &logs}, {"persistdir", &persist}} {
				if v, ok, _ := f.Option("main", o.key); ok && strings.HasPrefix(strings.TrimSpace(v), "/") {
					*o.dir = path.Clean(strings.TrimSpace(v))
				}
			}
		}
	}
	out := []host.ToolPath{
		{Path: cache, Tree: true},
		{Path: persist, Tree: true, Writable: transaction},
	}
	for _, f := range dnfLogFiles {
		out = append(out, host.ToolPath{Path: path.Join(logs, f)})
	}
	out = append(out, RPMWrites(transaction)...)
	for _, p := range dnfConfigPaths {
		out = append(out, host.ToolPath{Path: p, Read: true})
	}
	return out
}

// SystemctlWrites are the paths systemctl --root enable/disable writes.
func SystemctlWrites() []host.ToolPath {
	return []host.ToolPath{{Path: systemdConfigDir, Dirs: true, Writable: true}}
}

// checkWrites refuses to run argv (rpm or dnf, as rpmArgv and dnfArgv
// build them) when a path it writes would lead out of the root.
func (c *Client) checkWrites(argv []string) error {
	if len(argv) == 0 {
		return nil
	}
	switch argv[0] {
	case "rpm":
		return c.h.CheckTool("rpm", RPMWrites(rpmChanges(argv))...)
	case "dnf":
		return c.h.CheckTool("dnf", DNFWrites(c.h, dnfChanges(argv))...)
	}
	return nil
}

// rpmChanges reports whether an rpm argv changes the database.
func rpmChanges(argv []string) bool {
	for _, a := range argv {
		switch a {
		case "-U", "-i", "-e", "--import", "--erase", "--install", "--upgrade":
			return true
		}
	}
	return false
}

// dnfChanges reports whether a dnf argv may change the system: anything
// but a repoquery or a resolve that stops before the transaction.
func dnfChanges(argv []string) bool {
	for _, a := range argv {
		if a == "repoquery" || a == "--assumeno" {
			return false
		}
	}
	return true
}
