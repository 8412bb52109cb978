package catalog

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cavaliergopher/rpm"
	"github.com/google/go-cmp/cmp"
)

// upstreamReleases holds every real zfs-release package (the repository's
// testdata/upstream, see its README).
var upstreamReleases = filepath.Join("..", "testdata", "upstream", "openzfs", "zfs-release")

// keyIDs maps the key ids rpm -K prints to the key files.
var keyIDs = map[string]string{
	"a9d5a1c0f14ab620": "RPM-GPG-KEY-openzfs-2013",
	"a599fd5e9db84141": "RPM-GPG-KEY-openzfs-2022",
}

// distOfFile finds the dist a zfs-release file name is for: "el7" in
// zfs-release-2-3.el7.noarch.rpm and zfs-release.el7_5.noarch.rpm.
var distOfFile = regexp.MustCompile(`\.(el|fc)([0-9]+)[._]`)

// realSignatures reads SIGNATURES.tsv: file name -> key file ("" unsigned).
func realSignatures(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(upstreamReleases, "SIGNATURES.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	re := regexp.MustCompile(`Key ID ([0-9a-f]{16})`)
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 4 {
			t.Fatalf("SIGNATURES.tsv: short line %q", sc.Text())
		}
		out[cols[0]] = ""
		if m := re.FindStringSubmatch(cols[3]); m != nil {
			out[cols[0]] = keyIDs[m[1]]
		}
	}
	return out
}

func openRPM(t *testing.T, file string) *rpm.Package {
	t.Helper()
	p, err := rpm.Open(filepath.Join(upstreamReleases, file))
	if err != nil {
		t.Fatalf("opening %s: %v", file, err)
	}
	return p
}

// pkgFiles maps each file of a package to its link target or digest.
func pkgFiles(p *rpm.Package) map[string]string {
	out := map[string]string{}
	for _, f := range p.Files() {
		v := f.Digest()
		if f.Linkname() != "" {
			v = "-> " + f.Linkname()
		}
		out[f.Name()] = v
	}
	return out
}

// upstreamSections reads testdata/upstream/openzfs/zfs-release-sections.tsv:
// package -> its sections as the file lists them.
func upstreamSections(t *testing.T) map[string][][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "upstream", "openzfs", "zfs-release-sections.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][][]string{}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if i == 0 {
			continue
		}
		f := strings.Split(line, "\t")
		out[f[0]] = append(out[f[0]], f[1:])
	}
	return out
}

// TestZFSReleasesAgainstRealPackages checks every row of zfs-release.tsv
// against the real packages: the file is there and is that version; it is
// the newest one for its distribution release; it is signed by SignedBy; the
// repository key is where its RPM-GPG-KEY-openzfs-<dist>-<major> link points;
// AcceptedKeys are exactly the keys the published packages for that release
// are signed with; and its sections are those of its zfs.repo.
func TestZFSReleasesAgainstRealPackages(t *testing.T) {
	sigs := realSignatures(t)
	secs := upstreamSections(t)
	entries, err := os.ReadDir(upstreamReleases)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ZFSReleases() {
		t.Run(r.File, func(t *testing.T) {
			dist := "el"
			if r.Family == FamilyFedora {
				dist = "fc"
			}
			dist += strconv.Itoa(r.Major)
			p := openRPM(t, r.File)
			if got, want := p.Name()+"-"+p.Version()+"-"+p.Release(), "zfs-release-"+r.Version+"."+dist; got != want {
				t.Errorf("package is %s, want %s", got, want)
			}
			if got := sigs[r.File]; got != r.SignedBy {
				t.Errorf("signed by %q (SIGNATURES.tsv), table says %q", got, r.SignedBy)
			}
			link := "/etc/pki/rpm-gpg/RPM-GPG-KEY-openzfs-" + map[string]string{FamilyEL: "el", FamilyFedora: "fedora"}[r.Family] + "-" + strconv.Itoa(r.Major)
			if got := pkgFiles(p)[link]; got != "-> "+r.RepoKey {
				t.Errorf("%s %s, table says repo_key %s", link, got, r.RepoKey)
			}
			var accepted []string
			for _, e := range entries {
				name := e.Name()
				m := distOfFile.FindStringSubmatch(name)
				if !strings.HasSuffix(name, ".noarch.rpm") || m == nil || m[1]+m[2] != dist {
					continue
				}
				if k := sigs[name]; k != "" && !slices.Contains(accepted, k) {
					accepted = append(accepted, k)
				}
				if other := openRPM(t, name); other.Name() == "zfs-release" && rpm.CompareVersions(other.Version()+"-"+other.Release(), p.Version()+"-"+p.Release()) > 0 {
					t.Errorf("%s is newer than the table's %s", name, r.File)
				}
			}
			slices.Sort(accepted)
			got := append([]string(nil), r.AcceptedKeys...)
			slices.Sort(got)
			if diff := cmp.Diff(accepted, got); diff != "" {
				t.Errorf("accepted_keys differ from the keys the real packages are signed with (-real +table):\n%s", diff)
			}
			var fromPkg [][]string
			for _, s := range r.Sections() {
				fromPkg = append(fromPkg, []string{s.ID, map[bool]string{true: "1", false: "0"}[s.Enabled], s.BaseURL, s.GPGKey})
			}
			if diff := cmp.Diff(secs[strings.TrimSuffix(r.File, ".rpm")], fromPkg); diff != "" {
				t.Errorf("sections differ from testdata/upstream/openzfs/zfs-release-sections.tsv (-upstream +catalog):\n%s", diff)
			}
		})
	}
}

// TestRelease31OnlyAddsFedora44Key checks, on the real packages, what
// zfs-release 3-1 changes: the RPM-GPG-KEY-openzfs-fedora-44 link, nothing
// else; its zfs.repo is byte for byte 3-0's.
func TestRelease31OnlyAddsFedora44Key(t *testing.T) {
	repo := "/etc/yum.repos.d/zfs.repo"
	for _, fc := range []string{"fc42", "fc43"} {
		old := pkgFiles(openRPM(t, "zfs-release-3-0."+fc+".noarch.rpm"))
		cur := pkgFiles(openRPM(t, "zfs-release-3-1."+fc+".noarch.rpm"))
		want := map[string]string{}
		for k, v := range old {
			want[k] = v
		}
		want["/etc/pki/rpm-gpg/RPM-GPG-KEY-openzfs-fedora-44"] = "-> RPM-GPG-KEY-openzfs-2022"
		if diff := cmp.Diff(want, cur); diff != "" {
			t.Errorf("3-1.%s is not 3-0.%s plus the fedora-44 link (-want +got):\n%s", fc, fc, diff)
		}
	}
	if a, b := pkgFiles(openRPM(t, "zfs-release-3-0.fc43.noarch.rpm"))[repo], pkgFiles(openRPM(t, "zfs-release-3-1.fc44.noarch.rpm"))[repo]; a == "" || a != b {
		t.Errorf("zfs.repo of 3-1.fc44 (%s) differs from 3-0.fc43's (%s)", b, a)
	}
}

func TestLookupZFSRelease(t *testing.T) {
	tests := map[string]struct {
		family string
		major  int
		url    string
	}{
		"EL7":                     {FamilyEL, 7, "https://zfsonlinux.org/epel/zfs-release-2-3.el7.noarch.rpm"},
		"EL8":                     {FamilyEL, 8, "https://zfsonlinux.org/epel/zfs-release-3-0.el8.noarch.rpm"},
		"EL10":                    {FamilyEL, 10, "https://zfsonlinux.org/epel/zfs-release-3-0.el10.noarch.rpm"},
		"Fedora 41 has no 3-1":    {FamilyFedora, 41, "https://zfsonlinux.org/fedora/zfs-release-3-0.fc41.noarch.rpm"},
		"Fedora 42":               {FamilyFedora, 42, "https://zfsonlinux.org/fedora/zfs-release-3-1.fc42.noarch.rpm"},
		"Fedora 44 has no 3-0":    {FamilyFedora, 44, "https://zfsonlinux.org/fedora/zfs-release-3-1.fc44.noarch.rpm"},
		"Fedora 40 (end of life)": {FamilyFedora, 40, "https://zfsonlinux.org/fedora/zfs-release-2-8.fc40.noarch.rpm"},
		"Fedora 45 not yet":       {FamilyFedora, 45, ""},
		"Fedora 34 only 1.x":      {FamilyFedora, 34, ""},
		"EL6":                     {FamilyEL, 6, ""},
		"Debian":                  {"debian", 12, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, ok := LookupZFSRelease(tc.family, tc.major)
			if ok != (tc.url != "") || r.URL != tc.url {
				t.Errorf("LookupZFSRelease(%s, %d) = %q, %v; want %q", tc.family, tc.major, r.URL, ok, tc.url)
			}
		})
	}
}

func TestZFSReleaseKeys(t *testing.T) {
	const k13, k22 = "RPM-GPG-KEY-openzfs-2013", "RPM-GPG-KEY-openzfs-2022"
	tests := map[string]struct {
		family   string
		major    int
		repoKey  string
		accepted []string
	}{
		"EL7":                     {FamilyEL, 7, k13, []string{k13}},
		"EL8":                     {FamilyEL, 8, k13, []string{k13}},
		"EL9":                     {FamilyEL, 9, k22, []string{k22}},
		"EL10":                    {FamilyEL, 10, k22, []string{k22}},
		"Fedora 36":               {FamilyFedora, 36, k13, []string{k13}},
		"Fedora 38 (2-5 by 2013)": {FamilyFedora, 38, k22, []string{k22, k13}},
		"Fedora 41":               {FamilyFedora, 41, k22, []string{k22, k13}},
		"Fedora 44":               {FamilyFedora, 44, k22, []string{k22}},
		"Fedora 46 takes 44's":    {FamilyFedora, 46, k22, []string{k22}},
		"Fedora 31 takes 35's":    {FamilyFedora, 31, k13, []string{k13}},
		"unknown family":          {"debian", 12, "", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			repoKey, accepted, ok := ZFSReleaseKeys(tc.family, tc.major)
			if repoKey != tc.repoKey || ok != (tc.repoKey != "") {
				t.Errorf("repo key %q, %v; want %q", repoKey, ok, tc.repoKey)
			}
			if diff := cmp.Diff(tc.accepted, accepted); diff != "" {
				t.Errorf("accepted (-want +got):\n%s", diff)
			}
		})
	}
}

func TestZFSReleaseSite(t *testing.T) {
	for family, want := range map[string]string{FamilyEL: "https://zfsonlinux.org/epel/", FamilyFedora: "https://zfsonlinux.org/fedora/", "debian": ""} {
		if got := ZFSReleaseSite(family); got != want {
			t.Errorf("ZFSReleaseSite(%q) = %q, want %q", family, got, want)
		}
	}
}

func TestReleaseSections(t *testing.T) {
	type sec struct {
		ID      string
		Enabled bool
		Base    string
		Kind    string
	}
	summary := func(secs []ReleaseSection) (enabled []string, kinds map[string]int, get func(string) sec) {
		kinds = map[string]int{}
		for _, s := range secs {
			if s.Enabled {
				enabled = append(enabled, s.ID)
			}
			kinds[s.Kind]++
		}
		get = func(id string) sec {
			for _, s := range secs {
				if s.ID == id {
					return sec{s.ID, s.Enabled, s.Base, s.Kind}
				}
			}
			return sec{}
		}
		return enabled, kinds, get
	}
	tests := map[string]struct {
		family string
		major  int
		kinds  map[string]int
		probe  sec
	}{
		"EL9 3-0: 12 DKMS sections with kmod and source twins": {FamilyEL, 9,
			map[string]int{SectionDKMS: 12, SectionKmod: 12, SectionSource: 12}, sec{"zfs-2.3-kmod", false, "zfs-2.3", SectionKmod}},
		"EL7 2-3: no branch sections": {FamilyEL, 7,
			map[string]int{SectionDKMS: 2, SectionKmod: 2, SectionSource: 2}, sec{"zfs-testing-kmod", false, "zfs-testing", SectionKmod}},
		"Fedora 44 3-1: no kmod": {FamilyFedora, 44,
			map[string]int{SectionDKMS: 12, SectionSource: 12}, sec{"zfs-latest-source", false, "zfs-latest", SectionSource}},
		"Fedora 40 2-8": {FamilyFedora, 40,
			map[string]int{SectionDKMS: 2, SectionSource: 2}, sec{"zfs", true, "zfs", SectionDKMS}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			secs, err := ReleaseSections(tc.family, tc.major)
			if err != nil {
				t.Fatal(err)
			}
			enabled, kinds, get := summary(secs)
			if diff := cmp.Diff([]string{"zfs"}, enabled); diff != "" {
				t.Errorf("enabled sections (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.kinds, kinds); diff != "" {
				t.Errorf("section kinds (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.probe, get(tc.probe.ID)); diff != "" {
				t.Errorf("section %s (-want +got):\n%s", tc.probe.ID, diff)
			}
		})
	}
	if _, err := ReleaseSections(FamilyFedora, 45); err == nil || !strings.Contains(err.Error(), "no zfs-release package is known for fedora 45") {
		t.Errorf("ReleaseSections(fedora, 45) error = %v", err)
	}
}

func TestParseZFSReleasesMalformed(t *testing.T) {
	const header = "family\tmajor\tversion\tfile\turl\tsigned_by\trepo_key\taccepted_keys\tsource\n"
	const k = "RPM-GPG-KEY-openzfs-2022"
	const sections = "rpm\tsection\tenabled\tbaseurl\tgpgkey\nzfs-release-3-0.el9.noarch\tzfs\t1\thttp://download.zfsonlinux.org/epel/$releasever/$basearch/\tfile:///etc/pki/rpm-gpg/RPM-GPG-KEY-openzfs-el-$releasever\n"
	good := []string{"el", "9", "3-0", "zfs-release-3-0.el9.noarch.rpm", "https://zfsonlinux.org/epel/zfs-release-3-0.el9.noarch.rpm", k, k, k, "docs"}
	row := func(fields ...string) string { return strings.Join(fields, "\t") + "\n" }
	with := func(i int, v string) string {
		f := append([]string(nil), good...)
		f[i] = v
		return header + row(f...)
	}
	tests := map[string]struct{ text, sections, want string }{
		"bad family":        {with(0, "debian"), sections, "family"},
		"bad major":         {with(1, "nine"), sections, "major"},
		"file mismatch":     {with(3, "zfs-release-3-0.el8.noarch.rpm"), sections, "is not"},
		"url mismatch":      {with(4, "http://zfsonlinux.org/epel/zfs-release-3-0.el9.noarch.rpm"), sections, "url"},
		"unknown key":       {with(5, "RPM-GPG-KEY-zfsonlinux"), sections, "key"},
		"accepted order":    {with(7, "RPM-GPG-KEY-openzfs-2013 "+k), sections, "accepted_keys"},
		"no source":         {with(8, " "), sections, "source"},
		"duplicate":         {header + row(good...) + row(good...), sections, "twice"},
		"no sections":       {header + row(good...), "rpm\tsection\tenabled\tbaseurl\tgpgkey\nother\tzfs\t1\thttp://x/\tfile:///etc/pki/rpm-gpg/k\n", "no sections"},
		"two enabled":       {header + row(good...), sections + "zfs-release-3-0.el9.noarch\tzfs-kmod\t1\thttp://x/\tfile:///etc/pki/rpm-gpg/k\n", "exactly one"},
		"bad enabled":       {header + row(good...), "rpm\tsection\tenabled\tbaseurl\tgpgkey\nzfs-release-3-0.el9.noarch\tzfs\tyes\thttp://x/\tfile:///etc/pki/rpm-gpg/k\n", "enabled"},
		"bad gpgkey":        {header + row(good...), "rpm\tsection\tenabled\tbaseurl\tgpgkey\nzfs-release-3-0.el9.noarch\tzfs\t1\thttp://x/\thttps://k\n", "gpgkey"},
		"section twice":     {header + row(good...), sections + "zfs-release-3-0.el9.noarch\tzfs\t0\thttp://x/\tfile:///etc/pki/rpm-gpg/k\n", "twice"},
		"missing column":    {header + row(good[:8]...), sections, "fields"},
		"section not a zfs": {header + row(good...), sections + "zfs-release-3-0.el9.noarch\tepel\t0\thttp://x/\tfile:///etc/pki/rpm-gpg/k\n", "section id"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseZFSReleases([]byte(tc.text), []byte(tc.sections))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseZFSReleases error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
