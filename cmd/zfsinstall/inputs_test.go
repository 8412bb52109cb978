package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInputsRegularFilesOnly: every file zfsinstall reads from its command
// line or a facts directory (--facts FILE and the entries of --facts DIR,
// --release-key, a saved plan, the spec) is read only when it is a regular
// file of a bounded size, opened without blocking (issue 20 item 3: a FIFO
// blocked plan forever, deaf to SIGINT and SIGTERM; /dev/zero and 1 GB files
// were read whole, ending in "fatal error: out of memory"). Each case must
// end within the deadline with exit 1 and a message naming the file and
// what it is.
func TestInputsRegularFilesOnly(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// A sparse file of 1 GiB: larger than any bound, costs no disk.
	huge := filepath.Join(dir, "huge.json")
	if f, err := os.Create(huge); err != nil {
		t.Fatal(err)
	} else {
		f.Truncate(1 << 30)
		f.Close()
	}
	// A fleet directory: one good host, one FIFO, one link to /dev/zero.
	fleet := filepath.Join(dir, "fleet")
	os.MkdirAll(fleet, 0o755)
	good, err := os.ReadFile("testdata/hosts/rocky9.4-stock/facts.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(fleet, "web01.json"), good, 0o644)
	if err := syscall.Mkfifo(filepath.Join(fleet, "web02.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Symlink("/dev/zero", filepath.Join(fleet, "web03.json"))
	spec := "testdata/specs/good-empty.hcl"
	facts := "testdata/hosts/rocky9.4-stock/facts.json"

	cases := map[string]struct {
		args []string
		want []string
	}{
		"--facts FIFO":             {[]string{"plan", "-f", spec, "--facts", fifo}, []string{fifo, "a FIFO"}},
		"--facts /dev/zero":        {[]string{"plan", "-f", spec, "--facts", "/dev/zero"}, []string{"/dev/zero", "a character device"}},
		"--facts 1 GiB":            {[]string{"plan", "-f", spec, "--facts", huge}, []string{huge, "larger than"}},
		"--facts DIR, bad entries": {[]string{"plan", "-f", spec, "--facts", fleet}, []string{"web02", "a FIFO", "web03", "a character device"}},
		"--release-key FIFO":       {[]string{"plan", "-f", spec, "--facts", facts, "--release-key", fifo}, []string{fifo, "a FIFO"}},
		"--release-key /dev/zero":  {[]string{"plan", "-f", spec, "--facts", facts, "--release-key", "/dev/zero"}, []string{"/dev/zero", "a character device"}},
		"--release-key 1 GiB":      {[]string{"plan", "-f", spec, "--facts", facts, "--release-key", huge}, []string{huge, "larger than"}},
		"apply PLANFILE FIFO":      {[]string{"apply", fifo, "--root", dir}, []string{fifo, "a FIFO"}},
		"apply PLANFILE /dev/zero": {[]string{"apply", "/dev/zero", "--root", dir}, []string{"/dev/zero", "a character device"}},
		"apply PLANFILE 1 GiB":     {[]string{"apply", huge, "--root", dir}, []string{huge, "larger than"}},
		"validate -f FIFO":         {[]string{"validate", "-f", fifo}, []string{fifo, "FIFO"}},
		"apply --release-key FIFO": {[]string{"apply", "-f", spec, "--root", dir, "--release-key", fifo, "--auto-approve"}, []string{fifo, "a FIFO"}},
		"verify -f /dev/zero":      {[]string{"verify", "-f", "/dev/zero", "--root", dir}, []string{"/dev/zero", "character device"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			type result struct {
				out  string
				code int
			}
			done := make(chan result, 1)
			go func() {
				out, code := runCLI(t, tc.args...)
				done <- result{out, code}
			}()
			select {
			case r := <-done:
				if r.code == 0 {
					t.Errorf("exit 0, want a refusal\n%s", r.out)
				}
				for _, w := range tc.want {
					if !strings.Contains(r.out, w) {
						t.Errorf("the refusal does not say %q:\n%s", w, r.out)
					}
				}
			case <-time.After(20 * time.Second):
				t.Errorf("zfsinstall %s still runs after 20 s: it blocks on its input", strings.Join(tc.args, " "))
				// Let the blocked open return (a writer on the FIFO) so the
				// test binary can end.
				for _, p := range []string{fifo, filepath.Join(fleet, "web02.json")} {
					if fd, err := syscall.Open(p, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
						syscall.Close(fd)
					}
				}
				<-done
			}
		})
	}
}
