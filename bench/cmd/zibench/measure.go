package main

import (
	"bytes"
	"fmt"
	"math"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// command is one program run: argv, the whole environment, and the exit codes that count as
// success (0 unless told).
type command struct {
	argv  []string
	env   []string
	dir   string
	codes []int
}

// run runs the command and returns its wall-clock time from start to exit and its combined
// output; an exit code outside c.codes is an error carrying the output.
func (c command) run() (time.Duration, string, error) {
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Env = c.env
	cmd.Dir = c.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			return d, out.String(), fmt.Errorf("running %s: %w", strings.Join(c.argv, " "), err)
		}
		code = ee.ExitCode()
	}
	want := c.codes
	if len(want) == 0 {
		want = []int{0}
	}
	if !slices.Contains(want, code) {
		return d, out.String(), fmt.Errorf("running %s: exit %d (want %v)\n%s", strings.Join(c.argv, " "), code, want, tail(out.String(), 3000))
	}
	return d, out.String(), nil
}

// runStdout runs the command and returns its standard output alone (standard error is
// part of the error on failure).
func (c command) runStdout() (time.Duration, []byte, error) {
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Env = c.env
	cmd.Dir = c.dir
	var errb bytes.Buffer
	cmd.Stderr = &errb
	start := time.Now()
	out, err := cmd.Output()
	d := time.Since(start)
	if err != nil {
		return d, out, fmt.Errorf("running %s: %w\n%s", strings.Join(c.argv, " "), err, tail(errb.String(), 3000))
	}
	return d, out, nil
}

// timed returns a run function for abba that runs c and returns its time.
func (c command) timed() func() (time.Duration, error) {
	return func() (time.Duration, error) {
		d, _, err := c.run()
		return d, err
	}
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// pairs are n timings of a figure (A) and of its floor (B), taken pair by pair.
type pairs struct {
	A, B []time.Duration
}

// order says which side runs first in pair i: A B, B A, A B, B A, ... so that n even
// completes A B B A blocks and a drift that is linear in time cancels out of the ratios.
func order(i int) (aFirst bool) { return i%2 == 0 }

// abba takes n pairs of timings of a and b in A B B A order, after one discarded run of each
// when warm is set (the first run of a program pays for the page cache).
func abba(n int, warm bool, a, b func() (time.Duration, error)) (pairs, error) {
	var p pairs
	if warm {
		if _, err := a(); err != nil {
			return p, err
		}
		if _, err := b(); err != nil {
			return p, err
		}
	}
	for i := 0; i < n; i++ {
		first, second := a, b
		if !order(i) {
			first, second = b, a
		}
		d1, err := first()
		if err != nil {
			return p, err
		}
		d2, err := second()
		if err != nil {
			return p, err
		}
		if !order(i) {
			d1, d2 = d2, d1
		}
		p.A = append(p.A, d1)
		p.B = append(p.B, d2)
	}
	return p, nil
}

// ratios are the pairwise ratios A[i]/B[i].
func (p pairs) ratios() []float64 {
	var r []float64
	for i := range p.A {
		if i < len(p.B) && p.B[i] > 0 {
			r = append(r, float64(p.A[i])/float64(p.B[i]))
		}
	}
	return r
}

// summary is the median, minimum and maximum of a sample.
type summary struct {
	Median, Min, Max float64
}

// summarize returns the sample's median (the mean of the two middle values for an even
// count), minimum and maximum; all NaN for an empty sample.
func summarize(xs []float64) summary {
	if len(xs) == 0 {
		return summary{math.NaN(), math.NaN(), math.NaN()}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return summary{Median: m, Min: s[0], Max: s[len(s)-1]}
}

func seconds(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = d.Seconds()
	}
	return out
}

// fmtTimes prints "median [min-max]" of a sample of durations, in the median's unit.
func fmtTimes(ds []time.Duration) string {
	s := summarize(seconds(ds))
	switch {
	case math.IsNaN(s.Median):
		return "-"
	case s.Median < 0.01:
		return fmt.Sprintf("%.2f ms [%.2f-%.2f]", s.Median*1000, s.Min*1000, s.Max*1000)
	case s.Median < 1:
		return fmt.Sprintf("%.1f ms [%.1f-%.1f]", s.Median*1000, s.Min*1000, s.Max*1000)
	default:
		return fmt.Sprintf("%.2f s [%.2f-%.2f]", s.Median, s.Min, s.Max)
	}
}

// fmtRatio prints "median [min-max]" of the pairwise ratios.
func fmtRatio(r []float64) string {
	s := summarize(r)
	if math.IsNaN(s.Median) {
		return "-"
	}
	return fmt.Sprintf("%.2fx [%.2f-%.2f]", s.Median, s.Min, s.Max)
}
