package catalog

import (
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
)

// ModuleParam is a kernel module parameter as the OpenZFS man page documents
// it, from module-params.tsv (the zfs module, zfs(4)) or spl-params.tsv (the
// spl module, spl(4)).
type ModuleParam struct {
	Name string // "zfs_arc_max"
	// Type is the type the man page gives in parentheses: "int", "uint",
	// "long", "ulong", "u64", "s64", "charp" or "string".
	Type string
	// Default is the default as the man page renders it: "0B", "1|0",
	// "134217728B (128 MiB)", "/etc/zfs/zpool.cache". It is prose for people,
	// not a value to write, and "" where the page gives none in the heading.
	Default string
}

// LookupModuleParam looks up a zfs module parameter by name. Like the
// kernel, it treats '-' and '_' in the name as the same character; the
// returned Name is always the documented spelling.
//
// A name that is not found is not documented by the man page the list was
// generated from (see the header of data/module-params.tsv). It may still be
// a real parameter of another OpenZFS release, so callers should warn about
// it, not refuse it.
func LookupModuleParam(name string) (ModuleParam, bool) {
	return findParam(data().moduleParams, canonicalParamName(name))
}

// ModuleParams returns every known zfs module parameter, sorted by name. The
// slice is the caller's to keep.
func ModuleParams() []ModuleParam {
	return slices.Clone(data().moduleParams)
}

// LookupSPLParam looks up a parameter of the spl module (spl(4)), the way
// LookupModuleParam does for zfs. A name found here but not by
// LookupModuleParam belongs in "options spl", not "options zfs".
func LookupSPLParam(name string) (ModuleParam, bool) {
	return findParam(data().splParams, canonicalParamName(name))
}

// IsSwitch reports whether p is a 0|1 switch: the man page gives its
// default as "0|1" or "1|0" (zfs.4 at zfs-2.3.5: ".It Sy
// zfs_prefetch_disable Ns = Ns Sy 0 Ns | Ns 1 Pq int"), or its type is
// bool. The kernel would take any integer for the int ones; 0 and 1 are
// what the page documents.
func (p ModuleParam) IsSwitch() bool {
	return p.Default == "0|1" || p.Default == "1|0" || p.Type == "bool"
}

// IntRange returns the whole numbers an integer parameter can be set to,
// and ok = false for string parameters.
//
// The range is as wide as any OpenZFS release from 2.0.0 to 2.4.4 declares
// the parameter, because a spec is checked without knowing which release the
// host will run, and the man page's types are one release's: zfs-2.2.0
// turned most int parameters into uint and every ULONG into U64, and some
// page types were never the declared ones (zfs_flags is documented int and
// declared UINT in every release; zfs_dirty_data_max is documented int and
// declared ULONG, then U64). So a 32-bit type (int, uint) takes up to
// 2^32-1, a 64-bit one (long, ulong, u64, s64; OpenZFS publishes EL
// packages for x86_64 only, where long is 64 bits) up to 2^64-1, and the
// parameters in wideParams are 64-bit whatever the page says. A negative
// value is allowed only where the page's type is signed.
func (p ModuleParam) IntRange() (lo, hi *big.Int, ok bool) {
	bits := 0
	signed := false
	switch p.Type {
	case "int":
		bits, signed = 32, true
	case "uint":
		bits = 32
	case "long", "s64":
		bits, signed = 64, true
	case "ulong", "u64":
		bits = 64
	default:
		return nil, nil, false
	}
	if wideParams[p.Name] {
		bits = 64
	}
	hi = new(big.Int).Lsh(big.NewInt(1), uint(bits))
	hi.Sub(hi, big.NewInt(1))
	lo = new(big.Int)
	if signed {
		lo.Lsh(big.NewInt(1), uint(bits-1))
		lo.Neg(lo)
	}
	return lo, hi, true
}

// wideParams are parameters the man page documents as int or uint that some
// release declares 64-bit. From the declarations at openzfs/zfs tags
// zfs-2.0.0 to zfs-2.4.4 (ULONG up to zfs-2.1.16, U64 from zfs-2.2.0):
// ZFS_MODULE_PARAM in module/zfs/dsl_pool.c (delay_scale, dirty_data_max,
// dirty_data_max_max, wrlog_data_max), module/zfs/spa.c (max_missing_tvds),
// module/zfs/dsl_scan.c (scan_max_ext_gap, scan_vdev_limit),
// module/zfs/spa_checkpoint.c (discard_memory_limit), and
// ZFS_MODULE_PARAM_CALL with param_get_ulong up to zfs-2.1.16 in
// module/zfs/vdev.c (min_auto_ashift, max_auto_ashift).
var wideParams = map[string]bool{
	"zfs_delay_scale": true, "zfs_dirty_data_max": true, "zfs_dirty_data_max_max": true,
	"zfs_wrlog_data_max": true, "zfs_max_missing_tvds": true, "zfs_scan_max_ext_gap": true,
	"zfs_scan_vdev_limit": true, "zfs_spa_discard_memory_limit": true,
	"zfs_vdev_min_auto_ashift": true, "zfs_vdev_max_auto_ashift": true,
}

// maxSuggestDistance and maxSuggestions bound SuggestModuleParam.
const (
	maxSuggestDistance = 3
	maxSuggestions     = 3
)

// SuggestModuleParam returns the closest known names (edit distance <= 3, at
// most 3) for a misspelt one, for "did you mean" messages: closest first,
// ties in name order. Case and '-' versus '_' are ignored when comparing. A
// name that is already known, or an empty one, has no suggestions.
func SuggestModuleParam(name string) []string {
	canon := canonicalParamName(strings.TrimSpace(name))
	if canon == "" {
		return nil
	}
	if _, ok := findParam(data().moduleParams, canon); ok {
		return nil
	}
	want := strings.ToLower(canon)
	type candidate struct {
		name string
		dist int
	}
	var found []candidate
	for _, p := range data().moduleParams {
		if d := editDistance(want, p.Name, maxSuggestDistance); d <= maxSuggestDistance {
			found = append(found, candidate{p.Name, d})
		}
	}
	// data().moduleParams is sorted by name, so a stable sort by distance
	// leaves ties in name order.
	slices.SortStableFunc(found, func(a, b candidate) int { return a.dist - b.dist })
	var out []string
	for i := 0; i < len(found) && i < maxSuggestions; i++ {
		out = append(out, found[i].name)
	}
	return out
}

// canonicalParamName spells a parameter name with '_' only: the kernel
// treats '-' and '_' in parameter names as equal.
func canonicalParamName(name string) string {
	return strings.ReplaceAll(name, "-", "_")
}

// findParam looks name up in params, which is sorted by name.
func findParam(params []ModuleParam, name string) (ModuleParam, bool) {
	i, ok := slices.BinarySearchFunc(params, name, func(p ModuleParam, n string) int { return strings.Compare(p.Name, n) })
	if !ok {
		return ModuleParam{}, false
	}
	return params[i], true
}

// editDistance is the Levenshtein distance between a and b, counted in
// bytes (parameter names are ASCII). Once it is certain to exceed limit it
// stops and returns limit+1.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// moduleParamTypes are the types the man pages use.
var moduleParamTypes = map[string]bool{
	"int": true, "uint": true, "long": true, "ulong": true, "u64": true, "s64": true,
	"charp": true, "string": true, "bool": true,
}

var (
	moduleParamNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	releaseRE         = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
)

// parseModuleParams reads module-params.tsv or spl-params.tsv, which
// catalog/internal/modparamgen writes. Rows come back sorted by name.
func parseModuleParams(name string, b []byte) ([]ModuleParam, error) {
	rows, err := readTSV(name, b, []string{"name", "type", "default", "first_release"})
	if err != nil {
		return nil, err
	}
	var out []ModuleParam
	for _, row := range rows {
		f := row.fields
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, row.line, fmt.Sprintf(format, args...))
		}
		p := ModuleParam{Name: f[0], Type: f[1], Default: f[2]}
		if !moduleParamNameRE.MatchString(p.Name) {
			return nil, bad("name %q is not [a-z][a-z0-9_]*", p.Name)
		}
		if !moduleParamTypes[p.Type] {
			return nil, bad("%s: type %q is not a module parameter type", p.Name, p.Type)
		}
		if p.Default != strings.TrimSpace(p.Default) {
			return nil, bad("%s: default %q has surrounding spaces", p.Name, p.Default)
		}
		if fr := f[3]; fr != "" && !releaseRE.MatchString(fr) {
			return nil, bad("%s: first_release %q is not an OpenZFS release X.Y.Z", p.Name, fr)
		}
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b ModuleParam) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(out); i++ {
		if out[i].Name == out[i-1].Name {
			return nil, fmt.Errorf("%s: %s listed twice", name, out[i].Name)
		}
	}
	return out, nil
}
