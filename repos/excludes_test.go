package repos

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// EL9's /etc/dnf/dnf.conf as dnf 4.14 ships it (dnf.spec: etc/dnf/dnf.conf).
const el9DNFConf = "[main]\ngpgcheck=1\ninstallonly_limit=3\nclean_requirements_on_remove=True\nbest=True\nskip_if_unavailable=False\n"

func TestEditMainExcludes(t *testing.T) {
	const k1, k2 = "kernel-5.14.0-570.17.1.el9_6.x86_64", "kernel-core-5.14.0-570.17.1.el9_6.x86_64"
	cases := map[string]struct {
		in                 string
		drop, add          []string
		dropEmpty          bool
		want               string
		wantChanged, added bool
		wantItems          []string
	}{
		"no exclusion line: one is added after the last key": {
			in: el9DNFConf, add: []string{k1, k2},
			want:        el9DNFConf + "excludepkgs=" + k1 + "," + k2 + "\n",
			wantChanged: true, added: true, wantItems: []string{k1, k2},
		},
		"an admin's excludepkgs= line: ours are appended in its style": {
			in:   "[main]\ngpgcheck=1\nexcludepkgs=foo, bar\n\n# comment\n",
			add:  []string{k1},
			want: "[main]\ngpgcheck=1\nexcludepkgs=foo, bar, " + k1 + "\n\n# comment\n", wantChanged: true,
			wantItems: []string{"foo", "bar", k1},
		},
		"exclude= and excludepkgs= both: the last one gets ours": {
			in:   "[main]\nexcludepkgs=foo\nexclude=bar\n",
			add:  []string{k1},
			want: "[main]\nexcludepkgs=foo\nexclude=bar " + k1 + "\n", wantChanged: true,
			wantItems: []string{"foo", "bar", k1},
		},
		"lifting keeps the admin's items": {
			in: "[main]\nexcludepkgs=foo, " + k1 + ", " + k2 + "\n", drop: []string{k1, k2},
			want: "[main]\nexcludepkgs=foo\n", wantChanged: true, wantItems: []string{"foo"},
		},
		"lifting the last item of the line zfsinstall added removes it": {
			in: el9DNFConf + "excludepkgs=" + k1 + "," + k2 + "\n", drop: []string{k1, k2}, dropEmpty: true,
			want: el9DNFConf, wantChanged: true,
		},
		"lifting the last item of an admin's line leaves it empty": {
			in: "[main]\nexclude = " + k1 + "\n", drop: []string{k1},
			want: "[main]\nexclude = \n", wantChanged: true,
		},
		"already as wanted": {
			in: "[main]\nexcludepkgs=" + k1 + "\n", drop: []string{k1}, add: []string{k1},
			want: "[main]\nexcludepkgs=" + k1 + "\n", wantItems: []string{k1},
		},
		"a repository section's excludes are not touched": {
			in:   "[main]\ngpgcheck=1\n[baseos]\nexcludepkgs=foo\n",
			add:  []string{k1},
			want: "[main]\ngpgcheck=1\nexcludepkgs=" + k1 + "\n[baseos]\nexcludepkgs=foo\n", wantChanged: true, added: true,
			wantItems: []string{k1},
		},
		"CRLF and no final newline survive": {
			in: "[main]\r\ngpgcheck=1", add: []string{k1},
			want: "[main]\r\ngpgcheck=1\r\nexcludepkgs=" + k1, wantChanged: true, added: true, wantItems: []string{k1},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := Parse("dnf.conf", []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			changed, added, err := f.EditMainExcludes(tc.drop, tc.add, tc.dropEmpty)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(f.Bytes())); diff != "" {
				t.Errorf("file (-want +got):\n%s", diff)
			}
			if changed != tc.wantChanged || added != tc.added {
				t.Errorf("changed, added = %v, %v; want %v, %v", changed, added, tc.wantChanged, tc.added)
			}
			if diff := cmp.Diff(tc.wantItems, f.MainExcludes()); diff != "" {
				t.Errorf("MainExcludes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEditMainExcludesNeedsMain(t *testing.T) {
	f, err := Parse("dnf.conf", []byte("[baseos]\nname=x\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.EditMainExcludes(nil, []string{"kernel-1-1.x86_64"}, false); err == nil {
		t.Error("a file without [main] was edited")
	}
}
