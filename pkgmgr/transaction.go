package pkgmgr

import (
	"fmt"
	"strings"

	"github.com/zfsinstall/zfsinstall/host"
)

// Change is one package a dnf transaction would install, upgrade,
// downgrade, reinstall or remove.
type Change struct {
	Action string // "install", "upgrade", "downgrade", "reinstall", "remove"
	Name   string
	Arch   string
	// Epoch is the package's epoch, "" for none or 0 (dnf5 from 5.3.0.0
	// always prints it: "0:6.12.5-200.fc41").
	Epoch   string
	Version string // version-release, without the epoch
	Repo    string
}

// transactionSections maps the headings of dnf's transaction table to
// actions: dnf 4 (dnf/cli/output.py) and dnf5 (libdnf5-cli/output/
// transaction_table.cpp, TransactionTable::Impl::add_section) use the same
// words.
var transactionSections = map[string]string{
	"Installing":                       "install",
	"Installing dependencies":          "install",
	"Installing weak dependencies":     "install",
	"Installing group/module packages": "install",
	"Upgrading":                        "upgrade",
	"Downgrading":                      "downgrade",
	"Reinstalling":                     "reinstall",
	"Removing":                         "remove",
	"Removing dependent packages":      "remove",
	"Removing unused dependencies":     "remove",
}

// ignoredSections are headings whose rows change no package: packages dnf
// leaves out, reasons, groups, environments and module streams (dnf5's
// transaction_table.cpp; dnf 4's output.py).
var ignoredSections = map[string]bool{
	"Skipping packages with conflicts": true, "Skipping packages with broken dependencies": true,
	"Skipping packages with vendor change": true,
	"Changing reason":                      true, "Changing reason of installed groups": true,
	"Installing groups": true, "Installing groups dependencies": true, "Removing groups": true, "Upgrading groups": true,
	"Installing Groups": true, "Removing Groups": true, "Upgrading Groups": true,
	"Installing environmental groups": true, "Removing environmental groups": true, "Upgrading environmental groups": true,
	"Installing Environment Groups": true, "Removing Environment Groups": true, "Upgrading Environment Groups": true,
	"Installing module profiles": true, "Removing module profiles": true, "Disabling module profiles": true,
	"Enabling module streams": true, "Switching module streams": true, "Disabling modules": true, "Resetting modules": true,
}

// HasTransactionTable says whether dnf's output holds a transaction table
// (its column header line).
func HasTransactionTable(out []byte) bool {
	for _, line := range strings.Split(string(out), "\n") {
		if isTableHeader(line) {
			return true
		}
	}
	return false
}

// isTableHeader matches the column header: dnf 4 " Package  Arch[itecture]
// Version  Repository  Size" between rules of "=", dnf5 "Package  Arch
// Version  Repository  Size" (not indented, no rules).
func isTableHeader(line string) bool {
	f := strings.Fields(line)
	return len(f) == 5 && f[0] == "Package" && (f[1] == "Arch" || f[1] == "Architecture") && f[2] == "Version" && f[3] == "Repository" && f[4] == "Size"
}

// ParseTransaction reads the transaction table dnf prints before it asks
// "Is this ok" (dnf 4 and dnf 5): one row per package under headings such
// as "Installing:" and "Installing dependencies:" (a heading may come back
// later in the table: dnf5 starts a new section whenever the reason
// changes). dnf 4 prints a name too long for its column alone and the rest
// of the row on the next line; dnf5 always prints the epoch from 5.3.0.0
// and indents "replacing" rows under upgrades. The table ends at
// "Transaction Summary" (dnf5: "Transaction Summary:").
//
// Output without a table is an error, unless dnf said "Nothing to do.";
// so is a table with no rows, a heading it does not know or a row it cannot
// read: a layout misread must never pass for "no changes". A table whose
// rows change no package (dnf5's "Changing reason:" when asked to install
// what is installed) is no changes.
func ParseTransaction(out []byte) ([]Change, error) {
	var changes []Change
	inTable, ended, nothing := false, false, false
	action, heading := "", ""
	rows := 0 // rows read, also those of sections that change no package
	var pending []string
	for _, line := range strings.Split(string(out), "\n") {
		trim := strings.TrimSpace(line)
		switch {
		case !inTable:
			inTable = isTableHeader(line)
			nothing = nothing || trim == "Nothing to do."
			continue
		case strings.HasPrefix(line, "Transaction Summary"):
			ended = true
		case trim == "" || strings.Trim(trim, "=") == "":
			continue
		case line[0] != ' ':
			if len(pending) > 0 {
				return nil, fmt.Errorf("dnf's transaction table: cannot read the row %q under %q", strings.Join(pending, " "), heading)
			}
			heading = strings.TrimSuffix(trim, ":")
			var ok bool
			if action, ok = transactionSections[heading]; !ok && !ignoredSections[heading] {
				return nil, fmt.Errorf("dnf's transaction table has a heading zfsinstall does not know: %q", line)
			}
			continue
		}
		if ended {
			break
		}
		fields := strings.Fields(line)
		if heading == "" {
			return nil, fmt.Errorf("dnf's transaction table: a row before any heading: %q", line)
		}
		rows++
		if action == "" || fields[0] == "replacing" {
			continue
		}
		fields = append(pending, fields...)
		if len(fields) < 4 {
			pending = fields
			continue
		}
		pending = nil
		ch := Change{Action: action, Name: fields[0], Arch: fields[1], Version: fields[2], Repo: fields[3]}
		if e, vr, ok := strings.Cut(ch.Version, ":"); ok {
			ch.Version = vr
			if e != "0" {
				ch.Epoch = e
			}
		}
		changes = append(changes, ch)
	}
	switch {
	case !inTable && nothing:
		return nil, nil
	case !inTable:
		return nil, fmt.Errorf("dnf printed no transaction table (and did not say \"Nothing to do.\"): %s", host.Tail(out, 12))
	case len(pending) > 0:
		return nil, fmt.Errorf("dnf's transaction table: cannot read the row %q under %q", strings.Join(pending, " "), heading)
	case rows == 0:
		return nil, fmt.Errorf("dnf's transaction table has no rows: %s", host.Tail(out, 12))
	}
	return changes, nil
}
