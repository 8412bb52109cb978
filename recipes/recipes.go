// Package recipes holds ready host specs an administrator can start from,
// each commented to explain its choices. Every recipe parses with spec.Parse
// without diagnostics.
package recipes

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"
)

//go:embed *.hcl
var files embed.FS

// Names lists the recipes by name (file name without ".hcl"), sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".") // cannot fail on an embed.FS root
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = strings.TrimSuffix(e.Name(), ".hcl")
	}
	return names
}

// Get returns the HCL source of the recipe called name, as listed by Names.
func Get(name string) ([]byte, error) {
	src, err := files.ReadFile(name + ".hcl")
	if err != nil {
		return nil, fmt.Errorf("no recipe %q (recipes: %s)", name, strings.Join(Names(), ", "))
	}
	return src, nil
}
