package facts

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// ParseOSRelease reads the KEY=VALUE lines of an os-release file.
func ParseOSRelease(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		} else {
			v = strings.Trim(v, `"'`)
		}
		out[k] = v
	}
	return out
}

// elIDs are os-release IDs of the Enterprise Linux rebuilds zfsinstall supports.
var elIDs = map[string]bool{"rhel": true, "rocky": true, "almalinux": true, "ol": true, "centos": true}

// DistroFromOSRelease builds a Distro from os-release fields. Family is ""
// for distributions zfsinstall does not support.
func DistroFromOSRelease(kv map[string]string) Distro {
	d := Distro{ID: kv["ID"], IDLike: kv["ID_LIKE"], Name: kv["PRETTY_NAME"], VersionID: kv["VERSION_ID"], Minor: -1}
	if d.Name == "" {
		d.Name = strings.TrimSpace(kv["NAME"] + " " + kv["VERSION_ID"])
	}
	majorS, minorS, hasMinor := strings.Cut(d.VersionID, ".")
	if !number(majorS) || hasMinor && !number(minorS) {
		// VERSION_ID names the release in URLs and paths: only plain
		// numbers ("9.4", "41") are taken; anything else is unsupported.
		return d
	}
	d.Major, _ = strconv.Atoi(majorS)
	if hasMinor {
		d.Minor, _ = strconv.Atoi(minorS)
	}
	switch {
	case d.ID == "fedora":
		d.Family = FamilyFedora
		d.DistTag = ".fc" + majorS
	case elIDs[d.ID]:
		d.Family = FamilyEL
	}
	if d.Family == FamilyEL {
		d.DistTag = ".el" + majorS
		// CentOS Stream says ID=centos with VERSION_ID=9 and no minor; so does
		// nothing else that is supported (RHEL 7 always has 7.N).
		d.Stream = d.ID == "centos" && !hasMinor && d.Major >= 8
		if d.Major < 7 {
			d.Family = FamilyNone
		}
	}
	d.Releasever = majorS
	if d.Family == FamilyFedora {
		d.Releasever = d.VersionID
	}
	return d
}

// number reports whether s is a plain decimal number without a leading zero
// and of at most four digits.
func number(s string) bool {
	if s == "" || len(s) > 4 || s[0] == '0' && s != "0" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Supported reports whether zfsinstall can manage this distribution.
func (d Distro) Supported() bool { return d.Family != FamilyNone }
