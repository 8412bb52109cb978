package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// ansibleDir holds the collection (collection/), the example playbook and ansible.cfg.
var ansibleDir = filepath.Join(repo, "deploy", "ansible")

// collectionDir is the source of the zfsinstall.zfsinstall collection.
var collectionDir = filepath.Join(ansibleDir, "collection")

var collection struct {
	once                sync.Once
	dir, tarball, path  string // path: a collections path holding ansible_collections/zfsinstall/zfsinstall
	installed, buildLog string
	err                 error
}

// installedCollection builds the collection with `ansible-galaxy collection build` and installs
// the tarball with `ansible-galaxy collection install --offline`, both without network (as
// root), once per test binary, and returns the collections path it is installed under. The
// playbook and module tests use the collection as installed, not its source.
func installedCollection(t *testing.T) string {
	t.Helper()
	galaxy := need(t, "ansible-galaxy", "apt-get install --no-install-recommends ansible-core")
	collection.once.Do(func() {
		if collection.dir, collection.err = os.MkdirTemp("", "zfsinstall-collection-"); collection.err != nil {
			return
		}
		env := []string{"HOME=" + collection.dir, "ANSIBLE_NOCOLOR=1"}
		dist := filepath.Join(collection.dir, "dist")
		out, code := run(t, command("", env, offline(galaxy, "collection", "build", collectionDir, "--output-path", dist)...))
		collection.buildLog = out
		collection.tarball = filepath.Join(dist, "zfsinstall-zfsinstall-"+version(t)+".tar.gz")
		if code != 0 {
			collection.err = fmt.Errorf("ansible-galaxy collection build: exit %d\n%s", code, out)
			return
		}
		collection.path = filepath.Join(collection.dir, "collections")
		out, code = run(t, command("", env, offline(galaxy, "collection", "install", "--offline", "-p", collection.path, collection.tarball)...))
		collection.installed = filepath.Join(collection.path, "ansible_collections", "zfsinstall", "zfsinstall")
		if _, err := os.Stat(filepath.Join(collection.installed, "MANIFEST.json")); code != 0 || err != nil {
			collection.err = fmt.Errorf("ansible-galaxy collection install --offline: exit %d, %v\n%s", code, err, out)
		}
	})
	if collection.err != nil {
		t.Fatal(collection.err)
	}
	return collection.path
}

// ansibleEnv is the environment for ansible programs: the installed collection, a HOME of
// their own (ansible does not read an ansible.cfg from a world-writable directory; none is
// used), no colours.
func ansibleEnv(t *testing.T) []string {
	t.Helper()
	return []string{"ANSIBLE_COLLECTIONS_PATH=" + installedCollection(t), "HOME=" + t.TempDir(),
		"ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0", "ANSIBLE_RETRY_FILES_ENABLED=0"}
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
	Changed        bool     `json:"changed"`
	Failed         bool     `json:"failed"`
	Msg            string   `json:"msg"`
	Applied        bool     `json:"applied"`
	RebootRequired *bool    `json:"reboot_required"`
	RebootReasons  []string `json:"reboot_reasons"`
	PlanRC         int      `json:"plan_rc"`
	ApplyRC        *int     `json:"apply_rc"`
	Steps          []string
	Summary        *struct{ Add, Change, Remove int }
	Plan           *struct {
		Steps []struct{ ID, Action, Summary string }
	}
	Apply *struct {
		OK             bool `json:"ok"`
		RebootRequired bool `json:"reboot_required"`
		Steps          []struct{ ID, Status string }
		Installed      []string
	}
	Diff []struct {
		BeforeHeader string `json:"before_header"`
		AfterHeader  string `json:"after_header"`
	}
}

// runModule runs the installed collection's zfsinstall module the way ansible does on a host
// (arguments in a JSON file, result as JSON on stdout) and returns its result and exit code.
func runModule(t *testing.T, h *bedHost, args map[string]any) (moduleResult, int) {
	t.Helper()
	py := ansiblePython(t)
	file := filepath.Join(t.TempDir(), "args.json")
	data, err := json.Marshal(map[string]any{"ANSIBLE_MODULE_ARGS": args})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, file, string(data), 0o600)
	module := filepath.Join(installedCollection(t), "ansible_collections/zfsinstall/zfsinstall/plugins/modules/zfsinstall.py")
	cmd := command("", h.r.Env(), offline(py, module, file)...)
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

// TestAnsibleModule runs the module of the installed collection itself: check mode plans and
// changes nothing, then it applies exactly the steps it reports (apply's own JSON result),
// then a re-run reports no change; reboot_required is false throughout (an install root is
// not a running system: cmd/zfsinstall's TestRebootReasons has the cases where it is true);
// failures carry zfsinstall's own message.
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
	noReboot := func(what string, res moduleResult) {
		if res.RebootRequired == nil || *res.RebootRequired || res.RebootReasons == nil || len(res.RebootReasons) > 0 {
			t.Errorf("%s: reboot_required %v %q, want false and no reasons", what, res.RebootRequired, res.RebootReasons)
		}
	}

	res, code := runModule(t, h, args(true))
	if code != 0 || !res.Changed || res.Applied || res.PlanRC != 2 {
		t.Fatalf("check mode on a fresh host: exit %d, changed %v, applied %v, plan_rc %d; want 0, true, false, 2", code, res.Changed, res.Applied, res.PlanRC)
	}
	if res.Summary == nil || res.Summary.Add == 0 || res.Plan == nil || len(res.Steps) != len(res.Plan.Steps) || len(res.Diff) != len(res.Steps) || res.Apply != nil {
		t.Errorf("check mode result lacks the plan (or has an apply): summary %v, %d steps, %d diffs", res.Summary, len(res.Steps), len(res.Diff))
	}
	noReboot("check mode", res)
	h.wantNoZFS()

	res, code = runModule(t, h, args(false))
	if code != 0 || !res.Changed || !res.Applied || res.ApplyRC == nil || *res.ApplyRC != 0 || res.Apply == nil || !res.Apply.OK {
		t.Fatalf("apply: exit %d, changed %v, applied %v; want 0, true, true and apply's result (%s)", code, res.Changed, res.Applied, res.Msg)
	}
	status := map[string]string{}
	for _, s := range res.Apply.Steps {
		status[s.ID] = s.Status
	}
	for _, s := range res.Plan.Steps {
		if st := status[s.ID]; st != "done" && st != "skipped" {
			t.Errorf("the module reported step %s (%s) but apply says %q", s.ID, s.Summary, st)
		}
	}
	if len(res.Apply.Steps) != len(res.Plan.Steps) {
		t.Errorf("apply carried out %d steps, the plan the module reported has %d", len(res.Apply.Steps), len(res.Plan.Steps))
	}
	noReboot("apply", res)
	h.wantInstalled("zfs-2.2.8", "kmod-zfs-2.2.8")

	res, code = runModule(t, h, args(false))
	if code != 0 || res.Changed || res.Applied || res.PlanRC != 0 {
		t.Errorf("re-run: exit %d, changed %v, applied %v, plan_rc %d; want 0, false, false, 0", code, res.Changed, res.Applied, res.PlanRC)
	}
	noReboot("re-run", res)

	bad := filepath.Join(dir, "bad.hcl")
	writeFile(t, bad, h.spec("zfs {\n  packaging = \"dmks\"\n}\n"), 0o644)
	failures := map[string]struct {
		change  map[string]any
		wantMsg string
	}{
		"invalid spec":   {map[string]any{"spec": bad}, `packaging must be one of "auto", "dkms", "kmod"; got "dmks"`},
		"missing spec":   {map[string]any{"spec": filepath.Join(dir, "none.hcl")}, "none.hcl does not exist"},
		"missing binary": {map[string]any{"binary": filepath.Join(dir, "zfsinstall")}, "missing or not executable"},
		"missing key":    {map[string]any{"release_key": filepath.Join(dir, "none.asc")}, "zfsinstall plan: Error: reading --release-key: open " + filepath.Join(dir, "none.asc")},
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
// module's task, of the spec's task, and the play recap.
type playbookRun struct {
	out, task, specTask   string
	code, changed, failed int
}

// taskStatus is the status ansible-playbook printed for host bed under the named role task.
func taskStatus(out, name string) string {
	if _, after, ok := strings.Cut(out, "TASK [zfsinstall.zfsinstall.zfsinstall : "+name+"]"); ok {
		if m := regexp.MustCompile(`(?m)^(ok|changed|fatal|skipping): \[bed\]`).FindStringSubmatch(after); m != nil {
			return m[1]
		}
	}
	return ""
}

// runPlaybook runs examples/site.yml (the role by its FQCN, from the installed collection)
// against the test bed host through an inventory whose one host is the local machine, with
// vars pointing the role at the bed's root.
func runPlaybook(t *testing.T, inventory, vars string, extra ...string) playbookRun {
	t.Helper()
	playbook := need(t, "ansible-playbook", "apt-get install --no-install-recommends ansible-core")
	argv := append([]string{playbook, "-i", inventory, "examples/site.yml", "-e", "@" + vars}, extra...)
	out, code := run(t, command(ansibleDir, ansibleEnv(t), offline(argv...)...))
	r := playbookRun{out: out, code: code, task: taskStatus(out, "Bring OpenZFS to the spec"), specTask: taskStatus(out, "Write the host spec (validated by zfsinstall)")}
	m := regexp.MustCompile(`bed\s+: ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no play recap for host bed in the output")
	}
	r.changed, _ = strconv.Atoi(m[1])
	r.failed, _ = strconv.Atoi(m[2])
	return r
}

// bedPlaybook is a test-bed host for examples/site.yml: an inventory naming it (the local
// machine), and vars that point the role at its root.
type bedPlaybook struct {
	h                          *bedHost
	inventory, vars, tmp, spec string
}

// newBedPlaybook makes the inventory and the vars file; extra vars are merged over the
// defaults (which copy make build's binary into the test's directory and write the spec
// there); a nil value removes the default.
func newBedPlaybook(t *testing.T, extra map[string]any) *bedPlaybook {
	py := ansiblePython(t)
	installedCollection(t) // before TMPDIR changes: it outlives this test
	h := newBedHost(t, stockKernel)
	dir := t.TempDir()
	b := &bedPlaybook{h: h, tmp: filepath.Join(dir, "tmp"), spec: filepath.Join(dir, "etc", "zfsinstall.hcl"),
		inventory: filepath.Join(dir, "inventory.ini"), vars: filepath.Join(dir, "vars.json")}
	if err := os.MkdirAll(b.tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	// The machine runs the tests as root and has no sudo: the play's become is turned off.
	writeFile(t, b.inventory, "[zfs_hosts]\nbed ansible_connection=local ansible_become=false ansible_python_interpreter="+py+"\n", 0o644)
	vars := map[string]any{
		"zfsinstall_binary_src":  zfsinstall(t),
		"zfsinstall_binary_path": filepath.Join(dir, "sbin", "zfsinstall"),
		"zfsinstall_spec_path":   b.spec,
		"zfsinstall_root":        h.r.Dir,
		"zfsinstall_release_rpm": h.p.ZFSRelease,
		"zfsinstall_release_key": h.p.KeyFile,
		"zfsinstall_dnf_args":    []string{h.dnfArg()},
		"zfsinstall_environment": map[string]string{"HOME": h.r.Home, "TMPDIR": b.tmp},
	}
	for k, v := range extra {
		vars[k] = v
		if v == nil {
			delete(vars, k)
		}
	}
	data, err := json.Marshal(vars)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, b.vars, string(data), 0o644)
	t.Setenv("TMPDIR", b.tmp)
	return b
}

// TestAnsiblePlaybook runs the example playbook (serial rollout, the role, the module, from the
// collection as ansible-galaxy installed it) with the real ansible-playbook against a test-bed
// root through the role's --root: check mode on a fresh host reports changes and changes
// nothing, the apply run installs ZFS and verifies it (the example opts in to reboot and
// verify; an install root is never rebooted), a third run changes nothing, and a spec
// zfsinstall refuses is never written: the spec on the host stays the valid one.
func TestAnsiblePlaybook(t *testing.T) {
	b := newBedPlaybook(t, nil)
	h := b.h

	r := runPlaybook(t, b.inventory, b.vars, "--check", "--diff")
	if r.code != 0 || r.task != "changed" || r.failed != 0 {
		t.Fatalf("check mode: exit %d, module task %q, failed %d; want 0, changed, 0", r.code, r.task, r.failed)
	}
	h.wantNoZFS()
	for _, p := range []string{filepath.Dir(b.spec), filepath.Join(filepath.Dir(b.spec), "..", "sbin")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("check mode made %s", p)
		}
	}
	if left, _ := os.ReadDir(b.tmp); len(left) > 0 {
		t.Errorf("check mode left its staging behind in %s: %v", b.tmp, left)
	}

	r = runPlaybook(t, b.inventory, b.vars)
	// directories (binary, spec), binary, spec, zfsinstall
	if r.code != 0 || r.task != "changed" || r.changed != 5 {
		t.Fatalf("apply: exit %d, module task %q, changed %d; want 0, changed, 5", r.code, r.task, r.changed)
	}
	if taskStatus(r.out, "Reboot for the new module or kernel") != "skipping" || taskStatus(r.out, "Verify OpenZFS (after the reboot, if there was one)") != "ok" {
		t.Errorf("apply: an install root is never rebooted, and the example's verify must run and pass")
	}
	h.wantInstalled("zfs-2.2.8", "kmod-zfs-2.2.8")
	spec, err := os.ReadFile(b.spec)
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

	r = runPlaybook(t, b.inventory, b.vars)
	if r.code != 0 || r.task != "ok" || r.changed != 0 {
		t.Errorf("second run: exit %d, module task %q, changed %d; want 0, ok, 0", r.code, r.task, r.changed)
	}

	for _, mode := range [][]string{nil, {"--check"}} {
		r = runPlaybook(t, b.inventory, b.vars, append(mode, "-e", `{"zfsinstall_spec": {"zfs": {"packaging": "dmks"}}}`)...)
		if r.code == 0 || r.failed != 1 || !strings.Contains(r.out, `packaging must be one of`) || r.task != "" {
			t.Errorf("a bad spec %v: exit %d, failed %d, module task %q; want non-zero, 1, zfsinstall's diagnostic and no plan", mode, r.code, r.failed, r.task)
		}
	}
	if after, err := os.ReadFile(b.spec); err != nil || string(after) != string(spec) {
		t.Errorf("a spec zfsinstall refused replaced the valid one on the host (%v):\n%s", err, after)
	}
}

// TestAnsibleRPMInstall runs the role with zfsinstall_install: rpm and the package `make rpm`
// builds: the role copies it over and installs it into the managed root (dnf --installroot;
// the machine's dnf state must stay untouched, which newBedHost checks), then plans and
// applies with the package's /usr/sbin/zfsinstall (the binary the day-2 units then run).
func TestAnsibleRPMInstall(t *testing.T) {
	pkg := zfsinstallRPM(t)
	b := newBedPlaybook(t, map[string]any{"zfsinstall_install": "rpm", "zfsinstall_rpm": pkg,
		"zfsinstall_binary_path": nil})
	r := runPlaybook(t, b.inventory, b.vars)
	if r.code != 0 || r.task != "changed" || taskStatus(r.out, "Install the zfsinstall package into the managed root") != "changed" {
		t.Fatalf("apply with the RPM: exit %d, module task %q", r.code, r.task)
	}
	b.h.wantInstalled("zfsinstall-"+version(t), "zfs-2.2.8", "kmod-zfs-2.2.8")
	if unit := b.h.r.ReadFile(t, "/etc/systemd/system/zfsinstall-verify.service"); !strings.Contains(unit, "ExecStart=/usr/sbin/zfsinstall verify") {
		t.Errorf("the verify unit does not run the package's binary:\n%s", unit)
	}
	r = runPlaybook(t, b.inventory, b.vars)
	if r.code != 0 || r.task != "ok" || r.changed != 0 {
		t.Errorf("second run: exit %d, module task %q, changed %d; want 0, ok, 0", r.code, r.task, r.changed)
	}
}

// TestAnsibleCollection checks the collection as ansible-galaxy built and installed it:
// its version is zfsinstall's (VERSION); ansible-doc renders the module's documentation by its
// FQCN; `ansible-test sanity` passes with the tools Debian packages (see sanity_venvs.py: the
// tests run in ansible-test's own environments, made from Debian's packages, since CI cannot
// reach PyPI) and `ansible-test units` runs the module's unit tests; Debian's ansible-lint
// passes the example playbook and the role offline.
func TestAnsibleCollection(t *testing.T) {
	doc := need(t, "ansible-doc", "apt-get install --no-install-recommends ansible-core")
	test := need(t, "ansible-test", "apt-get install --no-install-recommends ansible-core")
	lint := need(t, "ansible-lint", "apt-get install --no-install-recommends ansible-lint")
	py := ansiblePython(t)
	env := ansibleEnv(t)
	installedCollection(t)

	manifest, err := os.ReadFile(filepath.Join(collection.installed, "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		CollectionInfo struct{ Namespace, Name, Version string } `json:"collection_info"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil || m.CollectionInfo.Namespace != "zfsinstall" || m.CollectionInfo.Name != "zfsinstall" || m.CollectionInfo.Version != version(t) {
		t.Errorf("the installed collection is %+v (%v), want zfsinstall.zfsinstall %s (galaxy.yml's version must be VERSION's)", m.CollectionInfo, err, version(t))
	}

	out, code := run(t, command("", env, doc, "zfsinstall.zfsinstall.zfsinstall"))
	for _, want := range []string{"ZFSINSTALL.ZFSINSTALL.ZFSINSTALL", "dnf_args", "reboot_required", "RETURN VALUES"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("ansible-doc zfsinstall.zfsinstall.zfsinstall: exit %d, lacks %q", code, want)
		}
	}
	out, code = run(t, command("", env, doc, "-t", "role", "zfsinstall.zfsinstall.zfsinstall"))
	if code != 0 || !strings.Contains(out, "zfsinstall_reboot") {
		t.Errorf("ansible-doc -t role: exit %d", code)
	}

	// ansible-test runs inside the installed collection (ansible_collections/NS/NAME) and writes
	// tests/output there; its environments go under HOME.
	tests := regexp.MustCompile(`(?m)^[a-z0-9-]+$`).FindAllString(mustRun(t, command(collection.installed, env, offline(test, "sanity", "--list-tests")...)), -1)
	venvs, err := filepath.Abs(filepath.Join(ansibleDir, "sanity_venvs.py"))
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, command(collection.installed, env, offline(append([]string{py, venvs, pythonVersion(t, py)}, tests...)...)...))
	out, code = run(t, command(collection.installed, env, offline(test, "sanity", "--python", pythonVersion(t, py), "--color", "no")...))
	if code != 0 || strings.Count(out, "Running sanity test") != len(tests) {
		t.Errorf("ansible-test sanity: exit %d, ran %d of %d tests", code, strings.Count(out, "Running sanity test"), len(tests))
	}
	out, code = run(t, command(collection.installed, env, offline(test, "units", "--python", pythonVersion(t, py), "--color", "no")...))
	if code != 0 || !regexp.MustCompile(`(?m)^=+ \d+ passed in `).MatchString(out) {
		t.Errorf("ansible-test units: exit %d", code)
	}

	// The collection's source (its role, module, galaxy.yml and meta; files as git lists them)
	// and the example playbook, with deploy/ansible/.ansible-lint.
	out, code = run(t, command(ansibleDir, env, offline(lint, "--offline", "--nocolor")...))
	if code != 0 || !strings.Contains(out, "Passed with production profile") {
		t.Errorf("ansible-lint: exit %d", code)
	}
}

// pythonVersion is MAJOR.MINOR of the interpreter py.
func pythonVersion(t *testing.T, py string) string {
	t.Helper()
	return strings.TrimSpace(mustRun(t, exec.Command(py, "-c", "import sys; print('%d.%d' % sys.version_info[:2])")))
}
