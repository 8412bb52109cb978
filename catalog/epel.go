package catalog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// EPEL is how one Enterprise Linux distribution release gets EPEL (where
// dkms comes from), from epel.tsv.
type EPEL struct {
	Distro string // os-release ID: "rhel", "rocky", "almalinux", "centos", "ol"
	Major  int
	// Package is the release package that configures EPEL ("epel-release",
	// "oracle-epel-release-el9"); "" when the release has no EPEL (EL7).
	Package string
	// URL is where Package is installed from when the distribution's own
	// repositories do not carry it (RHEL); "" when they do.
	URL string
	// EnableRepo is the repository the EPEL docs enable beside it
	// ("codeready-builder-for-rhel-9-x86_64-rpms" after Enable's arch is
	// filled in, "crb", "powertools"); "" for none. EnableWith says how:
	// "subscription-manager" or "dnf".
	EnableRepo, EnableWith string
	// CRBForDKMS says whether dkms itself needs EnableRepo: false for every
	// row (EPEL's dkms requires only BaseOS/AppStream packages).
	CRBForDKMS bool
	// Repos are the repository ids EPEL packages are served from once
	// Package is installed ("epel", "ol9_developer_EPEL").
	Repos   []string
	Checked string // "source" or "audit" (see epel.tsv)
	Source  string
}

// EPELFor returns how distro (os-release ID) major gets EPEL, with $(arch)
// in EnableRepo replaced by arch ("x86_64"). ok is false for a distribution
// release epel.tsv does not list (Oracle Linux 10, unknown IDs).
func EPELFor(distro string, major int, arch string) (EPEL, bool) {
	for _, e := range data().epel {
		if e.Distro == distro && e.Major == major {
			e.Repos = append([]string(nil), e.Repos...)
			if arch != "" {
				e.EnableRepo = strings.ReplaceAll(e.EnableRepo, "$(arch)", arch)
			}
			return e, true
		}
	}
	return EPEL{}, false
}

// EnableCommand is the argv that enables e.EnableRepo, nil when there is
// none: subscription-manager repos --enable R, or dnf config-manager
// --set-enabled R (dnf4; dnf5 spells it `dnf config-manager setopt
// R.enabled=1`).
func (e EPEL) EnableCommand() []string {
	switch {
	case e.EnableRepo == "":
		return nil
	case e.EnableWith == "subscription-manager":
		return []string{"subscription-manager", "repos", "--enable", e.EnableRepo}
	}
	return []string{"dnf", "config-manager", "--set-enabled", e.EnableRepo}
}

func parseEPEL(b []byte) ([]EPEL, error) {
	const name = "epel.tsv"
	rows, err := readTSV(name, b, []string{"distros", "majors", "package", "install", "enable", "crb_for_dkms", "epel_repos", "checked", "source"})
	if err != nil {
		return nil, err
	}
	var out []EPEL
	for _, row := range rows {
		f := row.fields
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, row.line, fmt.Sprintf(format, args...))
		}
		proto := EPEL{Package: dash(f[2]), Checked: f[7], Source: f[8]}
		switch install := f[3]; {
		case install == "-" && proto.Package == "":
		case install == "repo" && proto.Package != "":
		case strings.HasPrefix(install, "url:https://") && proto.Package != "":
			proto.URL = strings.TrimPrefix(install, "url:")
		default:
			return nil, bad("install %q is not \"repo\" or \"url:https://...\" (\"-\" only without a package)", install)
		}
		if enable := dash(f[4]); enable != "" {
			var ok bool
			proto.EnableWith, proto.EnableRepo, ok = strings.Cut(enable, ":")
			if !ok || (proto.EnableWith != "dnf" && proto.EnableWith != "subscription-manager") || proto.EnableRepo == "" {
				return nil, bad("enable %q is not dnf:<repo> or subscription-manager:<repo>", enable)
			}
		}
		switch f[5] {
		case "yes":
			proto.CRBForDKMS = true
		case "no":
		default:
			return nil, bad("crb_for_dkms %q is not yes or no", f[5])
		}
		if repos := dash(f[6]); repos != "" {
			proto.Repos = strings.Fields(repos)
		}
		if (proto.Package == "") != (len(proto.Repos) == 0) {
			return nil, bad("a package and its epel_repos go together")
		}
		if proto.Checked != "source" && proto.Checked != "audit" {
			return nil, bad("checked %q is not source or audit", proto.Checked)
		}
		if strings.TrimSpace(proto.Source) == "" {
			return nil, bad("source is empty")
		}
		for _, ms := range strings.Fields(f[1]) {
			major, err := strconv.Atoi(ms)
			if err != nil || major < 7 || !allDigits(ms) {
				return nil, bad("major %q is not an EL major", ms)
			}
			for _, d := range strings.Fields(f[0]) {
				e := proto
				e.Distro, e.Major = d, major
				e.URL = strings.ReplaceAll(e.URL, "$major", ms)
				e.EnableRepo = strings.ReplaceAll(e.EnableRepo, "$major", ms)
				if slices.ContainsFunc(out, func(o EPEL) bool { return o.Distro == d && o.Major == major }) {
					return nil, bad("%s %d listed twice", d, major)
				}
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// dash reads "-" as "".
func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}
