package catalog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	version "github.com/hashicorp/go-version"
)

// Advisory is a known serious defect in a range of OpenZFS releases, from
// advisories.tsv. Every advisory cites its upstream report in Source.
type Advisory struct {
	ID           string              // "ZFS-2023-15526": year the upstream issue was opened, issue number
	Affected     version.Constraints // the affected OpenZFS versions
	AffectedText string              // Affected as written: ">= 2.2.0, < 2.2.2"
	FixedIn      string              // the release upstream names as the way out; "" when none is known
	Impact       string              // one line, for people
	Source       string              // URL of the upstream issue
}

// Advisories returns every advisory in file order. The slice is the
// caller's to keep.
func Advisories() []Advisory {
	return append([]Advisory(nil), data.advisories...)
}

// Unaccepted returns the advisories against v whose IDs are not in accepted
// (a spec's allow_known_bad).
func Unaccepted(v string, accepted []string) []Advisory {
	var out []Advisory
	for _, a := range AdvisoriesFor(v) {
		if !slices.Contains(accepted, a.ID) {
			out = append(out, a)
		}
	}
	return out
}

// AdvisoriesFor returns the advisories whose affected range holds the
// OpenZFS version v ("2.2.1", "2.2.1-1", "zfs-kmod-2.2.1-1"; the rpm
// release is ignored). An unparsable v has none.
func AdvisoriesFor(v string) []Advisory {
	ver, err := parseZFSVersion(v)
	if err != nil {
		return nil
	}
	var out []Advisory
	for _, a := range data.advisories {
		if a.Affected.Check(ver) {
			out = append(out, a)
		}
	}
	return out
}

func parseAdvisories(b []byte) ([]Advisory, error) {
	const name = "advisories.tsv"
	rows, err := readTSV(name, b, []string{"id", "affected", "fixed_in", "impact", "source"})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []Advisory
	for _, row := range rows {
		f := row.fields
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, row.line, fmt.Sprintf(format, args...))
		}
		a := Advisory{ID: f[0], AffectedText: f[1], FixedIn: f[2], Impact: f[3], Source: f[4]}
		number, err := advisoryNumber(a.ID)
		if err != nil {
			return nil, bad("%v", err)
		}
		if seen[a.ID] {
			return nil, bad("id %s listed twice", a.ID)
		}
		seen[a.ID] = true
		if !strings.HasPrefix(a.Source, "https://") || !strings.HasSuffix(a.Source, "/"+number) {
			return nil, bad("source %q is not an https URL ending in the issue number %s", a.Source, number)
		}
		if a.Affected, err = version.NewConstraint(a.AffectedText); err != nil {
			return nil, bad("affected %q: %v", a.AffectedText, err)
		}
		if strings.TrimSpace(a.Impact) == "" {
			return nil, bad("impact is empty")
		}
		if a.FixedIn != "" {
			fixed, err := version.NewVersion(a.FixedIn)
			if err != nil {
				return nil, bad("fixed_in %q: %v", a.FixedIn, err)
			}
			if a.Affected.Check(fixed) {
				return nil, bad("fixed_in %s is inside the affected range %q", a.FixedIn, a.AffectedText)
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// advisoryNumber checks an id "ZFS-YYYY-N" and returns N.
func advisoryNumber(id string) (string, error) {
	parts := strings.Split(id, "-")
	if len(parts) != 3 || parts[0] != "ZFS" || len(parts[1]) != 4 || !allDigits(parts[1]) || !allDigits(parts[2]) {
		return "", fmt.Errorf("id %q is not ZFS-YYYY-N", id)
	}
	if year, _ := strconv.Atoi(parts[1]); year < 2010 {
		return "", fmt.Errorf("id %q has an implausible year", id)
	}
	return parts[2], nil
}
