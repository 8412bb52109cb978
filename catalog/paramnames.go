package catalog

import (
	_ "embed"
	"fmt"
	"sync"
)

//go:embed data/module-param-names.tsv
var paramNamesTSV []byte

// DocumentedParam is a module parameter name some OpenZFS release
// documents, from module-param-names.tsv: the module it belongs to ("zfs"
// or "spl") and the first and last release whose man page lists it.
type DocumentedParam struct {
	Name, Module string
	First, Last  string
}

// paramNames maps each documented name to its row, parsed on first use.
var paramNames = sync.OnceValue(func() map[string]DocumentedParam {
	m, err := parseParamNames("module-param-names.tsv", paramNamesTSV)
	if err != nil {
		panic("catalog: embedded data is malformed (a build defect): " + err.Error())
	}
	return m
})

func parseParamNames(name string, b []byte) (map[string]DocumentedParam, error) {
	rows, err := readTSV(name, b, []string{"name", "module", "first_release", "last_release"})
	if err != nil {
		return nil, err
	}
	out := map[string]DocumentedParam{}
	for _, row := range rows {
		p := DocumentedParam{Name: row.fields[0], Module: row.fields[1], First: row.fields[2], Last: row.fields[3]}
		switch {
		case !moduleParamNameRE.MatchString(p.Name):
			return nil, fmt.Errorf("%s:%d: name %q is not [a-z][a-z0-9_]*", name, row.line, p.Name)
		case p.Module != "zfs" && p.Module != "spl":
			return nil, fmt.Errorf("%s:%d: %s: module %q is not zfs or spl", name, row.line, p.Name, p.Module)
		case !releaseRE.MatchString(p.First) || !releaseRE.MatchString(p.Last):
			return nil, fmt.Errorf("%s:%d: %s: releases %q, %q are not X.Y.Z", name, row.line, p.Name, p.First, p.Last)
		}
		if _, dup := out[p.Name]; dup {
			return nil, fmt.Errorf("%s:%d: %s listed twice", name, row.line, p.Name)
		}
		out[p.Name] = p
	}
	return out, nil
}

// LookupDocumentedParam finds a module parameter name that any OpenZFS
// release from 0.8.0 to 2.4.4 documents in its man page, for either
// module; '-' and '_' are the same character, as for the kernel. A name no
// release documents is not a parameter the module knows by that name.
func LookupDocumentedParam(name string) (DocumentedParam, bool) {
	p, ok := paramNames()[canonicalParamName(name)]
	return p, ok
}
