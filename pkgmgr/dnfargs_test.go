package pkgmgr

import (
	"strings"
	"testing"
)

// TestCheckDNFArgs: extra dnf arguments that would turn signature checks
// off, make dnf read another configuration or other repositories, write
// its state elsewhere or install what the plan does not name are refused,
// abbreviated or clustered as dnf 4's argparse accepts them (issue 20 item
// 5: --dnf-arg -c FILE, --config= and --repofrompath were accepted).
func TestCheckDNFArgs(t *testing.T) {
	for args, want := range map[string]string{
		"--nogpgcheck":                        "GPG checks",
		"--nogpg":                             "GPG checks",
		"--NoGpgCheck":                        "GPG checks",
		"--no-gpgchecks":                      "GPG checks",
		"--setopt=gpgcheck=0":                 "GPG checks",
		"--setopt=*.gpgcheck=false":           "GPG checks",
		"--setopt=zfs-kmod.repo_gpgcheck=off": "GPG checks",
		"--setopt=localpkg_gpgcheck=0":        "GPG checks",
		"--setopt=pkg_gpgcheck=0":             "GPG checks",
		"--setopt=zfs.gpgcheck=":              "GPG checks",
		"--setopt=zfs.gpgkey=file:///tmp/k":   "GPG checks",
		"--setopt=tsflags=nodocs,nocrypto":    "signature and digest",
		"--setopt=tsflags=justdb":             "does not install what it says",
		"--setop=gpgcheck=0":                  "GPG checks",
		"--setopt":                            "in one argument",
		"-c":                                  "-c is --config",
		"-c/tmp/dnf.conf":                     "-c is --config",
		"-qc/tmp/dnf.conf":                    "-c is --config",
		"--config=/tmp/dnf.conf":              "own configuration",
		"--conf=/tmp/dnf.conf":                "own configuration",
		"--ins=/":                             "install root itself",
		"--use-host-config":                   "own configuration",
		"--repofrompath=x,/tmp/repo":          "repositories as the plan leaves them",
		"--repo=zfs-testing":                  "repositories as the plan leaves them",
		"--enablerepo=zfs-testing":            "repositories as the plan leaves them",
		"--disablerepo=*":                     "repositories as the plan leaves them",
		"--enable-repo=zfs-testing":           "repositories as the plan leaves them",
		"--setopt=reposdir=/tmp/repos":        "repositories as the plan leaves them",
		"--setopt=zfs-testing.enabled=1":      "repositories as the plan leaves them",
		"--setopt=zfs.baseurl=http://evil/":   "repositories as the plan leaves them",
		"--setopt=config_file_path=/tmp/x":    "own configuration",
		"--installroot=/":                     "install root itself",
		"--setopt=installroot=/":              "install root itself",
		"--releasever=9.9":                    "$releasever",
		"--forcearch=aarch64":                 "$basearch",
		"--setvar=releasever=9":               "variables",
		"--setopt=varsdir=/tmp/vars":          "variables",
		"--setopt=cachedir=/tmp/cache":        "write outside",
		"--setopt=logdir=/var/log":            "write outside",
		"--setopt=persistdir=/tmp/p":          "write outside",
		"--setopt=pluginpath=/tmp/plugins":    "plugins from elsewhere",
		"--allowerasing":                      "remove packages",
		"evilpkg":                             "options only",
		"--":                                  "options only",
		"-":                                   "options only",
		"":                                    "options only",
		// Accepted: they change how dnf works, not what it trusts or reads.
		"--setopt=gpgcheck=1":               "",
		"--setopt=*.gpgcheck=True":          "",
		"--disableplugin=local":             "",
		"--disableplugin=local,show-leaves": "",
		"--setopt=install_weak_deps=False":  "",
		"--setopt=timeout=5":                "",
		"--setopt=proxy=http://proxy:3128":  "",
		"--setopt=tsflags=nodocs":           "",
		"-q":                                "",
		"-d3":                               "",
		"-xcurl":                            "",
		"--refresh":                         "",
		"--cacheonly":                       "",
		"--nobest":                          "",
	} {
		err := CheckDNFArgs([]string{args})
		switch {
		case want == "" && err != nil:
			t.Errorf("CheckDNFArgs(%q) = %v, want accepted", args, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("CheckDNFArgs(%q) = %v, want a refusal saying %q", args, err, want)
		}
	}
}
