package repos

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/zfsinstall/zfsinstall/host"
)

func TestDNFConfigGPGChecked(t *testing.T) {
	for name, c := range map[string]struct {
		main string
		want map[string][2]bool // id -> checked, found
	}{
		"EL's dnf.conf": {main: "[main]\ngpgcheck=1\n\n[local]\nbaseurl=file:///srv\n",
			want: map[string][2]bool{"a": {false, true}, "b": {true, true}, "c": {true, true}, "local": {true, true}, "d": {true, true}, "nope": {false, false}}},
		"no gpgcheck in [main]: libdnf's default is off": {main: "[main]\nbest=True\n",
			want: map[string][2]bool{"a": {false, true}, "b": {false, true}, "d": {true, true}}},
		"reposdir names one directory": {main: "[main]\ngpgcheck=1\nreposdir=/etc/distro.repos.d\n",
			want: map[string][2]bool{"a": {false, false}, "c": {true, true}}},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			for p, content := range map[string]string{
				"etc/dnf/dnf.conf":             c.main,
				"etc/yum.repos.d/a.repo":       "[a]\nbaseurl=x\ngpgcheck=0\n\n[b]\nbaseurl=y\n",
				"etc/yum.repos.d/d.repo":       "[d]\nbaseurl=z\ngpgcheck=yes\n",
				"etc/yum.repos.d/ignored.conf": "[e]\nbaseurl=z\n",
				"etc/distro.repos.d/c.repo":    "[c]\nbaseurl=w\n",
			} {
				os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755)
				os.WriteFile(filepath.Join(root, p), []byte(content), 0o644)
			}
			cfg, err := ReadDNFConfig(host.NewReal(root, nil))
			if err != nil {
				t.Fatal(err)
			}
			for id, want := range c.want {
				if checked, found := cfg.GPGChecked(id); checked != want[0] || found != want[1] {
					t.Errorf("GPGChecked(%s) = %v, %v; want %v, %v", id, checked, found, want[0], want[1])
				}
			}
		})
	}
}
