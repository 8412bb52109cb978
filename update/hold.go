package update

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/zfsinstall/zfsinstall/backends"
	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/pkgmgr"
	"github.com/zfsinstall/zfsinstall/repos"
)

// The kernel hold keeps dnf from installing a kernel ZFS would not
// survive: the packages of exactly that kernel build go into excludepkgs=
// of dnf.conf's [main], which `dnf upgrade`, dnf-automatic and Ansible's
// dnf module all obey, and come out again as soon as a kmod-zfs that fits
// the kernel or a DKMS release that builds there is offered (or the
// kernel-devel DKMS needs). Kernels that pass, and every other package,
// keep flowing: the hold never excludes a pattern such as kernel*.
//
// HoldFile records which exclusions are zfsinstall's, and why, so that
// the administrator's own exclusions on the same line are never touched.

// HoldFile is the kernel hold's record.
const HoldFile = facts.KernelHoldFile

// HeldKernel is one kernel the hold keeps from dnf.
type HeldKernel struct {
	Release string `json:"release"`
	// Packages are the exclusions in dnf.conf (name-version-release.arch).
	Packages []string `json:"packages"`
	// Reason is the check that failed, as "ID: detail".
	Reason string `json:"reason"`
}

// HoldState is the hold as recorded on the host and as this evaluation
// finds it should be.
type HoldState struct {
	// Enabled is true when the host has the hold (HoldFile exists).
	Enabled bool `json:"enabled"`
	// Held is what HoldFile records now.
	Held []HeldKernel `json:"held"`
	// Evaluated is what the hold holds once re-evaluated from what the
	// repositories offer now.
	Evaluated []HeldKernel `json:"evaluated"`
}

// holdState is the recorded hold beside this evaluation's.
func (ev *evaluation) holdState() HoldState {
	rec, _ := ParseHoldFile(ev.f.Files[HoldFile])
	_, enabled := ev.f.Files[HoldFile]
	return HoldState{Enabled: enabled, Held: orEmpty(rec.Held), Evaluated: orEmpty(ev.toHold())}
}

// toHold are the kernels the hold should hold: offered kernels of a
// flavour ZFS is kept working on, on which it would not work.
func (ev *evaluation) toHold() []HeldKernel {
	var out []HeldKernel
	for _, k := range ev.kernels {
		if len(k.Packages) == 0 {
			continue
		}
		fail, _ := backends.FirstFailure(k.Findings)
		out = append(out, HeldKernel{Release: k.Release, Packages: k.Packages, Reason: fail.ID + ": " + oneLine(fail.Detail)})
	}
	return out
}

// HoldRecord is the content of HoldFile.
type HoldRecord struct {
	Held []HeldKernel
	// AddedLine is true when zfsinstall added the excludepkgs= line to
	// dnf.conf (it removes the line again when nothing is held).
	AddedLine bool
}

const holdHeader = `# Managed by zfsinstall (kernel.hold); rewritten by zfsinstall apply and zfsinstall hold.
# Kernels held back from dnf because ZFS would not work on them, and why. Their packages are
# in excludepkgs= of /etc/dnf/dnf.conf's [main] (the other exclusions there are not
# zfsinstall's); they come out when a kmod-zfs that fits, or a DKMS release that builds there,
# is offered. zfsinstall check-update shows the pending update judged kernel by kernel.
`

// Bytes writes the record: "held RELEASE PACKAGE..." lines, each followed
// by its reason on a tab-indented line, and "added-excludepkgs-line".
func (r HoldRecord) Bytes() []byte {
	var b strings.Builder
	b.WriteString(holdHeader)
	for _, k := range r.Held {
		fmt.Fprintf(&b, "held %s %s\n\t%s\n", k.Release, strings.Join(k.Packages, " "), oneLine(k.Reason))
	}
	if r.AddedLine {
		b.WriteString("added-excludepkgs-line\n")
	}
	return []byte(b.String())
}

// ParseHoldFile reads HoldFile. Lines it does not know are an error: the
// file is zfsinstall's, and guessing which exclusions are its own could
// take an administrator's away.
func ParseHoldFile(s string) (HoldRecord, error) {
	var r HoldRecord
	for n, line := range strings.Split(s, "\n") {
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case line == "added-excludepkgs-line":
			r.AddedLine = true
		case strings.HasPrefix(line, "\t") && len(r.Held) > 0:
			r.Held[len(r.Held)-1].Reason = strings.TrimSpace(line)
		case strings.HasPrefix(line, "held "):
			f := strings.Fields(line)
			if len(f) < 3 {
				return HoldRecord{}, fmt.Errorf("%s:%d: a held line needs a kernel and its packages", HoldFile, n+1)
			}
			r.Held = append(r.Held, HeldKernel{Release: f[1], Packages: f[2:]})
		default:
			return HoldRecord{}, fmt.Errorf("%s:%d: %q is not a line of the kernel hold's record", HoldFile, n+1, line)
		}
	}
	return r, nil
}

// Releases are the kernels the record holds.
func (r HoldRecord) Releases() []string {
	var out []string
	for _, k := range r.Held {
		out = append(out, k.Release)
	}
	return out
}

// HeldReleases are the kernels a HoldFile's content holds (none when it
// cannot be read: ParseHoldFile's error is reported where the hold is
// planned and written).
func HeldReleases(record string) []string {
	r, _ := ParseHoldFile(record)
	return r.Releases()
}

// HoldResult says what a hold evaluation changed.
type HoldResult struct {
	Held    []HeldKernel `json:"held"`
	Added   []string     `json:"added"`   // kernels newly held
	Lifted  []string     `json:"lifted"`  // kernels no longer held
	Changed bool         `json:"changed"` // dnf.conf or HoldFile was written
}

// Hold re-evaluates the kernel hold from what the repositories offer now
// and writes it (dnf.conf's exclusions and HoldFile), changing nothing when
// it is already right. One dnf process (the repoquery); no transaction.
func Hold(ctx context.Context, c *pkgmgr.Client, f *facts.Facts, q pkgmgr.Query) (*HoldResult, error) {
	offers, err := c.Upgrades(ctx, q, installedKmodRequires(f), queryNames(f)...)
	if err != nil {
		return nil, fmt.Errorf("evaluating the kernel hold: %w", err)
	}
	ev, err := evaluate(ctx, c, f, q, nil, offers)
	if err != nil {
		return nil, fmt.Errorf("evaluating the kernel hold: %w", err)
	}
	return WriteHold(c.Host(), ev.toHold())
}

// Release lifts the whole hold (kernel.hold turned off): zfsinstall's
// exclusions leave dnf.conf and HoldFile is removed.
func Release(h host.Host) (*HoldResult, error) {
	res, err := WriteHold(h, nil)
	if err != nil {
		return nil, err
	}
	if err := h.Remove(HoldFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("removing %s: %w", HoldFile, err)
	}
	return res, nil
}

// WriteHold makes the hold exactly held. HoldFile is written first with
// both the old and the new exclusions as zfsinstall's, then dnf.conf, then
// HoldFile with the new ones only: an interruption anywhere leaves every
// exclusion of zfsinstall's recorded, so the next run can take it out.
func WriteHold(h host.Host, held []HeldKernel) (*HoldResult, error) {
	oldData, err := h.ReadFile(HoldFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", HoldFile, err)
	}
	old, err := ParseHoldFile(string(oldData))
	if err != nil {
		return nil, fmt.Errorf("%w; remove the file and the exclusions zfsinstall added to %s, then run zfsinstall hold", err, repos.DNFConf)
	}
	res := &HoldResult{Held: orEmpty(held)}
	var drop, add []string
	for _, k := range old.Held {
		drop = append(drop, k.Packages...)
		if !slices.ContainsFunc(held, func(n HeldKernel) bool { return n.Release == k.Release }) {
			res.Lifted = append(res.Lifted, k.Release)
		}
	}
	for _, k := range held {
		add = append(add, k.Packages...)
		if !slices.ContainsFunc(old.Held, func(o HeldKernel) bool { return o.Release == k.Release }) {
			res.Added = append(res.Added, k.Release)
		}
	}
	conf, err := h.ReadFile(repos.DNFConf)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		conf = []byte("[main]\n")
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", repos.DNFConf, err)
	}
	file, err := repos.Parse(repos.DNFConf, conf)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", repos.DNFConf, err)
	}
	confChanged, added, err := file.EditMainExcludes(drop, add, old.AddedLine)
	if err != nil {
		return nil, fmt.Errorf("holding kernels in %s: %w", repos.DNFConf, err)
	}
	// The line zfsinstall added stays its own while it has items (an
	// administrator's items on it included); EditMainExcludes removed it
	// when it emptied.
	next := HoldRecord{Held: held, AddedLine: (old.AddedLine || added) && len(file.MainExcludes()) > 0}
	write := func(p string, data []byte) error {
		if err := h.MkdirAll(path.Dir(p), 0o755); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
		if err := h.WriteFile(p, data, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
		return nil
	}
	if confChanged {
		union := HoldRecord{Held: append(slices.Clone(old.Held), held...), AddedLine: old.AddedLine || added}
		if err := write(HoldFile, union.Bytes()); err != nil {
			return nil, err
		}
		if err := write(repos.DNFConf, file.Bytes()); err != nil {
			return nil, err
		}
	}
	if data := next.Bytes(); confChanged || string(data) != string(oldData) {
		if err := write(HoldFile, data); err != nil {
			return nil, err
		}
		res.Changed = true
	}
	return res, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func orEmpty(k []HeldKernel) []HeldKernel {
	if k == nil {
		return []HeldKernel{}
	}
	return k
}
