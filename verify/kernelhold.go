package verify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/repos"
	"github.com/zfsinstall/zfsinstall/spec"
	"github.com/zfsinstall/zfsinstall/update"
)

// kernelHold checks the kernel hold (kernel.hold): it has been evaluated
// (its record exists), its timer is enabled, and every exclusion it
// records is still in dnf.conf. A held kernel is not a failure: it is the
// hold doing its job, and the detail names it and why, so a monitored
// host shows the kernel update it is waiting for.
func kernelHold(f *facts.Facts, s *spec.Spec) (Check, bool) {
	if !s.Kernel.Hold || f.Kernel.BootLoader == facts.BootImageMode || f.ZFS.Userland == "" {
		return Check{}, false
	}
	c := Check{ID: "kernel-hold", Name: "kernel hold"}
	data, recorded := f.Files[update.HoldFile]
	if !recorded {
		c.Detail = "kernel.hold is on but the hold has never been evaluated on this host (" + update.HoldFile + " is missing): run zfsinstall apply, or zfsinstall hold"
		return c, true
	}
	rec, err := update.ParseHoldFile(data)
	if err != nil {
		c.Detail = err.Error()
		return c, true
	}
	if st := f.Services[facts.KernelHoldTimer]; st != facts.UnitEnabled {
		c.Detail = fmt.Sprintf("%s is %s: the hold is not re-evaluated, so it is neither lifted when a fitting module is offered nor extended to new kernels; run zfsinstall apply", facts.KernelHoldTimer, orNoneS(string(st)))
		return c, true
	}
	var excluded []string
	if conf, err := repos.Parse(repos.DNFConf, []byte(f.Files[repos.DNFConf])); err == nil {
		excluded = conf.MainExcludes()
	}
	var held, lost []string
	for _, k := range rec.Held {
		held = append(held, k.Release+" ("+k.Reason+")")
		for _, p := range k.Packages {
			if !slices.Contains(excluded, p) {
				lost = append(lost, p)
			}
		}
	}
	switch {
	case len(lost) > 0:
		c.Detail = "the hold records exclusions that are not in " + repos.DNFConf + " (" + strings.Join(lost, ", ") + "): dnf may install a kernel ZFS would not survive; run zfsinstall hold"
	case len(held) == 0:
		c.OK, c.Detail = true, "on; no kernel held"
	default:
		c.OK, c.Detail = true, "on; held back from dnf: "+strings.Join(held, "; ")
	}
	return c, true
}
