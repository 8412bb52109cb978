package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseHeading(t *testing.T) {
	tests := map[string]struct {
		line string
		want param
	}{
		"bytes":              {".It Sy zfs_arc_max Ns = Ns Sy 0 Ns B Pq u64", param{"zfs_arc_max", "u64", "0B"}},
		"boolean":            {".It Sy zfs_prefetch_disable Ns = Ns Sy 0 Ns | Ns 1 Pq int", param{"zfs_prefetch_disable", "int", "0|1"}},
		"with a gloss":       {".It Sy dmu_prefetch_max Ns = Ns Sy 134217728 Ns B Po 128 MiB Pc Pq uint", param{"dmu_prefetch_max", "uint", "134217728B (128 MiB)"}},
		"unit":               {".It Sy zfs_txg_timeout Ns = Ns Sy 5 Ns s Pq uint", param{"zfs_txg_timeout", "uint", "5s"}},
		"path":               {".It Sy spa_config_path Ns = Ns Pa /etc/zfs/zpool.cache Pq charp", param{"spa_config_path", "charp", "/etc/zfs/zpool.cache"}},
		"no default":         {".It Sy ignore_hole_birth Pq int", param{"ignore_hole_birth", "int", ""}},
		"empty default":      {".It Sy zfs_dirty_data_max Ns = Pq int", param{"zfs_dirty_data_max", "int", ""}},
		"missing Ns":         {".It Sy zfs_max_nvlist_src_size Ns = Sy 0 Pq u64", param{"zfs_max_nvlist_src_size", "u64", "0"}},
		"escape":             {`.It Sy zfs_abd_scatter_max_order Ns = Ns Sy MAX_ORDER\-1 Pq uint`, param{"zfs_abd_scatter_max_order", "uint", "MAX_ORDER-1"}},
		"glued parentheses":  {".It Sy zfs_arc_min_prefetch_ms Ns = Ns Sy 0 Ns ms Ns Po Ns ≡ Ns 1s Pc Pq uint", param{"zfs_arc_min_prefetch_ms", "uint", "0ms(≡1s)"}},
		"two alternatives":   {".It Sy spl_kmem_cache_max_size Ns = Ns Sy 32 Po 64-bit Pc or Sy 4 Po 32-bit Pc Pq uint", param{"spl_kmem_cache_max_size", "uint", "32 (64-bit) or 4 (32-bit)"}},
		"type as Po Pc":      {".It Sy zfs_arc_max Ns = Ns Sy 0 Ns B Po u64 Pc", param{"zfs_arc_max", "u64", "0B"}},
		"double space":       {".It Sy l2arc_mfuonly Ns = Ns Sy 0 Ns | Ns 1 Pq  int", param{"l2arc_mfuonly", "int", "0|1"}},
		"gloss not the type": {".It Sy zfs_vdev_min_auto_ashift Ns = Ns Sy ASHIFT_MIN Po 9 Pc Pq uint", param{"zfs_vdev_min_auto_ashift", "uint", "ASHIFT_MIN (9)"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseHeading(tc.line)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(param{})); diff != "" {
				t.Errorf("parseHeading(%q) mismatch (-want +got):\n%s", tc.line, diff)
			}
		})
	}
}

func TestParseHeadingErrors(t *testing.T) {
	for _, line := range []string{
		".It",
		".It Sy wait",
		".It Sy zfs_arc_max Ns = Ns Sy 0 Ns B",
		".It Sy zfs_arc_max Ns = Ns Sy 0 Ns B Pq widget",
		".It Sy Zfs_arc_max Pq int",
		`.It Sy zfs_x Ns = Ns Sy 1 Ns \(zz Pq int`,
		".It Sy zfs_x Ns = Ns Sy 1 Xr foo 8 Pq int",
	} {
		if p, err := parseHeading(line); err == nil {
			t.Errorf("parseHeading(%q) = %+v, want an error", line, p)
		}
	}
}

func TestParseMan(t *testing.T) {
	const page = `.Dd July 21, 2023
.Sh NAME
.Sh DESCRIPTION
The ZFS module supports these parameters:
.Bl -tag -width Ds
.It Sy zfs_b Ns = Ns Sy 1 Pq int
Text.
.Bl -item -compact
.It
If unset...
.El
.It Sy zfs_deadman_failmode Ns = Ns Sy wait Pq charp
.Bl -tag -compact -offset 4n -width "continue"
.It Sy wait
.It Sy panic
.El
.It Sy zfs_a Ns = Ns Sy 0 Ns | Ns 1 Pq uint
.El
.Sh ZFS I/O SCHEDULER
.Bl -tag
.It Sy not_a_param Pq int
.El
`
	got, date, err := parseMan(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	want := []param{{"zfs_b", "int", "1"}, {"zfs_deadman_failmode", "charp", "wait"}, {"zfs_a", "uint", "0|1"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(param{})); diff != "" {
		t.Errorf("parseMan mismatch (-want +got):\n%s", diff)
	}
	if date != "July 21, 2023" {
		t.Errorf("date = %q", date)
	}
}
