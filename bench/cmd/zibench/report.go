package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
)

// Goals (issues 13 and 23).
const (
	goalPlan        = 2.0  // converged plan: at most 2x a bare rpm -qa
	goalApplyDKMS   = 0.5  // fresh apply: at most 0.5x the seed article's sequence
	goalApplyKmod   = 0.6  // and 0.6x the OpenZFS docs' kmod sequence
	goalCheckUpdate = 1.5  // update pre-flight: at most 1.5x a bare dnf check-update
	goalFlat        = 1.1  // plan at 5,000 vs 200 installed packages
	goalMemMiB      = 64.0 // peak memory of plan, apply and the pre-flight
	goalFleet       = 1.0  // seconds to plan fleetHosts real-size hosts from saved facts
)

// report prints, for each bed, the table and the sections after it.
func report(w io.Writer, c config, r *results) {
	fmt.Fprintf(w, "\nzfsinstall bench (issues 13 and 23), %s\n", r.start.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "machine: %d CPUs, load average at start %s; zfsinstall %s built with %s, hello-world floor built with %s\n",
		runtime.NumCPU(), r.loadStart, c.zfsinstall, r.goZI, r.goHello)
	fmt.Fprintf(w, "runs: %d A/B pairs per fast figure (after one warm-up run of each), %d per apply (each on its own fresh copy of the root), %d per memory figure; "+
		"pairs in A B B A order; value and floor: median [min-max]; ratio: median [min-max] of the pairwise ratios value/floor; "+
		"load: the 1-minute load average when the figure's runs began. Timings are reported, never asserted.\n", c.n, c.nApply, c.nMem)
	fmt.Fprintf(w, "start-up (zfsinstall recipes vs a Go hello-world, load %s): %s vs %s, %s (%+.2f ms)\n", first(r.startupLoad),
		fmtTimes(r.startup.A), fmtTimes(r.startup.B), fmtRatio(r.startup.ratios()),
		(summarize(seconds(r.startup.A)).Median-summarize(seconds(r.startup.B)).Median)*1000)
	for _, b := range r.beds {
		reportBed(w, b)
	}
	fmt.Fprintf(w, "\nmake bench total runtime: %s; load average at end %s\n", since(r.start), loadavg())
}

// first is the 1-minute figure of a load average line.
func first(load string) string { return strings.Fields(load + " -")[0] }

func reportBed(w io.Writer, r *bedResults) {
	fmt.Fprintf(w, "\n== %s bed ==\n", r.name)
	fmt.Fprintf(w, "test bed: %s\n", r.built)
	fmt.Fprintf(w, "repositories: %s\n", r.sizes)
	fmt.Fprintf(w, "converged roots: kmod host %d installed packages, kernels %s; DKMS host %d, kernels %s\n\n",
		r.countKmod, strings.Join(r.kernKmod, " "), r.countDKMS, strings.Join(r.kernDKMS, " "))

	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "figure\t value\t floor\t ratio\t goal\t met?\t load")
	ratioRow := func(fig string, f figure, floorName, goal string, limit float64) {
		met := "-"
		if limit > 0 {
			met = yesNo(summarize(f.ratios()).Median <= limit)
		}
		fmt.Fprintf(tw, "%s\t %s\t %s%s\t %s\t %s\t %s\t %s\n", fig, fmtTimes(f.A), floorName, fmtTimes(f.B), fmtRatio(f.ratios()), goal, met, first(f.load))
	}
	ratioRow(fmt.Sprintf("converged plan, kmod host (%d kernels)", len(r.kernKmod)), r.planKmod, "rpm -qa: ", fmt.Sprintf("<= %gx", goalPlan), goalPlan)
	ratioRow(fmt.Sprintf("converged plan, DKMS host (%d kernels)", len(r.kernDKMS)), r.planDKMS, "rpm -qa: ", fmt.Sprintf("<= %gx", goalPlan), goalPlan)
	for _, t := range []struct {
		name string
		t    trace
	}{{"processes a converged plan starts, kmod host", r.traceKmod}, {"processes a converged plan starts, DKMS host", r.traceDKMS}} {
		fmt.Fprintf(tw, "%s\t %s\t -\t -\t no dnf, <= 1 rpm, nothing else\t %s\t -\n", t.name, t.t.summaryLine(), yesNo(planProcsMet(t.t)))
	}
	ratioRow("update pre-flight (check-update), kmod host", r.checkKmod, "dnf check-update: ", fmt.Sprintf("<= %gx", goalCheckUpdate), goalCheckUpdate)
	ratioRow("update pre-flight (check-update), DKMS host", r.checkDKMS, "dnf check-update: ", fmt.Sprintf("<= %gx", goalCheckUpdate), goalCheckUpdate)
	for i, host := range []string{"kmod", "DKMS"} {
		zi, floor := r.traceCheck[i].dnfRuns(), r.traceCheckFloor[i].dnfRuns()
		fmt.Fprintf(tw, "dnf runs of the pre-flight, %s host\t %s\t dnf check-update: %s\t -\t report\t -\t -\n", host, zi, floor)
	}
	if !r.real {
		ratioRow(fmt.Sprintf("plan at %d vs %d installed packages", r.countLarge, r.countSmall), r.fillPlan, fmt.Sprintf("plan at %d: ", r.countSmall), fmt.Sprintf("flat (<= %gx)", goalFlat), goalFlat)
		ratioRow(fmt.Sprintf("  context: rpm -qa at %d vs %d", r.countLarge, r.countSmall), r.fillRPM, fmt.Sprintf("rpm -qa at %d: ", r.countSmall), "-", 0)
		ratioRow("plan at 6 kernels vs 1", r.kernels6, "plan at 1 kernel: ", "report", 0)
	}
	ratioRow("fresh apply, DKMS host (ELRepo kernel-lt)", r.applyDKMS.times, "by-hand (seed article): ", fmt.Sprintf("<= %gx", goalApplyDKMS), goalApplyDKMS)
	ratioRow("fresh apply, kmod host (stock 9.4)", r.applyKmod.times, "by-hand (OpenZFS docs): ", fmt.Sprintf("<= %gx", goalApplyKmod), goalApplyKmod)
	for _, a := range []applyResult{r.applyDKMS, r.applyKmod} {
		zi, bh := a.traceZI.dnfRuns(), a.traceBH.dnfRuns()
		fmt.Fprintf(tw, "dnf runs in apply, %s host\t %s\t by-hand: %s\t -\t no more metadata loads than by hand\t %s\t -\n", a.host, zi, bh, yesNo(zi.Loads <= bh.Loads))
	}
	for _, a := range []applyResult{r.applyDKMS, r.applyKmod} {
		fmt.Fprintf(tw, "small processes in apply, %s host\t %s\t by-hand: %s\t -\t as few as the work needs\t -\t -\n", a.host, a.traceZI.smallProcsShort(), a.traceBH.smallProcsShort())
	}
	if len(r.fleet) > 0 {
		med := summarize(seconds(r.fleet)).Median
		fmt.Fprintf(tw, "plan of %d real-size hosts from saved facts (%d KB each)\t %s\t -\t -\t <= %g s\t %s\t %s\n", fleetHosts, r.fleetBytes/1000, fmtTimes(r.fleet), goalFleet, yesNo(med <= goalFleet), first(r.fleetLoad))
	}
	for _, m := range r.mem {
		met := yesNo(maxMiB(m.kib) <= goalMemMiB)
		fmt.Fprintf(tw, "peak memory of zfsinstall, %s\t %s\t -\t -\t <= %g MiB\t %s\t -\n", m.name, fmtMiB(m.kib), goalMemMiB, met)
	}
	tw.Flush()

	fmt.Fprintf(w, "\nProcesses a converged plan starts (strace %s; a process is named by the programs it ran, \"chroot>dkms\"; \"direct\" = started by zfsinstall itself):\n", strings.Join(straceArgs, " "))
	plans := []struct {
		name string
		t    trace
		list bool
	}{
		{"kmod host", r.traceKmod, true},
		{"DKMS host", r.traceDKMS, true},
	}
	if !r.real {
		plans = append(plans, struct {
			name string
			t    trace
			list bool
		}{"kmod host with 6 kernels", r.traceKern6, false}, struct {
			name string
			t    trace
			list bool
		}{fmt.Sprintf("kmod host with %d packages", r.countLarge), r.traceFill, false})
	}
	for _, t := range plans {
		fmt.Fprintf(w, "  %s: %s\n", t.name, t.t.summaryLine())
		if t.list {
			listExecs(w, t.t, false)
		}
	}

	fmt.Fprintf(w, "\nUpdate pre-flight: the dnf processes zfsinstall check-update starts, and the repositories each loads (one run on each converged root):\n")
	for i, host := range []string{"kmod", "DKMS"} {
		fmt.Fprintf(w, "  %s host: %s\n", host, r.traceCheck[i].summaryLine())
		listExecs(w, r.traceCheck[i], true)
		fmt.Fprintf(w, "    floor, dnf check-update: %s\n", r.traceCheckFloor[i].dnfRuns())
	}

	fmt.Fprintf(w, "\nFresh apply: processes, dnf transactions, end state (one run of each on a fresh root):\n")
	for _, a := range []applyResult{r.applyDKMS, r.applyKmod} {
		fmt.Fprintf(w, "  %s host\n", a.host)
		fmt.Fprintf(w, "    zfsinstall apply: %d dnf transactions in the root's dnf history (apply reports %d); %s\n", a.txnZI, a.txnZIReported, a.traceZI.dnfRuns())
		fmt.Fprintf(w, "      all processes: %s\n", a.traceZI.summaryLine())
		fmt.Fprintf(w, "      started by zfsinstall: %s\n", a.traceZI.smallProcs())
		listExecs(w, a.traceZI, true)
		fmt.Fprintf(w, "      end state: %s\n", a.stateZI)
		fmt.Fprintf(w, "    %s: %d dnf transactions in the root's dnf history; %s\n", a.byHand, a.txnBH, a.traceBH.dnfRuns())
		fmt.Fprintf(w, "      all processes: %s\n", a.traceBH.summaryLine())
		fmt.Fprintf(w, "      started by the script: %s\n", a.traceBH.smallProcs())
		listExecs(w, a.traceBH, true)
		fmt.Fprintf(w, "      end state: %s\n", a.stateBH)
	}
	if r.fillerBuilt != "" {
		fmt.Fprintf(w, "\nScaling roots: copies of the converged kmod root with testbed filler packages (rpm database only) up to %d and %d packages, and with 5 extra kernels (testbed.FillerKernel 1-5); made in %s.\n",
			r.countSmall, r.countLarge, r.fillerBuilt)
	}
	for _, n := range r.notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// listExecs lists the processes the command started itself (dnfOnly: only dnf, with the
// repositories each loaded).
func listExecs(w io.Writer, t trace, dnfOnly bool) {
	for _, e := range t.Execs {
		if dnfOnly && (!e.Direct || e.Name() != "dnf") {
			continue
		}
		how := "child "
		if e.Direct {
			how = "direct"
		}
		fmt.Fprintf(w, "    %s %s\n", how, shorten(strings.Join(e.Argv, " "), 150))
		for _, p := range e.Then {
			fmt.Fprintf(w, "           then exec %s\n", p)
		}
		if len(e.Repos) > 0 {
			fmt.Fprintf(w, "           loaded the metadata of %s\n", strings.Join(e.Repos, " "))
		}
	}
}

func maxMiB(kib []int64) float64 {
	m := int64(0)
	for _, k := range kib {
		m = max(m, k)
	}
	return float64(m) / 1024
}

// planProcsMet is the goal for a converged plan: no dnf, at most one rpm, nothing else.
func planProcsMet(t trace) bool {
	for _, e := range t.Execs {
		if e.Name() != "rpm" || len(e.Then) > 0 {
			return false
		}
	}
	return len(t.Execs) <= 1
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func shorten(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", `\n`)
	s = strings.ReplaceAll(s, "\t", `\t`)
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
