package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// ansibleDir is where the playbook, role, module and ansible.cfg live.
var ansibleDir = filepath.Join(repo, "deploy", "ansible")

// ansibleEnv is the environment for ansible programs: the project's ansible.cfg (ansible does
// not read one from a world-writable directory), a HOME of their own, no colours.
func ansibleEnv(t *testing.T) []string {
	t.Helper()
	cfg, err := filepath.Abs(filepath.Join(ansibleDir, "ansible.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	return []string{"ANSIBLE_CONFIG=" + cfg, "HOME=" + t.TempDir(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0"}
}

// ansiblePython is the interpreter ansible-core runs on (Debian's /usr/bin/python3, which
// may not be the first python3 on PATH), as `ansible-playbook --version` names it.
func ansiblePython(t *testing.T) string {
	t.Helper()
	playbook := need(t, "ansible-playbook", "apt-get install --no-install-recommends ansible-core")
	out := mustRun(t, exec.Command(playbook, "--version"))
	m := regexp.MustCompile(`(?m)^\s*python version = .*\((/[^)]+)\)\s*$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("ansible-playbook --version names no python interpreter:\n%s", out)
	}
	return m[1]
}

// moduleResult is the part of the zfsinstall module's JSON result the tests look at.
type moduleResult struct {
	Changed bool   `json:"changed"`
	Failed  bool   `json:"failed"`
	Msg     string `json:"msg"`
	Applied bool   `json:"applied"`
	PlanRC  int    `json:"plan_rc"`
	ApplyRC *int   `json:"apply_rc"`
	Stdout  string `json:"stdout"`
	Steps   []string
	Summary *struct{ Add, Change, Remove int }
	Plan    *struct {
		Steps []struct{ ID, Action, Summary string }
	}
	Diff []struct {
		BeforeHeader string `json:"before_header"`
		AfterHeader  string `json:"after_header"`
	}
}

// runModule runs library/zfsinstall.py the way ansible does on a host (arguments in a JSON
// file, result as JSON on stdout) and returns its result and exit code.
func runModule(t *testing.T, h *bedHost, args map[string]any) (moduleResult, int) {
	t.Helper()
	py := ansiblePython(t)
	file := filepath.Join(t.TempDir(), "args.json")
	data, err := json.Marshal(map[string]any{"ANSIBLE_MODULE_ARGS": args})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, file, string(data), 0o600)
	cmd := command(ansibleDir, h.r.Env(), offline(py, "library/zfsinstall.py", file)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running the module: %v", err)
	}
	t.Logf("module %v: exit %d\n%s", args, code, out)
	var res moduleResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("the module did not print a JSON result: %v\n%s", err, out)
	}
	return res, code
}

// TestAnsibleModule runs the module itself: check mode plans and changes nothing, then it
// applies exactly the steps it reports, then a re-run reports no change; failures carry
// zfsinstall's own message.
func TestAnsibleModule(t *testing.T) {
	h := newBedHost(t, stockKernel)
	dir := t.TempDir()
	spec := filepath.Join(dir, "zfsinstall.hcl")
	writeFile(t, spec, h.spec("services {\n  verify_on_boot = true\n}\n"), 0o644)
	args := func(checkMode bool) map[string]any {
		return map[string]any{
			"binary": zfsinstall(t), "spec": spec, "root": h.r.Dir, "release_key": h.p.KeyFile,
			"dnf_args": []string{h.dnfArg()}, "_ansible_check_mode": checkMode, "_ansible_diff": true,
		}
	}

	res, code := runModule(t, h, args(true))
	if code != 0 || !res.Changed || res.Applied || res.PlanRC != 2 {
		t.Fatalf("check mode on a fresh host: exit %d, changed %v, applied %v, plan_rc %d; want 0, true, false, 2", code, res.Changed, res.Applied, res.PlanRC)
	}
	if res.Summary == nil || res.Summary.Add == 0 || res.Plan == nil || len(res.Steps) != len(res.Plan.Steps) || len(res.Diff) != len(res.Steps) {
		t.Errorf("check mode result lacks the plan: summary %v, %d steps, %d diffs", res.Summary, len(res.Steps), len(res.Diff))
	}
	h.wantNoZFS()

	res, code = runModule(t, h, args(false))
	if code != 0 || !res.Changed || !res.Applied || res.ApplyRC == nil || *res.ApplyRC != 0 {
		t.Fatalf("apply: exit %d, changed %v, applied %v; want 0, true, true (%s)", code, res.Changed, res.Applied, res.Msg)
	}
	for _, s := range res.Plan.Steps {
		// apply prints "ID: SUMMARY..." as it carries out each step of the saved plan.
		if !strings.Contains(res.Stdout, s.ID+": "+s.Summary) {
			t.Errorf("the module reported step %s (%s) but apply did not carry it out:\n%s", s.ID, s.Summary, res.Stdout)
		}
	}
	h.wantInstalled("zfs-2.2.8", "kmod-zfs-2.2.8")

	res, code = runModule(t, h, args(false))
	if code != 0 || res.Changed || res.Applied || res.PlanRC != 0 {
		t.Errorf("re-run: exit %d, changed %v, applied %v, plan_rc %d; want 0, false, false, 0", code, res.Changed, res.Applied, res.PlanRC)
	}

	bad := filepath.Join(dir, "bad.hcl")
	writeFile(t, bad, h.spec("zfs {\n  packaging = \"dmks\"\n}\n"), 0o644)
	failures := map[string]struct {
		change  map[string]any
		wantMsg string
	}{
		"invalid spec":   {map[string]any{"spec": bad}, `packaging must be one of "auto", "dkms", "kmod"; got "dmks"`},
		"missing spec":   {map[string]any{"spec": filepath.Join(dir, "none.hcl")}, "none.hcl does not exist"},
		"missing binary": {map[string]any{"binary": filepath.Join(dir, "zfsinstall")}, "missing or not executable"},
	}
	for name, tc := range failures {
		t.Run(name, func(t *testing.T) {
			a := args(true)
			for k, v := range tc.change {
				a[k] = v
			}
			res, code := runModule(t, h, a)
			if code != 1 || !res.Failed || !strings.Contains(res.Msg, tc.wantMsg) {
				t.Errorf("exit %d, failed %v, msg %q; want 1, true and a msg containing %q", code, res.Failed, res.Msg, tc.wantMsg)
			}
		})
	}
}

// playbookRun is what one ansible-playbook run did to the test bed host: the status of the
// module's task and the play recap.
type playbookRun struct {
	out, task             string
	code, changed, failed int
}

// runPlaybook runs examples/site.yml against the test bed host through an inventory whose
// one host is the local machine, with vars pointing the role at the bed's root.
func runPlaybook(t *testing.T, inventory, vars string, extra ...string) playbookRun {
	t.Helper()
	playbook := need(t, "ansible-playbook", "apt-get install --no-install-recommends ansible-core")
	argv := append([]string{playbook, "-i", inventory, "examples/site.yml", "-e", "@" + vars}, extra...)
	out, code := run(t, command(ansibleDir, ansibleEnv(t), offline(argv...)...))
	r := playbookRun{out: out, code: code}
	if _, after, ok := strings.Cut(out, "TASK [zfsinstall : Bring OpenZFS to the spec]"); ok {
		if m := regexp.MustCompile(`(?m)^(ok|changed|fatal|skipping): \[bed\]`).FindStringSubmatch(after); m != nil {
			r.task = m[1]
		}
	}
	m := regexp.MustCompile(`bed\s+: ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no play recap for host bed in the output")
	}
	r.changed, _ = strconv.Atoi(m[1])
	r.failed, _ = strconv.Atoi(m[2])
	return r
}

// TestAnsiblePlaybook runs the example playbook (serial rollout, the role, the module) with
// the real ansible-playbook against a test-bed root through the role's --root: check mode
// on a fresh host reports changes and changes nothing, the apply run installs ZFS, and a
// third run changes nothing.
func TestAnsiblePlaybook(t *testing.T) {
	py := ansiblePython(t)
	h := newBedHost(t, stockKernel)
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp") // where the role's check-mode staging goes (TMPDIR)
	binPath := filepath.Join(dir, "sbin", "zfsinstall")
	specPath := filepath.Join(dir, "etc", "zfsinstall.hcl")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	inventory := filepath.Join(dir, "inventory.ini")
	// The machine runs the tests as root and has no sudo: the play's become is turned off.
	writeFile(t, inventory, "[zfs_hosts]\nbed ansible_connection=local ansible_become=false ansible_python_interpreter="+py+"\n", 0o644)
	vars := map[string]any{
		"zfsinstall_binary_src":  zfsinstall(t),
		"zfsinstall_binary_path": binPath,
		"zfsinstall_spec_path":   specPath,
		"zfsinstall_root":        h.r.Dir,
		"zfsinstall_release_rpm": h.p.ZFSRelease,
		"zfsinstall_release_key": h.p.KeyFile,
		"zfsinstall_dnf_args":    []string{h.dnfArg()},
		"zfsinstall_environment": map[string]string{"HOME": h.r.Home, "TMPDIR": tmp},
	}
	data, err := json.Marshal(vars)
	if err != nil {
		t.Fatal(err)
	}
	varsFile := filepath.Join(dir, "vars.json")
	writeFile(t, varsFile, string(data), 0o644)
	t.Setenv("TMPDIR", tmp)

	r := runPlaybook(t, inventory, varsFile, "--check", "--diff")
	if r.code != 0 || r.task != "changed" || r.failed != 0 {
		t.Fatalf("check mode: exit %d, module task %q, failed %d; want 0, changed, 0", r.code, r.task, r.failed)
	}
	h.wantNoZFS()
	for _, p := range []string{binPath, specPath} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("check mode wrote %s", p)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("check mode left its staging behind in %s: %v", tmp, left)
	}

	r = runPlaybook(t, inventory, varsFile)
	if r.code != 0 || r.task != "changed" || r.changed != 4 {
		t.Fatalf("apply: exit %d, module task %q, changed %d; want 0, changed, 4 (directories, binary, spec, zfsinstall)", r.code, r.task, r.changed)
	}
	h.wantInstalled("zfs-2.2.8", "kmod-zfs-2.2.8")
	spec, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`zfs_arc_max`, `verify_on_boot = true`, `release_rpm = "` + h.p.ZFSRelease + `"`} {
		if !strings.Contains(string(spec), want) {
			t.Errorf("the rendered spec lacks %s (from examples/group_vars and the role's vars):\n%s", want, spec)
		}
	}
	if !h.r.Exists("/etc/systemd/system/zfsinstall-verify.service") {
		t.Error("the spec's verify_on_boot unit is not in the root")
	}

	r = runPlaybook(t, inventory, varsFile)
	if r.code != 0 || r.task != "ok" || r.changed != 0 {
		t.Errorf("second run: exit %d, module task %q, changed %d; want 0, ok, 0", r.code, r.task, r.changed)
	}

	r = runPlaybook(t, inventory, varsFile, "-e", `{"zfsinstall_spec": {"zfs": {"packaging": "dmks"}}}`)
	if r.code == 0 || r.task != "fatal" || r.failed != 1 || !strings.Contains(r.out, `packaging must be one of`) {
		t.Errorf("a bad spec: exit %d, module task %q, failed %d; want non-zero, fatal, 1 and zfsinstall's diagnostic in the output", r.code, r.task, r.failed)
	}
}

// TestAnsibleLint runs Debian's ansible-lint on the playbook and the role, offline (without
// network when run as root), and ansible-doc on the module (its DOCUMENTATION must parse).
func TestAnsibleLint(t *testing.T) {
	lint := need(t, "ansible-lint", "apt-get install --no-install-recommends ansible-lint")
	doc := need(t, "ansible-doc", "apt-get install --no-install-recommends ansible-core")
	out, code := run(t, command(ansibleDir, ansibleEnv(t), offline(lint, "--offline", "-p", "examples/site.yml", "roles/zfsinstall")...))
	if code != 0 {
		t.Errorf("ansible-lint: exit %d\n%s", code, out)
	}
	out, code = run(t, command(ansibleDir, ansibleEnv(t), doc, "-M", "library", "zfsinstall"))
	if code != 0 || !strings.Contains(out, "dnf_args") {
		t.Errorf("ansible-doc zfsinstall: exit %d\n%s", code, out)
	}
}
