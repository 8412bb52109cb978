package repos

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sharedData is the real upstream data the tests read (testdata/upstream, copied from the project's shared data).
const sharedData = "../testdata/upstream"

func TestParseRoundTrip(t *testing.T) {
	inputs := map[string]string{
		"empty":            "",
		"only comments":    "# a\n; b\n\n",
		"no final newline": "[a]\nx=1",
		"crlf":             "[a]\r\nx=1\r\n",
		"mixed endings":    "[a]\r\nx=1\ny=2\r\n",
		"bom":              "\ufeff[a]\nenabled=0\n",
		"continuation":     "[a]\nbaseurl=http://a/\n  http://b/\n\n\thttp://c/\nenabled=1\n",
		"blank with cr":    "[a]\n\r\nx=1\n",
		"header comment":   "[a] ; note\nx=1\n",
	}
	paths, err := filepath.Glob(filepath.Join(testdata, "*", "*.repo"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no repo files under %s: %v", testdata, err)
	}
	for _, p := range paths {
		inputs[p] = string(readTestFile(t, p))
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			f, err := Parse(name, []byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(in, string(f.Bytes())); diff != "" {
				t.Errorf("(-parsed +serialised):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"no equals":        {"[zfs]\nname=x\nenabled 1\n", "zfs.repo:3: line is neither a [section], key=value, comment nor blank"},
		"before section":   {"# c\nenabled=1\n[zfs]\n", "zfs.repo:2: line comes before the first [section] header"},
		"no bracket":       {"[zfs\nx=1\n", "zfs.repo:1: section header has no closing ']'"},
		"empty name":       {"[]\n", "zfs.repo:1: section header [] has no name"},
		"text after":       {"[zfs] dkms\n", "zfs.repo:1: text after the section header [zfs]"},
		"no key":           {"[zfs]\n=1\n", "zfs.repo:2: key=value line has no key"},
		"bad continuation": {"[zfs]\n  http://x/\n", "zfs.repo:2: indented line does not continue a key=value line"},
		"duplicate":        {"[zfs]\nenabled=1\n\n[zfs-kmod]\n[zfs]\nenabled=0\n", "zfs.repo:5: section [zfs] is already defined at line 1 (dnf would merge or reject them): remove one of the two"},
		"bad boolean":      {"[zfs]\nenabled=maybe\n", "zfs.repo:2: enabled=maybe is not a boolean dnf accepts (1/0, yes/no, true/false, on/off)"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("zfs.repo", []byte(tt.in))
			if diff := cmp.Diff(tt.want, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSections(t *testing.T) {
	in := "[zfs]   # dkms\nname = x\nbaseurl = http://a/$releasever/?x=1&y=2\n  http://b/\nenabled = True\ngpgkey=file:///k\nexclude=zfs-2.2.0*\n" +
		"[zfs-kmod]\nexcludepkgs=kmod-zfs-2.2.0*\n[zfs-source]\nenabled=off\nenabled=1\n"
	f, err := Parse("zfs.repo", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Section{
		{ID: "zfs", Enabled: true, HasEnabledLine: true, BaseURL: "http://a/$releasever/?x=1&y=2\nhttp://b/", GPGKey: "file:///k", Exclude: "zfs-2.2.0*", Line: 1},
		{ID: "zfs-kmod", Enabled: true, Exclude: "kmod-zfs-2.2.0*", Line: 8},
		{ID: "zfs-source", Enabled: true, HasEnabledLine: true, Line: 10},
	}
	if diff := cmp.Diff(want, f.Sections()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestRealFilesMatchSectionTable reads the zfs.repo files extracted from
// real zfs-release packages and compares them with the section table in
// testdata/upstream/openzfs/zfs-release-sections.tsv.
func TestRealFilesMatchSectionTable(t *testing.T) {
	type row struct {
		ID              string
		Enabled         bool
		BaseURL, GPGKey string
	}
	table := map[string][]row{}
	tsv, err := os.Open(filepath.Join(sharedData, "openzfs", "zfs-release-sections.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer tsv.Close()
	sc := bufio.NewScanner(tsv)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 5 || c[0] == "rpm" {
			continue
		}
		table[c[0]] = append(table[c[0]], row{ID: c[1], Enabled: c[2] == "1", BaseURL: c[3], GPGKey: c[4]})
	}
	for _, pkg := range []string{"zfs-release-3-0.el9", "zfs-release-2-3.el9", "zfs-release-2-3.el8", "zfs-release-3-0.fc41"} {
		t.Run(pkg, func(t *testing.T) {
			f, err := Parse(pkg, readTestFile(t, filepath.Join(testdata, "real", pkg+".zfs.repo")))
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			for _, s := range f.Sections() {
				got = append(got, row{s.ID, s.Enabled, s.BaseURL, s.GPGKey})
			}
			if diff := cmp.Diff(table[pkg+".noarch"], got); diff != "" {
				t.Errorf("(-table +file):\n%s", diff)
			}
		})
	}
}

func TestSetEnabled(t *testing.T) {
	tests := map[string]struct {
		in          string
		id          string
		enabled     bool
		want        string
		wantChanged bool
		wantErr     string
	}{
		"disable keeps spacing": {in: "[zfs]\nenabled = 1  \n", id: "zfs", want: "[zfs]\nenabled = 0  \n", wantChanged: true},
		"enable tab":            {in: "[zfs]\nenabled\t=\t0\n", id: "zfs", enabled: true, want: "[zfs]\nenabled\t=\t1\n", wantChanged: true},
		"already":               {in: "[zfs]\nenabled=yes\n", id: "zfs", enabled: true, want: "[zfs]\nenabled=yes\n"},
		"default enabled":       {in: "[zfs]\nname=x\n", id: "zfs", enabled: true, want: "[zfs]\nname=x\n"},
		"insert after last key": {in: "[zfs]\nname=x\ngpgcheck=1\n\n# next\n[b]\n", id: "zfs", want: "[zfs]\nname=x\ngpgcheck=1\nenabled=0\n\n# next\n[b]\n", wantChanged: true},
		"insert after cont":     {in: "[zfs]\nbaseurl=a\n  b\n[b]\n", id: "zfs", want: "[zfs]\nbaseurl=a\n  b\nenabled=0\n[b]\n", wantChanged: true},
		"insert spaced style":   {in: "[zfs]\nname = x\n", id: "zfs", want: "[zfs]\nname = x\nenabled = 0\n", wantChanged: true},
		"insert empty section":  {in: "[zfs]\n\n[b]\n", id: "zfs", want: "[zfs]\nenabled=0\n\n[b]\n", wantChanged: true},
		"insert crlf":           {in: "[zfs]\r\nname=x\r\n", id: "zfs", want: "[zfs]\r\nname=x\r\nenabled=0\r\n", wantChanged: true},
		"insert at eof no nl":   {in: "[zfs]\r\nname=x", id: "zfs", want: "[zfs]\r\nname=x\r\nenabled=0", wantChanged: true},
		"header at eof":         {in: "[zfs]", id: "zfs", want: "[zfs]\nenabled=0", wantChanged: true},
		"duplicate key lines":   {in: "[zfs]\nenabled=1\nenabled=1\n", id: "zfs", want: "[zfs]\nenabled=0\nenabled=0\n", wantChanged: true},
		"other section only":    {in: "[a]\nenabled=1\n[zfs]\nenabled=1\n", id: "zfs", want: "[a]\nenabled=1\n[zfs]\nenabled=0\n", wantChanged: true},
		"missing section":       {in: "[a]\n", id: "zfs", want: "[a]\n", wantErr: "zfs.repo has no [zfs] section"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f, err := Parse("zfs.repo", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			changed, err := f.SetEnabled(tt.id, tt.enabled)
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}
			if diff := cmp.Diff(tt.want, string(f.Bytes())); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if _, err := Parse("again", f.Bytes()); err != nil {
				t.Errorf("result does not parse: %v", err)
			}
		})
	}
}

func TestSetOption(t *testing.T) {
	tests := map[string]struct {
		in, key, value string
		want           string
		wantChanged    bool
		wantErr        string
	}{
		"add hold":           {in: "[zfs]\nenabled=1\n\n[b]\n", key: "exclude", value: "zfs-2.2.0* zfs-2.2.1*", want: "[zfs]\nenabled=1\nexclude=zfs-2.2.0* zfs-2.2.1*\n\n[b]\n", wantChanged: true},
		"change hold":        {in: "[zfs]\nexclude = a  \n", key: "exclude", value: "b=c $releasever", want: "[zfs]\nexclude = b=c $releasever  \n", wantChanged: true},
		"same hold":          {in: "[zfs]\nexclude=a\n", key: "exclude", value: "a", want: "[zfs]\nexclude=a\n"},
		"remove hold":        {in: "[zfs]\nexclude=a\n  b\n# c\n  d\ngpgcheck=1\n", key: "exclude", want: "[zfs]\n# c\ngpgcheck=1\n", wantChanged: true},
		"remove absent":      {in: "[zfs]\ngpgcheck=1\n", key: "exclude", want: "[zfs]\ngpgcheck=1\n"},
		"replace multi-line": {in: "[zfs]\nexclude=a\n  b\nx=1\n", key: "exclude", value: "c", want: "[zfs]\nexclude=c\nx=1\n", wantChanged: true},
		"newline in value":   {in: "[zfs]\n", key: "exclude", value: "a\nb", want: "[zfs]\n", wantErr: "zfs.repo: the value of exclude= must be one line"},
		"bad key":            {in: "[zfs]\n", key: "a=b", value: "c", want: "[zfs]\n", wantErr: `zfs.repo: "a=b" is not a repo option name`},
		"bad enabled":        {in: "[zfs]\n", key: "enabled", value: "maybe", want: "[zfs]\n", wantErr: "zfs.repo: enabled=maybe is not a boolean: use SetEnabled"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f, err := Parse("zfs.repo", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			changed, err := f.SetOption("zfs", tt.key, tt.value)
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}
			if diff := cmp.Diff(tt.want, string(f.Bytes())); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if _, err := Parse("again", f.Bytes()); err != nil {
				t.Errorf("result does not parse: %v", err)
			}
		})
	}
}

func TestApplyEnabledUnknownSection(t *testing.T) {
	in := []byte("[zfs]\nenabled=1\n")
	f, err := Parse("zfs.repo", in)
	if err != nil {
		t.Fatal(err)
	}
	_, err = applyEnabled(f, map[string]bool{"zfs": false, "zfs-kmod": true})
	if diff := cmp.Diff("zfs.repo has no [zfs-kmod] section", errString(err)); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	if !bytes.Equal(in, f.Bytes()) {
		t.Errorf("file changed despite the error:\n%s", f.Bytes())
	}
}
