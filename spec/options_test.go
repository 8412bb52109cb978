package spec

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOptionValues checks every module option value against what it is
// written as: "options zfs NAME=VALUE" in /etc/modprobe.d/zfs.conf.
func TestOptionValues(t *testing.T) {
	tests := map[string]struct {
		name, value string // value is HCL source
		want        string // the value written, or "" when refused
		wantDetail  string // a part of the refusal
	}{
		"u64 bytes":                {"zfs_arc_max", `"8589934592"`, "8589934592", ""},
		"u64 as a number":          {"zfs_arc_max", `8589934592`, "8589934592", ""},
		"u64 arithmetic":           {"zfs_arc_max", `8 * 1024 * 1024 * 1024`, "8589934592", ""},
		"u64 max":                  {"zfs_arc_max", `"18446744073709551615"`, "18446744073709551615", ""},
		"u64 above max":            {"zfs_arc_max", `"18446744073709551616"`, "", "from 0 to 18446744073709551615"},
		"u64 with a size suffix":   {"zfs_arc_max", `"8G"`, "", "Write sizes in bytes as an integer: 8G is 8589934592."},
		"u64 with GiB":             {"zfs_arc_min", `"512MiB"`, "", "512MiB is 536870912."},
		"u64 negative":             {"zfs_arc_max", `-1`, "", "from 0 to"},
		"u64 hex":                  {"zfs_arc_max", `"0x200000000"`, "", "plain decimal"},
		"u64 leading zero (octal)": {"zfs_arc_max", `"0100"`, "", "plain decimal"},
		"u64 plus sign":            {"zfs_arc_max", `"+1"`, "", "plain decimal"},
		"zero":                     {"zfs_arc_max", `0`, "0", ""},
		"uint":                     {"zfs_txg_timeout", `5`, "5", ""},
		"uint max":                 {"zfs_txg_timeout", `4294967295`, "4294967295", ""},
		"uint above max":           {"zfs_txg_timeout", `4294967296`, "", "from 0 to 4294967295"},
		"uint with a unit":         {"zfs_txg_timeout", `"5s"`, "", "plain decimal"},
		// The page says int; every release declares it UINT.
		"documented int, declared uint": {"zfs_flags", `4294967295`, "4294967295", ""},
		"int negative":                  {"zfs_flags", `-1`, "-1", ""},
		"int below min":                 {"zfs_flags", `-2147483649`, "", "from -2147483648 to 4294967295"},
		// The page says int; zfs-2.1 declares ULONG, zfs-2.2 on U64.
		"documented int, declared 64-bit": {"zfs_dirty_data_max", `"8589934592"`, "8589934592", ""},
		"s64":                             {"zfs_immediate_write_sz", `-1`, "-1", ""},
		"switch on":                       {"zfs_prefetch_disable", `1`, "1", ""},
		"switch off":                      {"zfs_prefetch_disable", `"0"`, "0", ""},
		"switch 2":                        {"zfs_prefetch_disable", `2`, "", "is a switch"},
		"switch true":                     {"zfs_prefetch_disable", `true`, "", "For a 0|1 switch write 1 or 0."},
		"switch yes":                      {"zfs_prefetch_disable", `"yes"`, "", "write 1 to turn it on"},
		"spl param":                       {"spl_kmem_cache_max_size", `32`, "32", ""},
		"spl param hex":                   {"spl_hostid", `"0x1234"`, "", "(spl(4): ulong)"},
		"charp path":                      {"spa_config_path", `"/etc/zfs/zpool.cache"`, "/etc/zfs/zpool.cache", ""},
		"string":                          {"zfs_vdev_raidz_impl", `"avx2"`, "avx2", ""},
		"string with a comma":             {"zfs_vdev_raidz_impl", `"cycle,avx2"`, "cycle,avx2", ""},
		"trailing backslash":              {"spa_config_path", `"/etc/zfs/zpool.cache\\"`, "", "backslashes"},
		"inner backslash":                 {"spa_config_path", `"/etc\\zfs"`, "", "backslashes"},
		"double quotes":                   {"spa_config_path", `"\"/etc/zfs/zpool.cache\""`, "", "quotes"},
		"single quote":                    {"spa_config_path", `"it's"`, "", "quotes"},
		"newline":                         {"zfs_arc_max", `"1\noptions spl spl_hostid=1"`, "", "got \"1\\noptions spl spl_hostid=1\""},
		"carriage return":                 {"spa_config_path", `"1\r"`, "", "whitespace"},
		"tab":                             {"spa_config_path", `"a\tb"`, "", "whitespace"},
		"NUL":                             {"spa_config_path", `"1\u0000"`, "", `got "1\x00"`},
		"non-ASCII":                       {"spa_config_path", `"zpool·cache"`, "", "printable ASCII"},
		"non-breaking space":              {"spa_config_path", `"a\u00a0b"`, "", "printable ASCII"},
		"hash":                            {"spa_config_path", `"a#b"`, "", `"#"`},
		"empty":                           {"zfs_arc_max", `""`, "", "not empty"},
		"null":                            {"zfs_arc_max", `null`, "", "not empty"},
		"fraction":                        {"zfs_arc_max", `0.5`, "", "whole number"},
		"list":                            {"zfs_arc_max", `[1]`, "", "whole number"},
		"charp, any word":                 {"spa_config_path", `"x=y,z"`, "x=y,z", ""},
		"charp, 1024 bytes":               {"spa_config_path", `"` + strings.Repeat("a", 1024) + `"`, strings.Repeat("a", 1024), ""},
		"charp, 1025 bytes":               {"spa_config_path", `"` + strings.Repeat("a", 1025) + `"`, "", "1025 bytes long; the kernel takes at most 1024"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			src := fmt.Sprintf("module {\n  options = { %s = %s }\n}\n", tc.name, tc.value)
			s, diags := Parse("options.hcl", []byte(src))
			if tc.want != "" {
				if diags.HasErrors() {
					t.Fatalf("Parse() errors: %v", diags)
				}
				if diff := cmp.Diff(map[string]string{tc.name: tc.want}, s.Module.Options); diff != "" {
					t.Errorf("Options mismatch (-want +got):\n%s", diff)
				}
				return
			}
			if len(diags) != 1 || diags[0].Summary != "Invalid module option value" {
				t.Fatalf("diagnostics = %v, want one Invalid module option value", diags)
			}
			if d := diags[0]; !strings.Contains(d.Detail, tc.wantDetail) || d.Subject.Start.Line != 2 {
				t.Errorf("detail = %q at %v, want it to contain %q and point at line 2", d.Detail, d.Subject, tc.wantDetail)
			}
		})
	}
}

func TestSizeInBytes(t *testing.T) {
	tests := map[string]struct {
		in   string
		want int64
		ok   bool
	}{
		"G":           {"8G", 8 << 30, true},
		"g":           {"8g", 8 << 30, true},
		"GiB":         {"8GiB", 8 << 30, true},
		"GB":          {"8GB", 8 << 30, true},
		"space":       {"8 G", 8 << 30, true},
		"K":           {"4K", 4 << 10, true},
		"T":           {"2T", 2 << 40, true},
		"no unit":     {"8", 0, false},
		"overflow":    {"999999999999T", 0, false},
		"fraction":    {"1.5G", 0, false},
		"two spaces":  {"8  G", 0, false},
		"other unit":  {"8P", 0, false},
		"unit before": {"G8", 0, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := sizeInBytes(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("sizeInBytes(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}
