package planner

import "github.com/hashicorp/go-version"

// mustVersion parses an installed package's version; rpm versions that
// go-version cannot read compare as 0.
func mustVersion(v string) *version.Version {
	pv, err := version.NewVersion(v)
	if err != nil {
		pv, _ = version.NewVersion("0")
	}
	return pv
}
