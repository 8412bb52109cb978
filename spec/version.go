package spec

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

var (
	// constraintPart is one comma-separated part of a go-version
	// constraint: an optional operator, then the version (go-version's
	// constraintRegexp accepts the same operators, spaces around them).
	constraintPart = regexp.MustCompile(`^\s*(<=|>=|!=|~>|<|>|=)?\s*(\S*)\s*$`)
	// releaseVersion is how OpenZFS versions its packages: numbers without
	// leading zeros, joined by dots, at most three (X.Y.Z). A pre-release
	// is not part of the rpm version: zfs-2.3.0-rc1's META says
	// "Version: 2.3.0" and "Release: rc1".
	releaseVersion = regexp.MustCompile(`^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)){0,2}$`)
	leadingZeros   = regexp.MustCompile(`(^|\.)0+([0-9])`)
)

// checkVersion checks every version in the zfs.version constraint c (which
// go-version has parsed) against how OpenZFS versions its packages. The
// planner pins and holds an exact version as written: "zfs-2.2.8" to dnf
// and includepkgs=*-2.2.8-* in zfs.repo, so "v2.2.8" or "2.2.08" would
// hold a version no package has and silently block every update. Ranges may
// leave out trailing parts ("< 2.3"); an exact pin that does gets a warning,
// since go-version reads "2.2" as exactly 2.2.0, not the 2.2 series.
func checkVersion(c string, r hcl.Range) hcl.Diagnostics {
	parts := strings.Split(c, ",")
	for _, part := range parts {
		m := constraintPart.FindStringSubmatch(part)
		if m == nil {
			continue // go-version accepted it, so this cannot happen; it reports otherwise
		}
		op, v := m[1], m[2]
		if !releaseVersion.MatchString(v) {
			exact := len(parts) == 1 && (op == "" || op == "=")
			why := ""
			if exact {
				why = " zfsinstall installs and holds an exact version as written (zfs-<version>, and includepkgs=*-<version>-* in zfs.repo), so it must be the package version exactly."
			}
			return hcl.Diagnostics{errorAt(r, "Invalid version", fmt.Sprintf(
				"%s: OpenZFS packages are versioned in plain numbers, X.Y.Z such as \"2.2.8\", with no \"v\", no leading zeros and no pre-release or build suffix (a release candidate's \"rc\" is in the package release, not its version).%s%s",
				whyNotRelease(v), why, suggestRelease(op, v)))}
		}
		if len(parts) == 1 && (op == "" || op == "=") && strings.Count(v, ".") < 2 {
			full := v + strings.Repeat(".0", 2-strings.Count(v, "."))
			return hcl.Diagnostics{{
				Severity: hcl.DiagWarning,
				Summary:  "version pins exactly " + full,
				Detail: fmt.Sprintf("version = %q is an exact pin, and go-version fills in missing parts with 0: it matches %s only, not the %s series. Write \"~> %s\" for the newest %s.x release, or %q to say that you mean exactly %s.",
					c, full, v, full, seriesOf(full), full, full),
				Subject: r.Ptr(),
			}}
		}
	}
	if why := unsatisfiable(c); why != "" {
		return hcl.Diagnostics{errorAt(r, "version allows no release", fmt.Sprintf(
			"version = %q can never be met: %s, so every plan would refuse it. Write one range, such as \">= 2.2.7, < 2.3\" or \"~> 2.2.0\".", c, why))}
	}
	return nil
}

// whyNotRelease says what is wrong with version v.
func whyNotRelease(v string) string {
	q := strconv.Quote(shorten(v, 40))
	switch {
	case v == "":
		return "A version is missing"
	case strings.HasPrefix(v, "v") || strings.HasPrefix(v, "V"):
		return q + " starts with " + strconv.Quote(v[:1])
	case strings.ContainsFunc(v, func(r rune) bool { return r != '.' && (r < '0' || r > '9') }):
		return q + " has a pre-release or build suffix"
	case leadingZeros.MatchString(v):
		return q + " has a number with a leading zero"
	case strings.Count(v, ".") > 2:
		return q + " has more than three parts"
	}
	return q + " is not a release version"
}

// suggestRelease proposes the release v means when it only has a "v" or
// leading zeros too many ("v2.2.8" and "2.2.08" mean 2.2.8), or "".
func suggestRelease(op, v string) string {
	s := leadingZeros.ReplaceAllString(strings.TrimLeft(v, "vV"), "$1$2")
	if !releaseVersion.MatchString(s) || s == v {
		return ""
	}
	if op != "" {
		s = op + " " + s
	}
	return fmt.Sprintf(" Did you mean %q?", s)
}

// seriesOf is "X.Y" of "X.Y.Z".
func seriesOf(v string) string {
	i := strings.LastIndexByte(v, '.')
	return v[:i]
}

// triple is an OpenZFS version X.Y.Z; missing parts are 0, as go-version
// reads them.
type triple [3]uint64

func parseTriple(v string) (triple, int, bool) {
	var t triple
	parts := strings.Split(v, ".")
	if len(parts) > 3 {
		return t, 0, false
	}
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil || n == math.MaxUint64 {
			return t, 0, false
		}
		t[i] = n
	}
	return t, len(parts), true
}

func (a triple) less(b triple) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// next is the smallest release after a: X.Y.(Z+1).
func (a triple) next() triple { a[2]++; return a }

func (a triple) String() string { return fmt.Sprintf("%d.%d.%d", a[0], a[1], a[2]) }

// unsatisfiable says why no OpenZFS release can meet every part of the
// constraint c, or "" when one can. Releases are X.Y.Z (checkVersion has
// checked every part), so each part is a range [from, to) of them: ">= v"
// starts at v, "> v" at v's successor X.Y.(Z+1), "< v" ends before v, "<=
// v" before its successor, "= v" is [v, succ(v)), and "~> v" is
// go-version's pessimistic range ("~> 2.2.0" is [2.2.0, 2.3.0), "~> 2.2"
// [2.2.0, 3.0.0), "~> 2" from 2.0.0 on). The intersection of the parts is
// empty when its start is not before its end, or when "!=" parts exclude
// every release left in it.
func unsatisfiable(c string) string {
	var from triple
	var to *triple
	var fromPart, toPart string
	excluded := map[triple]bool{}
	raise := func(t triple, part string) {
		if from.less(t) {
			from, fromPart = t, part
		}
	}
	lower := func(t triple, part string) {
		if to == nil || t.less(*to) {
			to, toPart = &t, part
		}
	}
	for _, part := range strings.Split(c, ",") {
		m := constraintPart.FindStringSubmatch(part)
		if m == nil {
			return ""
		}
		op, v := m[1], m[2]
		t, n, ok := parseTriple(v)
		if !ok {
			return ""
		}
		part = strings.TrimSpace(op + " " + v)
		switch op {
		case "", "=":
			raise(t, part)
			lower(t.next(), part)
		case "!=":
			excluded[t] = true
		case ">":
			raise(t.next(), part)
		case ">=":
			raise(t, part)
		case "<":
			lower(t, part)
		case "<=":
			lower(t.next(), part)
		case "~>":
			raise(t, part)
			switch n {
			case 2:
				lower(triple{t[0] + 1, 0, 0}, part)
			case 3:
				lower(triple{t[0], t[1] + 1, 0}, part)
			}
		}
	}
	if to == nil {
		return ""
	}
	if !from.less(*to) {
		if fromPart == "" || fromPart == toPart {
			return fmt.Sprintf("%q matches no release", toPart)
		}
		return fmt.Sprintf("%q and %q exclude each other: no release is both", fromPart, toPart)
	}
	// A finite range is one X.Y series from Z to Z': all of it excluded?
	if from[0] == to[0] && from[1] == to[1] && to[2]-from[2] <= uint64(len(excluded)) {
		for t := from; t.less(*to); t = t.next() {
			if !excluded[t] {
				return ""
			}
		}
		return fmt.Sprintf("every release from %s to before %s is excluded with \"!=\"", from, *to)
	}
	return ""
}
