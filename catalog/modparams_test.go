package catalog

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLookupModuleParam(t *testing.T) {
	tests := map[string]struct {
		name   string
		want   ModuleParam
		wantOK bool
	}{
		"arc max":            {"zfs_arc_max", ModuleParam{Name: "zfs_arc_max", Type: "u64", Default: "0B"}, true},
		"arc min":            {"zfs_arc_min", ModuleParam{Name: "zfs_arc_min", Type: "u64", Default: "0B"}, true},
		"boolean":            {"zfs_prefetch_disable", ModuleParam{Name: "zfs_prefetch_disable", Type: "int", Default: "0|1"}, true},
		"seconds":            {"zfs_txg_timeout", ModuleParam{Name: "zfs_txg_timeout", Type: "uint", Default: "5s"}, true},
		"with gloss":         {"dmu_prefetch_max", ModuleParam{Name: "dmu_prefetch_max", Type: "uint", Default: "134217728B (128 MiB)"}, true},
		"charp path":         {"spa_config_path", ModuleParam{Name: "spa_config_path", Type: "charp", Default: "/etc/zfs/zpool.cache"}, true},
		"string":             {"zfs_vdev_raidz_impl", ModuleParam{Name: "zfs_vdev_raidz_impl", Type: "string", Default: "fastest"}, true},
		"s64":                {"zfs_immediate_write_sz", ModuleParam{Name: "zfs_immediate_write_sz", Type: "s64", Default: "32768B (32 KiB)"}, true},
		"default in prose":   {"zfs_dirty_data_max", ModuleParam{Name: "zfs_dirty_data_max", Type: "int"}, true},
		"dashes as kernel":   {"zfs-arc-max", ModuleParam{Name: "zfs_arc_max", Type: "u64", Default: "0B"}, true},
		"nested list value":  {"wait", ModuleParam{}, false},
		"spl is not zfs":     {"spl_hostid", ModuleParam{}, false},
		"case matters":       {"ZFS_ARC_MAX", ModuleParam{}, false},
		"made up":            {"zfs_arc_maximum_turbo", ModuleParam{}, false},
		"empty":              {"", ModuleParam{}, false},
		"option line, whole": {"zfs_arc_max=8589934592", ModuleParam{}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := LookupModuleParam(tc.name)
			if ok != tc.wantOK {
				t.Fatalf("LookupModuleParam(%q) ok = %v, want %v", tc.name, ok, tc.wantOK)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("LookupModuleParam(%q) mismatch (-want +got):\n%s", tc.name, diff)
			}
		})
	}
}

// TestWellKnownModuleParams pins names zfsinstall users set every day, so a
// regeneration from a truncated or wrong page is caught.
func TestWellKnownModuleParams(t *testing.T) {
	for _, name := range []string{"zfs_arc_max", "zfs_arc_min", "zfs_prefetch_disable", "zfs_txg_timeout"} {
		if _, ok := LookupModuleParam(name); !ok {
			t.Errorf("LookupModuleParam(%q) not found", name)
		}
	}
	for _, name := range []string{"zfs_arc_turbo_boost", "spl_kmem_cache_slab_limit"} {
		if p, ok := LookupModuleParam(name); ok {
			t.Errorf("LookupModuleParam(%q) = %+v, want not found", name, p)
		}
	}
}

func TestModuleParams(t *testing.T) {
	all := ModuleParams()
	if len(all) != 316 {
		t.Errorf("len(ModuleParams()) = %d, want 316 (the rows of data/module-params.tsv)", len(all))
	}
	if !slices.IsSortedFunc(all, func(a, b ModuleParam) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("ModuleParams() is not sorted by name")
	}
	for _, p := range all {
		got, ok := LookupModuleParam(p.Name)
		if !ok || got != p {
			t.Errorf("LookupModuleParam(%q) = %+v, %v; want %+v, true", p.Name, got, ok, p)
		}
	}
	var types []string
	for _, p := range all {
		if !slices.Contains(types, p.Type) {
			types = append(types, p.Type)
		}
	}
	slices.Sort(types)
	if diff := cmp.Diff([]string{"charp", "int", "long", "s64", "string", "u64", "uint", "ulong"}, types); diff != "" {
		t.Errorf("types in module-params.tsv (-want +got):\n%s", diff)
	}
	all[0].Name = "changed"
	if ModuleParams()[0].Name == "changed" {
		t.Error("ModuleParams() shares its slice with the catalog")
	}
}

func TestSuggestModuleParam(t *testing.T) {
	tests := map[string]struct {
		name string
		want []string
	}{
		"one letter off":        {"zfs_arc_mx", []string{"zfs_arc_max", "zfs_arc_min"}},
		"transposed":            {"zfs_arc_mxa", []string{"zfs_arc_max", "zfs_arc_min"}},
		"ties in name order":    {"zfs_arc_mix", []string{"zfs_arc_max", "zfs_arc_min"}},
		"upper case":            {"ZFS_ARC_MAX", []string{"zfs_arc_max", "zfs_arc_min"}},
		"dashes and typo":       {"zfs-txg-timout", []string{"zfs_txg_timeout"}},
		"closest first":         {"zfs_vdev_trim_mid_active", []string{"zfs_vdev_trim_min_active", "zfs_vdev_trim_max_active"}},
		"extra letter":          {"zfs_prefetch_disabled", []string{"zfs_prefetch_disable"}},
		"at most three":         {"zfs_vdev_scrub_max_activ", []string{"zfs_vdev_scrub_max_active", "zfs_vdev_scrub_min_active"}},
		"known name":            {"zfs_arc_max", nil},
		"known with dashes":     {"zfs-arc-max", nil},
		"nothing close":         {"completely_unrelated_name", nil},
		"empty":                 {"", nil},
		"three edits is near":   {"zfs_arc_", []string{"zfs_arc_max", "zfs_arc_min"}},
		"four edits is too far": {"zfs_ar", nil},
		"capped at three":       {"zfs_vdev_async_read_mid_active", []string{"zfs_vdev_async_read_min_active", "zfs_vdev_async_read_max_active", "zfs_vdev_sync_read_min_active"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := SuggestModuleParam(tc.name)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("SuggestModuleParam(%q) mismatch (-want +got):\n%s", tc.name, diff)
			}
			for _, s := range got {
				if _, ok := LookupModuleParam(s); !ok {
					t.Errorf("suggestion %q is not a known parameter", s)
				}
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b  string
		limit int
		want  int
	}{
		{"", "", 3, 0},
		{"abc", "abc", 3, 0},
		{"abc", "abd", 3, 1},
		{"abc", "acb", 3, 2},
		{"kitten", "sitting", 3, 3},
		{"kitten", "sitting", 2, 3}, // over the limit: limit+1
		{"a", "abcdef", 3, 4},
		{"zfs_arc_max", "zfs_arc_min", 3, 2},
	}
	for _, tc := range tests {
		if got := editDistance(tc.a, tc.b, tc.limit); got != tc.want {
			t.Errorf("editDistance(%q, %q, %d) = %d, want %d", tc.a, tc.b, tc.limit, got, tc.want)
		}
	}
}

func TestLookupSPLParam(t *testing.T) {
	tests := map[string]struct {
		name   string
		want   ModuleParam
		wantOK bool
	}{
		"hostid":         {"spl_hostid", ModuleParam{Name: "spl_hostid", Type: "ulong", Default: "0"}, true},
		"hostid path":    {"spl_hostid_path", ModuleParam{Name: "spl_hostid_path", Type: "charp", Default: "/etc/hostid"}, true},
		"alternatives":   {"spl_kmem_cache_max_size", ModuleParam{Name: "spl_kmem_cache_max_size", Type: "uint", Default: "32 (64-bit) or 4 (32-bit)"}, true},
		"zfs is not spl": {"zfs_arc_max", ModuleParam{}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := LookupSPLParam(tc.name)
			if ok != tc.wantOK {
				t.Fatalf("LookupSPLParam(%q) ok = %v, want %v", tc.name, ok, tc.wantOK)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("LookupSPLParam(%q) mismatch (-want +got):\n%s", tc.name, diff)
			}
		})
	}
	if n := len(data().splParams); n != 16 {
		t.Errorf("spl-params.tsv has %d rows, want 16", n)
	}
}

// TestModuleParamsDataHeader checks the data files say where they come from.
func TestModuleParamsDataHeader(t *testing.T) {
	for name, b := range map[string][]byte{"module-params.tsv": moduleParamsTSV, "spl-params.tsv": splParamsTSV} {
		text := string(b)
		for _, want := range []string{"openzfs/zfs", "man/man4/", "at commit ", "Regenerated from that man page"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s header does not mention %q", name, want)
			}
		}
	}
}

func TestParseModuleParamsMalformed(t *testing.T) {
	const header = "name\ttype\tdefault\tfirst_release\n"
	row := func(fields ...string) string { return strings.Join(fields, "\t") + "\n" }
	tests := map[string]struct {
		text string
		want string
	}{
		"bad name":          {header + row("Zfs_arc_max", "u64", "0B", ""), "name"},
		"bad type":          {header + row("zfs_arc_max", "u65", "0B", ""), "type"},
		"spaced default":    {header + row("zfs_arc_max", "u64", " 0B", ""), "spaces"},
		"bad first_release": {header + row("zfs_arc_max", "u64", "0B", "2.2"), "first_release"},
		"duplicate":         {header + row("zfs_arc_max", "u64", "0B", "") + row("zfs_arc_max", "u64", "0B", ""), "twice"},
		"missing column":    {header + row("zfs_arc_max", "u64", "0B"), "fields"},
		"old header":        {"name\ttype\tdefault\n" + row("zfs_arc_max", "u64", "0B"), "header"},
		"no rows":           {header, "no rows"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseModuleParams("module-params.tsv", []byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "module-params.tsv") {
				t.Errorf("parseModuleParams error = %v, want one naming the file and mentioning %q", err, tc.want)
			}
		})
	}
	if ps, err := parseModuleParams("x.tsv", []byte(header+row("zfs_b", "int", "", "2.2.0")+row("zfs_a", "int", "1|0", ""))); err != nil {
		t.Errorf("valid file: %v", err)
	} else if diff := cmp.Diff([]ModuleParam{{"zfs_a", "int", "1|0"}, {"zfs_b", "int", ""}}, ps); diff != "" {
		t.Errorf("valid file (-want +got):\n%s", diff)
	}
}

func TestLoadRejectsParamInBothModules(t *testing.T) {
	f := embedded
	f.splParams = []byte("name\ttype\tdefault\tfirst_release\nzfs_arc_max\tu64\t0B\t\n")
	if _, err := load(f); err == nil || !strings.Contains(err.Error(), "zfs_arc_max") {
		t.Errorf("load with zfs_arc_max in spl-params.tsv: error = %v, want one naming it", err)
	}
}

func TestModuleParamIntRange(t *testing.T) {
	type result struct {
		Lo, Hi string
		OK     bool
	}
	tests := map[string]struct {
		name string
		want result
	}{
		"u64":                             {"zfs_arc_max", result{"0", "18446744073709551615", true}},
		"uint":                            {"zfs_txg_timeout", result{"0", "4294967295", true}},
		"int reaches uint max":            {"zfs_flags", result{"-2147483648", "4294967295", true}},
		"s64":                             {"zfs_immediate_write_sz", result{"-9223372036854775808", "18446744073709551615", true}},
		"documented int, declared 64-bit": {"zfs_dirty_data_max", result{"-9223372036854775808", "18446744073709551615", true}},
		"documented uint, once ulong":     {"zfs_vdev_min_auto_ashift", result{"0", "18446744073709551615", true}},
		"charp":                           {"spa_config_path", result{}},
		"string":                          {"zfs_vdev_raidz_impl", result{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, ok := LookupModuleParam(tc.name)
			if !ok {
				t.Fatalf("LookupModuleParam(%q) not found", tc.name)
			}
			lo, hi, ok := p.IntRange()
			got := result{OK: ok}
			if ok {
				got.Lo, got.Hi = lo.String(), hi.String()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("IntRange() of %s (%s) mismatch (-want +got):\n%s", tc.name, p.Type, diff)
			}
		})
	}
	spl, _ := LookupSPLParam("spl_hostid")
	if lo, hi, ok := spl.IntRange(); !ok || lo.Sign() != 0 || hi.String() != "18446744073709551615" {
		t.Errorf("IntRange() of spl_hostid (ulong) = %v, %v, %v", lo, hi, ok)
	}
	for name := range wideParams {
		if _, ok := LookupModuleParam(name); !ok {
			t.Errorf("wideParams names %s, which zfs(4) does not document", name)
		}
	}
}

func TestModuleParamIsSwitch(t *testing.T) {
	tests := map[string]bool{
		"zfs_prefetch_disable":  true,  // 0|1
		"l2arc_noprefetch":      true,  // 1|0
		"zvol_request_sync":     true,  // uint, 0|1
		"zfs_txg_timeout":       false, // 5s
		"spl_taskq_thread_bind": false, // 0
	}
	for name, want := range tests {
		p, ok := LookupModuleParam(name)
		if !ok {
			p, ok = LookupSPLParam(name)
		}
		if !ok {
			t.Fatalf("%s not found", name)
		}
		if got := p.IsSwitch(); got != want {
			t.Errorf("IsSwitch() of %s (default %q) = %v, want %v", name, p.Default, got, want)
		}
	}
	if !(ModuleParam{Name: "x", Type: "bool"}).IsSwitch() {
		t.Error("a bool parameter is not a switch")
	}
}
