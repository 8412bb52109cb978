package pkgmgr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
)

// ResolveUpgrade asks dnf what a plain `dnf upgrade` would do now, without
// doing it (--assumeno): every package it would install (a new kernel is
// installed beside the others), upgrade or remove (the oldest kernels past
// installonly_limit; dnf never removes the running one). The exclusions in
// dnf.conf apply, the kernel hold's included, as they do for dnf-automatic
// and Ansible's dnf module. An empty answer means dnf said "Nothing to do".
func (c *Client) ResolveUpgrade(ctx context.Context, q Query) ([]Change, error) {
	d, err := c.dialect(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.run(ctx, c.dnfArgv(d.upgrade(q)...))
	if err != nil && !HasTransactionTable(res.Stdout) {
		// --assumeno ends with exit 1 after the table; without one dnf
		// could not resolve the update at all.
		return nil, ExplainDNF(fmt.Errorf("resolving the pending update (dnf --assumeno upgrade): %w", err))
	}
	changes, perr := ParseTransaction(res.Stdout)
	if perr != nil {
		return nil, fmt.Errorf("resolving the pending update (dnf --assumeno upgrade): %w", perr)
	}
	return changes, nil
}

// Offer is one package a repository offers, with the requirements and
// provides that decide where the kernel module works: kernel(SYMBOL) =
// CRC provides of a kernel, kernel(SYMBOL) requirements of a kmod,
// kernel-devel/kernel-uname-r requirements of zfs-dkms.
type Offer struct {
	facts.Package
	// Provides are the package's kernel(SYMBOL) = CRC provides that some
	// kmod of the same answer requires (symbol -> CRC): the kernel's kABI
	// as dnf resolves it against kmod-zfs.
	Provides map[string]string `json:"provides,omitempty"`
}

// Upgrades asks the repositories, in one repoquery, for every version of
// the named packages newer than the installed one, ignoring the
// exclusions of dnf.conf's [main] (--disableexcludes=main): the kernel
// hold lives there, and a held kernel must still be judged so the hold can
// be lifted. Exclusions of a repository section (zfs.repo's version hold)
// still apply. Each kernel package comes with the kernel(SYMBOL) provides
// that a kmod-zfs in the same answer, or in kmodRequires, requires.
func (c *Client) Upgrades(ctx context.Context, q Query, kmodRequires []string, names ...string) ([]Offer, error) {
	d, err := c.dialect(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.run(ctx, c.dnfArgv(d.upgrades(q, names)...))
	if err != nil {
		var ce *host.CmdError
		if errors.As(err, &ce) {
			return nil, ExplainDNF(fmt.Errorf("asking the repositories for updates: %w", err))
		}
		return nil, fmt.Errorf("asking the repositories for updates: %w", err)
	}
	offers := ParseOffers(res.Stdout, kmodRequires)
	return offers, nil
}

// ParseOffers reads upgradeQueryFormat output. Of the requirements it
// keeps those on the kernel (as ParsePackages); of the provides the
// kernel(SYMBOL) = CRC entries that a kmod-zfs in the answer, or in
// kmodRequires, requires: a kernel-core provides tens of thousands, and
// only those decide anything.
func ParseOffers(out []byte, kmodRequires []string) []Offer {
	var offers []Offer
	// A kernel-core provides about 10,500 symbols; their lines are kept as they are
	// (parts of out) and read once the wanted symbols are known.
	type provide struct {
		offer int
		line  []byte
	}
	var provides []provide
	cur, section := -1, ""
	for rest := out; len(rest) > 0; {
		var line []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			line, rest = rest, nil
		}
		switch {
		case bytes.HasPrefix(line, []byte("@\t")):
			c := strings.Split(string(line[2:]), "\t")
			if len(c) < 6 {
				cur = -1
				continue
			}
			p := facts.Package{Name: c[0], Epoch: c[1], Version: c[2], Release: c[3], Arch: c[4], Repo: c[5]}
			if p.Epoch == "(none)" || p.Epoch == "0" {
				p.Epoch = ""
			}
			offers = append(offers, Offer{Package: p})
			cur, section = len(offers)-1, ""
		case string(line) == "@R" || string(line) == "@P":
			section = string(line)
		case cur < 0 || !bytes.HasPrefix(line, []byte("kernel")):
		case section == "@R":
			offers[cur].Requires = append(offers[cur].Requires, strings.Join(strings.Fields(string(line)), " "))
		case section == "@P" && bytes.HasPrefix(line, []byte("kernel(")):
			provides = append(provides, provide{cur, line})
		}
	}
	want := map[string]bool{}
	for _, r := range kmodRequires {
		want[requiredSymbol(r)] = true
	}
	for _, o := range offers {
		if o.Name == "kmod-zfs" {
			for _, r := range o.Requires {
				want[requiredSymbol(r)] = true
			}
		}
	}
	for _, p := range provides {
		name, crc, ok := bytes.Cut(p.line, []byte(" = "))
		sym, _ := bytes.CutPrefix(name, []byte("kernel("))
		sym, closed := bytes.CutSuffix(sym, []byte(")"))
		if !ok || !closed || !want[string(sym)] {
			continue
		}
		if offers[p.offer].Provides == nil {
			offers[p.offer].Provides = map[string]string{}
		}
		offers[p.offer].Provides[string(sym)] = string(bytes.TrimSpace(crc))
	}
	for i := range offers {
		if offers[i].Name != "kmod-zfs" && offers[i].Name != "zfs-dkms" {
			offers[i].Requires = nil
		}
	}
	return offers
}

// requiredSymbol is SYMBOL of "kernel(SYMBOL) = CRC", "" for anything else.
func requiredSymbol(req string) string {
	name, _, _ := strings.Cut(req, " ")
	sym, ok := strings.CutPrefix(name, "kernel(")
	if !ok || !strings.HasSuffix(sym, ")") {
		return ""
	}
	return strings.TrimSuffix(sym, ")")
}
