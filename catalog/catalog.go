// Package catalog is what zfsinstall knows about Enterprise Linux kernels and
// OpenZFS releases: which EL minor a kernel belongs to and which packages
// each kernel flavor and variant comes in, which kernels each OpenZFS
// release builds on, which releases have known serious defects (per branch,
// with the fixing commits), which zfs-release package each distribution
// release gets and which keys sign it, and which parameters the zfs (and
// spl) kernel modules document.
//
// The knowledge lives in embedded data files under data/, each with its
// sources in its header. They are parsed once when the package is
// initialised; a malformed file panics there, since it is a build defect, not
// a runtime condition.
package catalog

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"sync"
)

//go:embed data/kernels.tsv
var kernelsTSV []byte

//go:embed data/releases.tsv
var releasesTSV []byte

//go:embed data/advisories.tsv
var advisoriesTSV []byte

//go:embed data/advisory-ranges.tsv
var advisoryRangesTSV []byte

//go:embed data/kernel-packages.tsv
var kernelPackagesTSV []byte

//go:embed data/zfs-release.tsv
var zfsReleaseTSV []byte

//go:embed data/zfs-release-sections.tsv
var zfsReleaseSectionsTSV []byte

//go:embed data/epel.tsv
var epelTSV []byte

//go:embed data/libraries.tsv
var librariesTSV []byte

//go:embed data/module-params.tsv
var moduleParamsTSV []byte

//go:embed data/spl-params.tsv
var splParamsTSV []byte

//go:embed data/dkms-breaks.tsv
var dkmsBreaksTSV []byte

// files are the raw data files, one field per file.
type files struct {
	kernels, releases, advisories, advisoryRanges, kernelPackages []byte
	zfsRelease, zfsReleaseSections, epel, libraries               []byte
	moduleParams, splParams                                       []byte
	dkmsBreaks                                                    []byte
}

// embedded are the data files built into the binary.
var embedded = files{
	kernels:            kernelsTSV,
	releases:           releasesTSV,
	advisories:         advisoriesTSV,
	advisoryRanges:     advisoryRangesTSV,
	kernelPackages:     kernelPackagesTSV,
	zfsRelease:         zfsReleaseTSV,
	zfsReleaseSections: zfsReleaseSectionsTSV,
	epel:               epelTSV,
	libraries:          librariesTSV,
	moduleParams:       moduleParamsTSV,
	splParams:          splParamsTSV,
	dkmsBreaks:         dkmsBreaksTSV,
}

// tables holds the parsed data files. It is built once, on first use, and never
// changed afterwards, so it is safe for concurrent readers.
type tables struct {
	el          elTable
	releases    []Release
	advisories  []Advisory
	kernelPkgs  map[kernelPkgKey]kernelPkgRow
	zfsReleases []ZFSRelease
	epel        []EPEL
	libraries   []LibraryPackages
	// moduleParams and splParams are sorted by name.
	moduleParams, splParams []ModuleParam
	dkmsBreaks              []BuildBreak
}

// data parses the data files on first use, not at start-up: a command
// that needs none of them (recipes, version) pays nothing.
var data = sync.OnceValue(func() *tables { return mustLoad(embedded) })

// mustLoad parses the data files or panics: they are embedded, so a bad one
// is a defect of the build, caught by this package's tests.
func mustLoad(f files) *tables {
	t, err := load(f)
	if err != nil {
		panic("catalog: embedded data is malformed (a build defect): " + err.Error())
	}
	return t
}

func load(f files) (*tables, error) {
	el, err := parseELTable(f.kernels)
	if err != nil {
		return nil, err
	}
	rels, err := parseReleases(f.releases)
	if err != nil {
		return nil, err
	}
	advs, err := parseAdvisories(f.advisories)
	if err != nil {
		return nil, err
	}
	if err := parseAdvisoryRanges(f.advisoryRanges, advs, rels); err != nil {
		return nil, err
	}
	kernelPkgs, err := parseKernelPackages(f.kernelPackages)
	if err != nil {
		return nil, err
	}
	zfsReleases, err := parseZFSReleases(f.zfsRelease, f.zfsReleaseSections)
	if err != nil {
		return nil, err
	}
	epel, err := parseEPEL(f.epel)
	if err != nil {
		return nil, err
	}
	libraries, err := parseLibraries(f.libraries, rels)
	if err != nil {
		return nil, err
	}
	zfsParams, err := parseModuleParams("module-params.tsv", f.moduleParams)
	if err != nil {
		return nil, err
	}
	splParams, err := parseModuleParams("spl-params.tsv", f.splParams)
	if err != nil {
		return nil, err
	}
	for _, p := range splParams {
		if _, dup := findParam(zfsParams, p.Name); dup {
			return nil, fmt.Errorf("spl-params.tsv: %s is also in module-params.tsv; a parameter belongs to one module", p.Name)
		}
	}
	breaks, err := parseDKMSBreaks(f.dkmsBreaks, el)
	if err != nil {
		return nil, err
	}
	return &tables{el: el, releases: rels, advisories: advs, kernelPkgs: kernelPkgs, zfsReleases: zfsReleases, epel: epel, libraries: libraries, moduleParams: zfsParams, splParams: splParams, dkmsBreaks: breaks}, nil
}

// tsvRow is one data row of a TSV file and the line it came from.
type tsvRow struct {
	line   int
	fields []string
}

// readTSV reads a tab-separated file whose first line that is neither blank
// nor a '#' comment is exactly header. Every later row must have as many
// fields as the header.
func readTSV(name string, b []byte, header []string) ([]tsvRow, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	var rows []tsvRow
	sawHeader := false
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if !sawHeader {
			if strings.Join(fields, "\t") != strings.Join(header, "\t") {
				return nil, fmt.Errorf("%s:%d: header is %q, want %q", name, n, fields, header)
			}
			sawHeader = true
			continue
		}
		if len(fields) != len(header) {
			return nil, fmt.Errorf("%s:%d: %d fields, want %d (%s)", name, n, len(fields), len(header), strings.Join(header, ", "))
		}
		rows = append(rows, tsvRow{line: n, fields: fields})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !sawHeader {
		return nil, fmt.Errorf("%s: no header line", name)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no rows", name)
	}
	return rows, nil
}
