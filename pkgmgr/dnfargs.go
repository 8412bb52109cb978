package pkgmgr

import (
	"fmt"
	"strings"
)

// Extra dnf arguments (--dnf-arg, $ZFSINSTALL_DNF_ARGS) go into every dnf
// call zfsinstall makes, so they must not undo what zfsinstall checks:
// that every package is signed, that dnf reads the managed root's own
// configuration and repositories as the plan leaves them, and that nothing
// is written outside the root. CheckDNFArgs refuses, with the reason:
//
//   - signature checks off: --nogpgcheck (dnf 4), --no-gpgchecks (dnf 5),
//     --setopt=[REPO.]*gpgcheck=false, --setopt=[REPO.]gpgkey=... (a key
//     of someone else's choosing), --setopt=tsflags=nocrypto (dnf 4 turns
//     it into RPMVSF_NOSIGNATURES|NODIGESTS, dnf/base.py
//     _TS_VSFLAGS_TO_RPM at 4.14.0);
//   - another configuration or other repositories: -c/--config,
//     --installroot, --use-host-config (dnf 5), --repofrompath,
//     --repo/--repoid, --enablerepo/--disablerepo (and dnf 5's
//     --enable-repo/--disable-repo), --releasever, --forcearch, --setvar
//     (dnf 5), and --setopt of reposdir, config_file_path, varsdir,
//     installroot, [REPO.]enabled, [REPO.]baseurl/mirrorlist/metalink,
//     arch/basearch/ignorearch, pluginpath/pluginconfpath;
//   - state written elsewhere: --setopt of cachedir, system_cachedir,
//     persistdir, logdir (dnf prepends the install root to these only when
//     they come from a configuration file: "don't modify paths specified
//     on commandline", dnf/conf/config.py prepend_installroot at 4.14.0);
//   - a transaction that is not what it says: --allowerasing (dnf may
//     remove packages the plan does not name), --setopt=tsflags of test,
//     justdb, noscripts or notriggers;
//   - anything that is not an option: dnf takes its first positional
//     argument as the command and the rest as package specs, so
//     "--dnf-arg evil" would add packages to a transaction. Options take
//     their value in the same argument (--setopt=timeout=5, -d3).
//
// dnf 4 parses its options with Python's argparse, which accepts any
// unambiguous prefix of a long option (--nogpg for --nogpgcheck, --conf
// for --config), so a prefix of a refused option is refused too; short
// options may be clustered (-qc FILE is -q -c FILE).
func CheckDNFArgs(args []string) error {
	for _, a := range args {
		if why := dnfArgRefused(a); why != "" {
			return fmt.Errorf("refusing --dnf-arg %q: %s", a, why)
		}
	}
	return nil
}

// refusedLong are the long options refused whatever their value, and why.
var refusedLong = map[string]string{
	"nogpgcheck":      noSignatures,
	"no-gpgchecks":    noSignatures,
	"config":          otherConfig,
	"installroot":     "zfsinstall sets the install root itself (--root)",
	"use-host-config": otherConfig,
	"repofrompath":    otherRepos,
	"repo":            otherRepos,
	"repoid":          otherRepos,
	"enablerepo":      otherRepos,
	"disablerepo":     otherRepos,
	"enable-repo":     otherRepos,
	"disable-repo":    otherRepos,
	"releasever":      "it changes $releasever and so the repositories' URLs; pin a minor release in the root's /etc/dnf/vars/releasever, which zfsinstall reads and honours",
	"forcearch":       "it changes $basearch and so the repositories dnf reads",
	"setvar":          "it changes the variables in the repositories' URLs",
	"allowerasing":    "dnf could remove packages the plan does not name; zfsinstall plans every removal itself",
}

// refusedSetopt are the options --setopt may not set (the part after the
// last "." of KEY), and why.
var refusedSetopt = map[string]string{
	"gpgkey":           noSignatures,
	"reposdir":         otherRepos,
	"config_file_path": otherConfig,
	"varsdir":          "it changes the variables in the repositories' URLs",
	"installroot":      "zfsinstall sets the install root itself (--root)",
	"enabled":          otherRepos,
	"baseurl":          otherRepos,
	"mirrorlist":       otherRepos,
	"metalink":         otherRepos,
	"arch":             "it changes $basearch and so the repositories dnf reads",
	"basearch":         "it changes $basearch and so the repositories dnf reads",
	"ignorearch":       "it changes which architectures dnf installs",
	"pluginpath":       "dnf would load plugins from elsewhere",
	"pluginconfpath":   "dnf would configure plugins from elsewhere",
	"cachedir":         elsewhere,
	"system_cachedir":  elsewhere,
	"persistdir":       elsewhere,
	"logdir":           elsewhere,
}

const (
	noSignatures = "zfsinstall never turns GPG checks off or trusts keys other than the repositories' own"
	otherConfig  = "dnf must read the managed root's own configuration, the one zfsinstall checked"
	otherRepos   = "dnf must use the repositories as the plan leaves them (zfsinstall enables the ones a transaction needs itself)"
	elsewhere    = "a path given on dnf's command line is not put under the install root, so dnf would write outside it"
)

// dnfArgRefused says why the dnf argument a is refused, "" when it is not.
func dnfArgRefused(a string) string {
	switch {
	case a == "" || a == "-" || a == "--" || !strings.HasPrefix(a, "-"):
		return "--dnf-arg takes options only, each with its value in the same argument (--setopt=timeout=5); dnf would take anything else as a command or a package to install"
	case !strings.HasPrefix(a, "--"):
		return shortRefused(a[1:])
	}
	name, value, hasValue := strings.Cut(strings.ToLower(a[2:]), "=")
	for opt, why := range refusedLong {
		// argparse takes any unambiguous prefix of a long option.
		if name != "" && strings.HasPrefix(opt, name) {
			return why
		}
	}
	if name != "" && strings.HasPrefix("setopt", name) {
		if !hasValue {
			return "write --setopt=KEY=VALUE in one argument"
		}
		return setoptRefused(value)
	}
	return ""
}

// shortRefused checks a cluster of short options (without the "-"): -c
// (dnf 4's --config) anywhere before an option that takes the rest of the
// cluster as its value.
func shortRefused(cluster string) string {
	for _, c := range cluster {
		switch c {
		case 'c':
			return otherConfig + " (-c is --config)"
		case 'd', 'e', 'x', 'R':
			return "" // the rest is this option's value
		}
	}
	return ""
}

// setoptRefused checks KEY=VALUE of --setopt.
func setoptRefused(kv string) string {
	key, value, ok := strings.Cut(kv, "=")
	if !ok {
		return "write --setopt=KEY=VALUE"
	}
	opt := key
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		opt = key[i+1:]
	}
	value = strings.TrimSpace(value)
	if why, ok := refusedSetopt[opt]; ok {
		return why
	}
	switch {
	case strings.Contains(opt, "gpgcheck"):
		switch value {
		case "1", "true", "yes", "on":
			return ""
		}
		return noSignatures
	case strings.Contains(opt, "gpg"):
		return noSignatures
	case opt == "tsflags":
		for _, f := range strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' }) {
			switch f {
			case "nocrypto":
				return noSignatures + " (tsflags=nocrypto skips rpm's signature and digest checks)"
			case "test", "justdb", "noscripts", "notriggers":
				return "tsflags=" + f + " makes a transaction that does not install what it says, which zfsinstall then cannot verify"
			}
		}
	}
	return ""
}
