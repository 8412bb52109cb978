package catalog

import (
	"fmt"
	"strconv"
	"strings"
)

// Flavor is where a kernel comes from, which decides how OpenZFS can be
// installed for it (a kABI-tracking kmod only fits FlavorStock).
type Flavor string

// The kernel flavors.
const (
	FlavorStock    Flavor = "stock"     // RHEL or a rebuild (Rocky, Alma, Oracle RHCK), with a known EL minor
	FlavorStream   Flavor = "stream"    // CentOS Stream: no z-stream, no kABI promise
	FlavorELRepoLT Flavor = "elrepo-lt" // ELRepo kernel-lt (long-term upstream series)
	FlavorELRepoML Flavor = "elrepo-ml" // ELRepo kernel-ml (mainline)
	FlavorUEK      Flavor = "uek"       // Oracle Unbreakable Enterprise Kernel: not RHEL kABI
	FlavorFedora   Flavor = "fedora"
	FlavorOther    Flavor = "other" // anything else, including strings that are not kernel releases
)

// Variant is a kernel build variant, from the "+rt"-style suffix of uname -r,
// the EL7/EL8 ".rtN" release field, or EL7's ".debug" suffix. "" is the
// plain kernel. The devel package is kernel-<variant>-devel
// (kernel-rt-debug-devel, ...).
type Variant string

// The kernel variants.
const (
	VariantNone     Variant = ""
	VariantRT       Variant = "rt"
	VariantDebug    Variant = "debug"
	Variant64k      Variant = "64k"
	VariantRTDebug  Variant = "rt-debug"
	Variant64kDebug Variant = "64k-debug"
)

// KernelInfo is a kernel classified from its uname -r release string.
// ClassifyKernel fills every field the string supports, whatever the
// Flavor; a string that is not a kernel release leaves all but Release
// and Flavor empty.
type KernelInfo struct {
	Release  string // as given
	Version  string // upstream-style version before the first '-': "5.14.0"
	Upstream string // major.minor of Version: "5.14", "6.1"
	Build    string // the release part before the dist tag: "427.13.1", "553.rt7.342", "101.103.2.1"
	Flavor   Flavor
	Variant  Variant
	Arch     string // "x86_64", "aarch64", ... or "" when absent
	ELMajor  int    // 7, 8, 9, 10 from the elN dist tag; 0 when not EL
	// ELMinor is the EL minor release of a stock kernel ("9.4"): from the dist
	// tag el9_4, or failing that (EL7, and EL8 GA kernels tagged plain .el8)
	// from the GA build number via kernels.tsv. "" for every other flavor.
	ELMinor       string
	FedoraRelease int // 41 for fc41; 0 when not Fedora
}

// elRepoLTSeries are the upstream series ELRepo has shipped as kernel-lt, per
// EL major, from the history of github.com/elrepo/kernel (which starts on
// 2023-10-08; the commits named are in that repository):
//   - EL7: 5.4 (kernel-lt/el7/kernel-lt-5.4.spec from 786609ba79, 2023-10-12,
//     last updated to 5.4.278 in 87ad5bb37f, 2024-06-16), then 6.1 (a3b8d0a217,
//     "kernel-lt: 6.1 for el7 added", 2025-12-08). 4.4 was EL7's kernel-lt
//     before 5.4; that predates the repository, so it is kept unconfirmed.
//   - EL8: 5.4 (238d060cbb, 2023-10-09) until 5.15 replaced it (4e0151b3e4,
//     "update from 5.4.302 to 5.15.199", 2026-02-07). A 6.1 kernel-lt for EL8
//     was added (ca95c7c3e5, 2025-12-11) and reverted the day 5.15 came
//     (39881d1f31), so 6.1 is not an EL8 kernel-lt series.
//   - EL9: 6.1 (kernel-lt/el9/kernel-lt-6.1.spec, b91df4d9da, 2023-10-09).
//   - EL10: no kernel-lt; ELRepo ships only kernel-ml there (fe35a69ee8,
//     2025-06-03).
//
// Only used to guess lt from ml when the owning package is unknown.
var elRepoLTSeries = map[int][]string{
	7: {"4.4", "5.4", "6.1"},
	8: {"5.4", "5.15"},
	9: {"6.1"},
}

// kernelArches are the architectures a kernel release can end in.
var kernelArches = map[string]bool{
	"x86_64": true, "aarch64": true, "ppc64le": true, "ppc64": true,
	"s390x": true, "i686": true, "armv7hl": true, "riscv64": true,
}

// plusVariants maps the text after '+' in a release to its variant.
var plusVariants = map[string]Variant{
	"rt": VariantRT, "debug": VariantDebug, "64k": Variant64k,
	"rt-debug": VariantRTDebug, "64k-debug": Variant64kDebug,
}

// ClassifyKernel classifies a kernel from its uname -r release string.
// owner is the package that owns the kernel when known ("kernel-core",
// "kernel-lt-core", "kernel-ml-core", "kernel-uek-core", "kernel-rt-core",
// or ""); it is used only to tell ELRepo kernel-lt from kernel-ml.
//
// Rules:
//   - elN_M dist tag (el9_4, el8_10, el10_0; respins el9_3.0.1, el8_6.0.1;
//     Oracle RHCK 70.13.1.0.3.el9_0): stock, ELMinor "N.M".
//   - plain elN: on EL7 and EL8, a kernel whose first release field is a GA
//     build in kernels.tsv is stock with the minor from the table
//     (3.10.0-1160.el7, 4.18.0-425.3.1.el8, Oracle 4.18.0-348.el8.0.2). On EL7
//     anything else is "other" (there was no Stream 7); on EL8+ it is stream
//     (5.14.0-570.el9).
//   - stock and stream also need the kernel version of that EL major in
//     kernels.tsv (4.18.0 for EL8, ...); a rebuilt 5.10.89-1.el8 is "other".
//   - elNuek: uek. elN.elrepo: elrepo-lt when owner starts with "kernel-lt",
//     elrepo-ml when it starts with "kernel-ml"; with no owner, a guess:
//     elrepo-lt when the upstream series is one ELRepo has shipped as
//     kernel-lt on that EL major (elRepoLTSeries), else elrepo-ml. The guess
//     can be wrong for a kernel-ml of the same series built while it was
//     mainline (kernel-ml 6.1.x on el9 in early 2023).
//   - fcN: fedora.
//   - an unknown "+suffix", an unknown field after the dist tag, or an EL
//     major below 7: other. ClassifyKernel never panics.
func ClassifyKernel(release, owner string) KernelInfo {
	k := KernelInfo{Release: release, Flavor: FlavorOther}
	s := strings.TrimSpace(release)

	plusVariant, plusKnown := VariantNone, true
	if i := strings.IndexByte(s, '+'); i >= 0 {
		plusVariant, plusKnown = plusVariants[s[i+1:]]
		s = s[:i]
	}
	ver, rel, hasRel := strings.Cut(s, "-")
	up, ok := upstreamOf(ver)
	if !ok {
		return k
	}
	k.Version, k.Upstream = ver, up
	if !hasRel {
		return k
	}

	// Trailing arch, and EL7's ".debug" after it.
	dotDebug := false
	if head, last := cutLastField(rel); last == "debug" {
		if _, arch := cutLastField(head); kernelArches[arch] {
			dotDebug, rel = true, head
		}
	}
	if head, last := cutLastField(rel); kernelArches[last] {
		k.Arch, rel = last, head
	}

	build, d, tail, ok := splitDist(rel)
	if !ok {
		return k
	}
	k.Build = build
	rtField := false
	for _, f := range strings.Split(build, ".") {
		if len(f) > 2 && f[:2] == "rt" && allDigits(f[2:]) {
			rtField = true
		}
	}
	k.Variant = combineVariant(plusVariant, rtField, dotDebug)
	gaBuild, buildOK := leadingInt(build)

	if d.fedora > 0 {
		k.FedoraRelease = d.fedora
		if plusKnown && tail == "" && buildOK {
			k.Flavor = FlavorFedora
		}
		return k
	}
	k.ELMajor = d.major
	if !plusKnown || !buildOK || d.major < 7 {
		return k
	}
	switch {
	case tail == ".elrepo" && d.minor < 0 && !d.uek:
		k.Flavor = elRepoFlavor(owner, d.major, up)
	case d.uek:
		if tail == "" {
			k.Flavor = FlavorUEK
		}
	case tail != "" && !allDigitFields(tail[1:]):
		// Something we do not know follows the dist tag.
	case data().el.kernel[d.major] != ver:
		// Not the kernel of this EL major: a rebuild or a custom kernel.
	case d.minor >= 0:
		k.Flavor, k.ELMinor = FlavorStock, fmt.Sprintf("%d.%d", d.major, d.minor)
	case d.major <= 8:
		// EL7 GA and z-stream kernels, and some EL8 GA kernels, carry a
		// plain elN tag: the GA build names the minor. There was no Stream 7.
		if m, ok := ELMinorForBuild(d.major, gaBuild); ok {
			k.Flavor, k.ELMinor = FlavorStock, m
		} else if d.major == 8 {
			k.Flavor = FlavorStream
		}
	default:
		k.Flavor = FlavorStream
	}
	return k
}

func elRepoFlavor(owner string, major int, upstream string) Flavor {
	switch {
	case strings.HasPrefix(owner, "kernel-lt"):
		return FlavorELRepoLT
	case strings.HasPrefix(owner, "kernel-ml"):
		return FlavorELRepoML
	}
	for _, series := range elRepoLTSeries[major] {
		if series == upstream {
			return FlavorELRepoLT
		}
	}
	return FlavorELRepoML
}

func combineVariant(plus Variant, rtField, dotDebug bool) Variant {
	rt := rtField || plus == VariantRT || plus == VariantRTDebug
	debug := dotDebug || plus == VariantDebug || plus == VariantRTDebug || plus == Variant64kDebug
	k64 := plus == Variant64k || plus == Variant64kDebug
	switch {
	case rt && debug:
		return VariantRTDebug
	case rt:
		return VariantRT
	case k64 && debug:
		return Variant64kDebug
	case k64:
		return Variant64k
	case debug:
		return VariantDebug
	}
	return ""
}

// dist is a parsed dist tag: el9_4, el8, el9uek, fc41.
type dist struct {
	major  int // EL major; 0 for Fedora
	minor  int // EL minor from elN_M; -1 when absent
	uek    bool
	fedora int // Fedora release; 0 for EL
}

// splitDist finds the first dist-tag field in rel ("427.13.1.el9_4.0.1")
// and returns the fields before it, the tag, and what follows it with its
// leading dot (".0.1", ".elrepo" or "").
func splitDist(rel string) (build string, d dist, tail string, ok bool) {
	start := 0
	for start < len(rel) {
		end := strings.IndexByte(rel[start:], '.')
		if end < 0 {
			end = len(rel)
		} else {
			end += start
		}
		if d, ok := parseDist(rel[start:end]); ok {
			if start == 0 {
				return "", dist{}, "", false
			}
			return rel[:start-1], d, rel[end:], true
		}
		start = end + 1
	}
	return "", dist{}, "", false
}

func parseDist(f string) (dist, bool) {
	if n, ok := strings.CutPrefix(f, "fc"); ok {
		v, err := strconv.Atoi(n)
		if err != nil || v <= 0 || !allDigits(n) {
			return dist{}, false
		}
		return dist{fedora: v, minor: -1}, true
	}
	n, ok := strings.CutPrefix(f, "el")
	if !ok {
		return dist{}, false
	}
	d := dist{minor: -1}
	n, d.uek = strings.CutSuffix(n, "uek")
	majorText, minorText, hasMinor := strings.Cut(n, "_")
	if !allDigits(majorText) || (hasMinor && (d.uek || !allDigits(minorText))) {
		return dist{}, false
	}
	var err error
	if d.major, err = strconv.Atoi(majorText); err != nil || d.major <= 0 {
		return dist{}, false
	}
	if hasMinor {
		if d.minor, err = strconv.Atoi(minorText); err != nil {
			return dist{}, false
		}
	}
	return d, true
}

// upstreamOf returns major.minor of a kernel version "X.Y" or "X.Y.Z".
func upstreamOf(ver string) (string, bool) {
	parts := strings.Split(ver, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return "", false
	}
	for _, p := range parts {
		if !allDigits(p) || len(p) > 6 {
			return "", false
		}
	}
	return parts[0] + "." + parts[1], true
}

func cutLastField(s string) (head, last string) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return "", s
	}
	return s[:i], s[i+1:]
}

// leadingInt parses the first dot-separated field of s as a positive int.
func leadingInt(s string) (int, bool) {
	f, _, _ := strings.Cut(s, ".")
	if !allDigits(f) || len(f) > 9 {
		return 0, false
	}
	n, err := strconv.Atoi(f)
	return n, err == nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func allDigitFields(s string) bool {
	for _, f := range strings.Split(s, ".") {
		if !allDigits(f) {
			return false
		}
	}
	return true
}

// elRow is one row of kernels.tsv.
type elRow struct {
	minor   string // "9.4"
	major   int
	num     int // the minor as a number, for ordering (8.10 after 8.9)
	kernel  string
	build   int
	example string
}

type elTable struct {
	rows    []elRow
	byBuild map[[2]int]string // (major, GA build) -> minor
	kernel  map[int]string    // major -> kernel version ("5.14.0")
}

// ELMinorForBuild returns the EL minor release ("9.4") whose GA kernel has
// the given build number (the first field of the kernel release, 427 in
// 5.14.0-427.13.1.el9_4) on EL major, from kernels.tsv.
func ELMinorForBuild(major int, build int) (minor string, ok bool) {
	minor, ok = data().el.byBuild[[2]int{major, build}]
	return minor, ok
}

func parseELTable(b []byte) (elTable, error) {
	const name = "kernels.tsv"
	rows, err := readTSV(name, b, []string{"el_minor", "kernel_version", "ga_build", "example_release"})
	if err != nil {
		return elTable{}, err
	}
	t := elTable{byBuild: map[[2]int]string{}, kernel: map[int]string{}}
	seen := map[string]bool{}
	for _, row := range rows {
		f := row.fields
		r := elRow{minor: f[0], kernel: f[1], example: f[3]}
		majorText, numText, ok := strings.Cut(r.minor, ".")
		if !ok || !allDigits(majorText) || !allDigits(numText) {
			return elTable{}, fmt.Errorf("%s:%d: el_minor %q is not MAJOR.MINOR", name, row.line, r.minor)
		}
		r.major, _ = strconv.Atoi(majorText)
		r.num, _ = strconv.Atoi(numText)
		if seen[r.minor] {
			return elTable{}, fmt.Errorf("%s:%d: el_minor %s listed twice", name, row.line, r.minor)
		}
		seen[r.minor] = true
		if _, ok := upstreamOf(r.kernel); !ok {
			return elTable{}, fmt.Errorf("%s:%d: kernel_version %q is not a kernel version", name, row.line, r.kernel)
		}
		if prev, ok := t.kernel[r.major]; ok && prev != r.kernel {
			return elTable{}, fmt.Errorf("%s:%d: kernel_version %s differs from %s for EL%d", name, row.line, r.kernel, prev, r.major)
		}
		t.kernel[r.major] = r.kernel
		if r.build, err = strconv.Atoi(f[2]); err != nil || r.build <= 0 || !allDigits(f[2]) {
			return elTable{}, fmt.Errorf("%s:%d: ga_build %q is not a positive number", name, row.line, f[2])
		}
		key := [2]int{r.major, r.build}
		if prev, ok := t.byBuild[key]; ok {
			return elTable{}, fmt.Errorf("%s:%d: ga_build %d already belongs to %s", name, row.line, r.build, prev)
		}
		t.byBuild[key] = r.minor
		if want := r.kernel + "-" + f[2] + "."; r.example != "" && !strings.HasPrefix(r.example, want) {
			return elTable{}, fmt.Errorf("%s:%d: example_release %q does not start with %q", name, row.line, r.example, want)
		}
		t.rows = append(t.rows, r)
	}
	return t, nil
}
