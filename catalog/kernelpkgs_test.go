package catalog

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestKernelPackageFunctions(t *testing.T) {
	type pkgs struct {
		Core, Devel, DevelMatched, DevelNVRA, DevelMatchedNVRA, UnameR string
		KernelUnameR, Known                                            bool
	}
	tests := map[string]struct {
		release, owner string
		want           pkgs
	}{
		"el9 stock": {"5.14.0-427.13.1.el9_4.x86_64", "", pkgs{
			"kernel-core", "kernel-devel", "kernel-devel-matched",
			"kernel-devel-5.14.0-427.13.1.el9_4.x86_64", "kernel-devel-matched-5.14.0-427.13.1.el9_4.x86_64",
			"kernel-uname-r", true, true}},
		"el9 rt-debug (was kernel-devel)": {"5.14.0-427.13.1.el9_4.x86_64+rt-debug", "", pkgs{
			"kernel-rt-debug-core", "kernel-rt-debug-devel", "",
			"kernel-rt-debug-devel-5.14.0-427.13.1.el9_4.x86_64", "",
			"kernel-uname-r", true, true}},
		"el10 rt-debug has devel-matched": {"6.12.0-55.9.1.el10_0.x86_64+rt-debug", "", pkgs{
			"kernel-rt-debug-core", "kernel-rt-debug-devel", "kernel-rt-debug-devel-matched",
			"kernel-rt-debug-devel-6.12.0-55.9.1.el10_0.x86_64", "kernel-rt-debug-devel-matched-6.12.0-55.9.1.el10_0.x86_64",
			"kernel-uname-r", true, true}},
		"el9 64k-debug (was kernel-devel)": {"5.14.0-427.13.1.el9_4.aarch64+64k-debug", "", pkgs{
			"kernel-64k-debug-core", "kernel-64k-debug-devel", "kernel-64k-debug-devel-matched",
			"kernel-64k-debug-devel-5.14.0-427.13.1.el9_4.aarch64", "kernel-64k-debug-devel-matched-5.14.0-427.13.1.el9_4.aarch64",
			"kernel-uname-r", true, true}},
		"el10 rt": {"6.12.0-55.9.1.el10_0.x86_64+rt", "", pkgs{
			"kernel-rt-core", "kernel-rt-devel", "kernel-rt-devel-matched",
			"kernel-rt-devel-6.12.0-55.9.1.el10_0.x86_64", "kernel-rt-devel-matched-6.12.0-55.9.1.el10_0.x86_64",
			"kernel-uname-r", true, true}},
		"el9 stream": {"5.14.0-570.el9.x86_64", "", pkgs{
			"kernel-core", "kernel-devel", "kernel-devel-matched",
			"kernel-devel-5.14.0-570.el9.x86_64", "kernel-devel-matched-5.14.0-570.el9.x86_64",
			"kernel-uname-r", true, true}},
		"el8 stock has no devel-matched": {"4.18.0-553.16.1.el8_10.x86_64", "", pkgs{
			"kernel-core", "kernel-devel", "", "kernel-devel-4.18.0-553.16.1.el8_10.x86_64", "",
			"kernel-uname-r", true, true}},
		"el8 rt from its release field": {"4.18.0-553.rt7.342.el8_10.x86_64", "", pkgs{
			"kernel-rt-core", "kernel-rt-devel", "", "kernel-rt-devel-4.18.0-553.rt7.342.el8_10.x86_64", "",
			"", false, true}},
		"el7 plain": {"3.10.0-1160.el7.x86_64", "", pkgs{
			"kernel", "kernel-devel", "", "kernel-devel-3.10.0-1160.el7.x86_64", "",
			"kernel-uname-r", true, true}},
		"el7 .debug is not in the package version": {"3.10.0-1160.el7.x86_64.debug", "", pkgs{
			"kernel-debug", "kernel-debug-devel", "", "kernel-debug-devel-3.10.0-1160.el7.x86_64", "",
			"kernel-uname-r", true, true}},
		"fedora": {"6.11.4-301.fc41.x86_64", "", pkgs{
			"kernel-core", "kernel-devel", "kernel-devel-matched",
			"kernel-devel-6.11.4-301.fc41.x86_64", "kernel-devel-matched-6.11.4-301.fc41.x86_64",
			"kernel-uname-r", true, true}},
		"elrepo lt el9": {"6.1.80-1.el9.elrepo.x86_64", "kernel-lt-core", pkgs{
			"kernel-lt-core", "kernel-lt-devel", "kernel-lt-devel-matched",
			"kernel-lt-devel-6.1.80-1.el9.elrepo.x86_64", "kernel-lt-devel-matched-6.1.80-1.el9.elrepo.x86_64",
			"kernel-lt-uname-r", false, true}},
		"elrepo lt el8 (5.15)": {"5.15.199-1.el8.elrepo.x86_64", "", pkgs{
			"kernel-lt-core", "kernel-lt-devel", "", "kernel-lt-devel-5.15.199-1.el8.elrepo.x86_64", "",
			"kernel-lt-uname-r", false, true}},
		"elrepo lt el7 also provides kernel-uname-r": {"6.1.158-1.el7.elrepo.x86_64", "kernel-lt", pkgs{
			"kernel-lt", "kernel-lt-devel", "", "kernel-lt-devel-6.1.158-1.el7.elrepo.x86_64", "",
			"kernel-lt-uname-r", true, true}},
		"elrepo ml el10": {"6.16.6-1.el10.elrepo.x86_64", "", pkgs{
			"kernel-ml-core", "kernel-ml-devel", "kernel-ml-devel-matched",
			"kernel-ml-devel-6.16.6-1.el10.elrepo.x86_64", "kernel-ml-devel-matched-6.16.6-1.el10.elrepo.x86_64",
			"kernel-ml-uname-r", false, true}},
		"uek x86_64": {"5.15.0-101.103.2.1.el8uek.x86_64", "", pkgs{
			"kernel-uek-core", "kernel-uek-devel", "", "kernel-uek-devel-5.15.0-101.103.2.1.el8uek.x86_64", "",
			"kernel-uek-uname-r", false, true}},
		"uek aarch64 provides kernel-uname-r": {"6.12.0-100.28.2.el9uek.aarch64", "", pkgs{
			"kernel-uek-core", "kernel-uek-devel", "", "kernel-uek-devel-6.12.0-100.28.2.el9uek.aarch64", "",
			"kernel-uek-uname-r", true, true}},
		"unknown kernel falls back to kernel-devel": {"5.10.89-1.el8.x86_64", "", pkgs{
			"kernel-core", "kernel-devel", "", "kernel-devel-5.10.89-1.el8.x86_64", "", "", false, false}},
		"fedora has no rt": {"6.11.4-301.fc41.x86_64+rt", "", pkgs{
			"kernel-rt-core", "kernel-rt-devel", "", "kernel-rt-devel-6.11.4-301.fc41.x86_64", "", "", false, false}},
		"empty": {"", "", pkgs{"kernel-core", "kernel-devel", "", "", "", "", false, false}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			k := ClassifyKernel(tc.release, tc.owner)
			_, known := KernelPackagesFor(k)
			got := pkgs{CorePackage(k), DevelPackage(k), DevelMatchedPackage(k), DevelNVRA(k), DevelMatchedNVRA(k),
				UnameRProvide(k), ProvidesKernelUnameR(k), known}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s (%s %q) mismatch (-want +got):\n%s", tc.release, k.Flavor, k.Variant, diff)
			}
		})
	}
}

func TestKernelPackagesFor(t *testing.T) {
	got, ok := KernelPackagesFor(ClassifyKernel("6.1.80-1.el9.elrepo.x86_64", "kernel-lt-core"))
	want := KernelPackages{Flavor: FlavorELRepoLT, Dist: "el9", Core: "kernel-lt-core", Devel: "kernel-lt-devel",
		DevelMatched: "kernel-lt-devel-matched", UnameRProvides: []string{"kernel-lt-uname-r"},
		DevelUnameRProvides: []string{"kernel-lt-devel-uname-r", "kernel-devel-uname-r"},
		Checked:             CheckedSpec, Source: "elrepo"}
	if !ok {
		t.Fatal("no packages for ELRepo kernel-lt on EL9")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("KernelPackagesFor mismatch (-want +got):\n%s", diff)
	}
}

// TestKernelPackagesCoverEveryVariant checks the table has a row for each
// variant the specs build: all six on EL9 and EL10 stock and Stream, the
// plain and debug kernels on Fedora and EL7, and ELRepo's one kernel on each
// EL major it builds for.
func TestKernelPackagesCoverEveryVariant(t *testing.T) {
	type want struct {
		flavor Flavor
		dists  []string
		vars   []Variant
	}
	all := []Variant{VariantNone, VariantDebug, VariantRT, VariantRTDebug, Variant64k, Variant64kDebug}
	for _, w := range []want{
		{FlavorStock, []string{"el9", "el10"}, all},
		{FlavorStream, []string{"el9", "el10"}, all},
		{FlavorStock, []string{"el7", "el8"}, []Variant{VariantNone, VariantDebug, VariantRT, VariantRTDebug}},
		{FlavorFedora, []string{"fedora"}, []Variant{VariantNone, VariantDebug}},
		{FlavorELRepoLT, []string{"el7", "el8", "el9"}, []Variant{VariantNone}},
		{FlavorELRepoML, []string{"el7", "el8", "el9", "el10"}, []Variant{VariantNone}},
		{FlavorUEK, []string{"el8", "el9", "el10"}, []Variant{VariantNone, VariantDebug, Variant64k, Variant64kDebug}},
	} {
		for _, d := range w.dists {
			for _, v := range w.vars {
				row, ok := data().kernelPkgs[kernelPkgKey{w.flavor, v, d}]
				if !ok {
					t.Errorf("no row for %s %q on %s", w.flavor, v, d)
					continue
				}
				if v != "" && !strings.Contains(row.pkgs.Devel, strings.ReplaceAll(string(v), "-", "")) && !strings.Contains(row.pkgs.Devel, string(v)) {
					t.Errorf("%s %q on %s: devel %s does not name the variant", w.flavor, v, d, row.pkgs.Devel)
				}
			}
		}
	}
	if _, ok := data().kernelPkgs[kernelPkgKey{FlavorELRepoLT, "", "el10"}]; ok {
		t.Error("ELRepo has no kernel-lt for EL10")
	}
}

func TestParseKernelPackagesMalformed(t *testing.T) {
	const header = "flavors\tvariant\tdists\tcore\tdevel\tdevel_matched\tuname_r_provides\tdevel_uname_r_provides\tchecked\tsource\n"
	row := func(fields ...string) string { return strings.Join(fields, "\t") + "\n" }
	good := []string{"stock", "", "el9", "kernel-core", "kernel-devel", "kernel-devel-matched", "kernel-uname-r", "kernel-devel-uname-r", "spec", "cs10"}
	with := func(i int, v string) string {
		f := append([]string(nil), good...)
		f[i] = v
		return header + row(f...)
	}
	tests := map[string]struct {
		text, want string
	}{
		"bad flavor":       {with(0, "custom"), "flavor"},
		"bad variant":      {with(1, "kdump"), "variant"},
		"bad dist":         {with(2, "el6"), "dist"},
		"no dist":          {with(2, ""), "must not be empty"},
		"not a kernel":     {with(3, "zfs"), "not a kernel package"},
		"devel name":       {with(4, "kernel-headers"), "<name>-devel"},
		"matched mismatch": {with(5, "kernel-rt-devel-matched"), "<name>-devel"},
		"bad provide":      {with(6, "kernel"), "uname-r"},
		"bad checked":      {with(8, "maybe"), "checked"},
		"no source":        {with(9, " "), "source"},
		"duplicate":        {header + row(good...) + row(good...), "twice"},
		"overlapping":      {header + row(good...) + row(append([]string{"stock stream"}, good[1:]...)...), "twice"},
		"missing column":   {header + row(good[:9]...), "fields"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseKernelPackages([]byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseKernelPackages error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
