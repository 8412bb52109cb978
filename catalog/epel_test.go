package catalog

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestEPELFor(t *testing.T) {
	type want struct {
		Package, URL string
		Enable       []string
		Repos        []string
		CRBForDKMS   bool
	}
	tests := map[string]struct {
		distro string
		major  int
		arch   string
		want   want
		ok     bool
	}{
		"RHEL 9 from the URL, CRB by subscription-manager": {"rhel", 9, "x86_64", want{"epel-release",
			"https://dl.fedoraproject.org/pub/epel/epel-release-latest-9.noarch.rpm",
			[]string{"subscription-manager", "repos", "--enable", "codeready-builder-for-rhel-9-x86_64-rpms"}, []string{"epel"}, false}, true},
		"RHEL 8 aarch64": {"rhel", 8, "aarch64", want{"epel-release",
			"https://dl.fedoraproject.org/pub/epel/epel-release-latest-8.noarch.rpm",
			[]string{"subscription-manager", "repos", "--enable", "codeready-builder-for-rhel-8-aarch64-rpms"}, []string{"epel"}, false}, true},
		"RHEL 10": {"rhel", 10, "x86_64", want{"epel-release",
			"https://dl.fedoraproject.org/pub/epel/epel-release-latest-10.noarch.rpm",
			[]string{"subscription-manager", "repos", "--enable", "codeready-builder-for-rhel-10-x86_64-rpms"}, []string{"epel"}, false}, true},
		"Rocky 9 from its repositories, crb": {"rocky", 9, "x86_64", want{"epel-release", "",
			[]string{"dnf", "config-manager", "--set-enabled", "crb"}, []string{"epel"}, false}, true},
		"Alma 8 powertools": {"almalinux", 8, "x86_64", want{"epel-release", "",
			[]string{"dnf", "config-manager", "--set-enabled", "powertools"}, []string{"epel"}, false}, true},
		"CentOS Stream 10": {"centos", 10, "x86_64", want{"epel-release", "",
			[]string{"dnf", "config-manager", "--set-enabled", "crb"}, []string{"epel"}, false}, true},
		"Oracle 9 has its own EPEL": {"ol", 9, "x86_64", want{"oracle-epel-release-el9", "", nil, []string{"ol9_developer_EPEL"}, false}, true},
		"Oracle 8":                  {"ol", 8, "x86_64", want{"oracle-epel-release-el8", "", nil, []string{"ol8_developer_EPEL"}, false}, true},
		"EL7 has no EPEL":           {"centos", 7, "x86_64", want{}, true},
		"Oracle 10 not known":       {"ol", 10, "x86_64", want{}, false},
		"Fedora needs no EPEL":      {"fedora", 41, "x86_64", want{}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e, ok := EPELFor(tc.distro, tc.major, tc.arch)
			if ok != tc.ok {
				t.Fatalf("EPELFor(%s, %d) ok = %v, want %v", tc.distro, tc.major, ok, tc.ok)
			}
			got := want{e.Package, e.URL, e.EnableCommand(), e.Repos, e.CRBForDKMS}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("EPELFor(%s, %d) mismatch (-want +got):\n%s", tc.distro, tc.major, diff)
			}
			if ok && strings.TrimSpace(e.Source) == "" {
				t.Error("no source")
			}
		})
	}
}

func TestParseEPELMalformed(t *testing.T) {
	const header = "distros\tmajors\tpackage\tinstall\tenable\tcrb_for_dkms\tepel_repos\tchecked\tsource\n"
	good := []string{"rocky", "9", "epel-release", "repo", "dnf:crb", "no", "epel", "audit", "epel-docs"}
	row := func(fields ...string) string { return strings.Join(fields, "\t") + "\n" }
	with := func(i int, v string) string {
		f := append([]string(nil), good...)
		f[i] = v
		return header + row(f...)
	}
	tests := map[string]struct{ text, want string }{
		"bad major":         {with(1, "6"), "EL major"},
		"bad install":       {with(3, "http://x/epel.rpm"), "install"},
		"url not https":     {with(3, "url:http://x/epel.rpm"), "install"},
		"bad enable":        {with(4, "yum:crb"), "enable"},
		"bad crb":           {with(5, "maybe"), "crb_for_dkms"},
		"package, no repos": {with(6, "-"), "go together"},
		"bad checked":       {with(7, "guess"), "checked"},
		"no source":         {with(8, " "), "source"},
		"duplicate":         {header + row(good...) + row(good...), "twice"},
		"missing column":    {header + row(good[:8]...), "fields"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseEPEL([]byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseEPEL error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
