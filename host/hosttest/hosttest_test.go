package hosttest

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/host"
)

func TestFixtureInterrupts(t *testing.T) {
	f := New(t, "").On("dnf -y install zfs", FixtureResult{Stderr: "KeyboardInterrupt: Terminated.\n", ExitCode: 1, Interrupted: true})
	ctx, interrupt, cancel := host.WithInterrupt(context.Background())
	defer cancel()

	_, err := f.Run(ctx, host.Cmd{Argv: []string{"dnf", "-y", "install", "zfs"}})
	var ie *host.InterruptedError
	if !errors.Is(err, host.ErrInterrupted) || !errors.As(err, &ie) || ie.NotStarted || ie.ExitCode != 1 || ie.Signal != syscall.SIGINT {
		t.Errorf("canned interrupted command: %#v, want an InterruptedError with exit 1 after SIGINT", err)
	}

	interrupt(syscall.SIGINT)
	_, err = f.Run(ctx, host.Cmd{Argv: []string{"dnf", "-y", "install", "zfs"}})
	if !errors.As(err, &ie) || !ie.NotStarted {
		t.Errorf("after an interrupt: %v, want the command not started", err)
	}
	if diff := cmp.Diff([]string{"dnf -y install zfs"}, f.CallKeys()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}
