package catalog

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDocumentedParams(t *testing.T) {
	for name, want := range map[string]DocumentedParam{
		"zfs_arc_max":        {Name: "zfs_arc_max", Module: "zfs", First: "0.8.0", Last: "2.4.4"},
		"zfs-arc-max":        {Name: "zfs_arc_max", Module: "zfs", First: "0.8.0", Last: "2.4.4"},
		"zfs_arc_meta_limit": {Name: "zfs_arc_meta_limit", Module: "zfs", First: "0.8.0", Last: "2.1.16"},
		"zfs_bclone_enabled": {Name: "zfs_bclone_enabled", Module: "zfs", First: "2.2.1", Last: "2.4.4"},
		"spl_hostid":         {Name: "spl_hostid", Module: "spl", First: "0.8.0", Last: "2.4.4"},
	} {
		got, ok := LookupDocumentedParam(name)
		if !ok {
			t.Errorf("%s: not documented", name)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	for _, name := range []string{"zfs_arc_mx", "wait", "panic", "unknown_param"} {
		if p, ok := LookupDocumentedParam(name); ok {
			t.Errorf("%s is documented: %+v", name, p)
		}
	}
	// The typed tables are one page's: every name in them is documented by
	// some release, in the same module.
	for module, params := range map[string][]ModuleParam{"zfs": ModuleParams(), "spl": data().splParams} {
		for _, p := range params {
			if d, ok := LookupDocumentedParam(p.Name); !ok || d.Module != module {
				t.Errorf("%s (%s) is not in module-param-names.tsv as a %s parameter: %+v", p.Name, module, module, d)
			}
		}
	}
}
