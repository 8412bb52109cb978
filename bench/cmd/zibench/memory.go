package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// peakRSS runs c and returns the peak resident set size, in KiB, of the command's own process
// (VmHWM of /proc/PID/status), not of the programs it starts: the figure is zfsinstall's
// memory, and the dnf it runs is reported apart as a process. The kernel's own counters for a
// finished process include its children (wait4's ru_maxrss is the largest of the process and
// the children it waited for), so the bench reads VmHWM at the moment the process exits,
// while its memory is still there: ptrace's PTRACE_EVENT_EXIT stop. Only the command's main
// thread is traced; its children are not. Signals the traced thread receives are passed on.
func peakRSS(c command) (int64, error) {
	// Every ptrace request must come from the thread that started the tracee.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	out, err := os.CreateTemp("", "zibench-out-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Env, cmd.Dir = c.env, c.dir
	// A file, not a pipe: the bench reaps the process itself, so cmd.Wait (which would copy a
	// pipe) is never called.
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("running %s: %w", strings.Join(c.argv, " "), err)
	}
	pid := cmd.Process.Pid
	var ws unix.WaitStatus
	// The first stop is the SIGTRAP after execve.
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
		return 0, err
	}
	if err := unix.PtraceSetOptions(pid, unix.PTRACE_O_TRACEEXIT|unix.PTRACE_O_EXITKILL); err != nil {
		return 0, fmt.Errorf("ptrace: %w", err)
	}
	hwm, sig := int64(-1), 0
	for {
		if err := unix.PtraceCont(pid, sig); err != nil {
			return 0, fmt.Errorf("ptrace: %w", err)
		}
		sig = 0
		if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
			return 0, err
		}
		switch {
		case ws.Exited() || ws.Signaled():
			code := ws.ExitStatus()
			want := c.codes
			if len(want) == 0 {
				want = []int{0}
			}
			if ws.Signaled() || !slices.Contains(want, code) {
				b, _ := os.ReadFile(out.Name())
				return 0, fmt.Errorf("running %s: exit %d (want %v)\n%s", strings.Join(c.argv, " "), code, want, tail(string(b), 3000))
			}
			if hwm < 0 {
				return 0, fmt.Errorf("running %s: no exit stop seen", strings.Join(c.argv, " "))
			}
			return hwm, nil
		case ws.Stopped() && ws.StopSignal() == unix.SIGTRAP && ws.TrapCause() == unix.PTRACE_EVENT_EXIT:
			if hwm, err = readHWM(pid); err != nil {
				return 0, err
			}
		case ws.Stopped():
			sig = int(ws.StopSignal()) // a signal for the process: deliver it
		}
	}
}

// readHWM reads VmHWM (KiB) from /proc/PID/status.
func readHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// fmtMiB prints "median [min-max] MiB" of peak sizes given in KiB.
func fmtMiB(kib []int64) string {
	xs := make([]float64, len(kib))
	for i, k := range kib {
		xs[i] = float64(k) / 1024
	}
	s := summarize(xs)
	if math.IsNaN(s.Median) {
		return "-"
	}
	return fmt.Sprintf("%.1f MiB [%.1f-%.1f]", s.Median, s.Min, s.Max)
}
