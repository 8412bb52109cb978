package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// savePlan runs plan --out on h and returns the saved file's path and
// the commands plan ran (fact gathering only: what apply PLANFILE may run
// before it refuses).
func savePlan(t *testing.T, opts []func(*env), root string, extra ...string) (string, []string, int) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "zfs.plan")
	_, _, code := runOn(t, opts, append([]string{"plan", "--root", root, "-f", "testdata/specs/good-empty.hcl", "--out", file}, extra...)...)
	return file, nil, code
}

// editPlan rewrites the saved plan at path through edit, as someone with
// an editor would.
func editPlan(t *testing.T, path string, edit func(t *testing.T, sp map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sp map[string]any
	if err := json.Unmarshal(data, &sp); err != nil {
		t.Fatal(err)
	}
	edit(t, sp)
	if data, err = json.MarshalIndent(sp, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// step finds the saved step with id.
func step(t *testing.T, sp map[string]any, id string) map[string]any {
	t.Helper()
	for _, s := range sp["plan"].(map[string]any)["steps"].([]any) {
		if st := s.(map[string]any); st["id"] == id {
			return st
		}
	}
	t.Fatalf("the saved plan has no step %s", id)
	return nil
}

const autoloadStep = "file./etc/modules-load.d/zfs.conf"

// TestSavedPlanCarriesNoAuthority: apply PLANFILE plans again and applies
// only a plan equal to the saved one, never the file's own steps. Each
// edit an attacker or a slip could make is refused, and the host is left
// exactly as it was: the same files, and no command run but the reads of
// fact gathering.
func TestSavedPlanCarriesNoAuthority(t *testing.T) {
	cases := map[string]struct {
		edit func(t *testing.T, sp map[string]any)
		want []string
	}{
		"a command step appended": {
			edit: func(t *testing.T, sp map[string]any) {
				p := sp["plan"].(map[string]any)
				p["steps"] = append(p["steps"].([]any), map[string]any{
					"id": "command.x", "action": "+", "kind": "command", "summary": "rebuild the initramfs", "reason": "looks routine",
					"command": map[string]any{"argv": []any{"/bin/sh", "-c", "echo pwned > /root/pwned"}},
				})
			},
			want: []string{"step command.x: only in the saved plan"},
		},
		"a file step's content hides a line its after does not show": {
			edit: func(t *testing.T, sp map[string]any) {
				st := step(t, sp, autoloadStep)
				st["file"].(map[string]any)["content"] = st["after"].(string) + "evil\n"
			},
			want: []string{"step " + autoloadStep + `: file.content: line 3: saved "evil", now ""`},
		},
		"a file step's path and mode changed": {
			edit: func(t *testing.T, sp map[string]any) {
				f := step(t, sp, autoloadStep)["file"].(map[string]any)
				f["path"], f["mode"], f["content"] = "/etc/sudoers.d/zz", 0o4777, "ALL ALL=(ALL) NOPASSWD: ALL\n"
			},
			want: []string{"step " + autoloadStep + ": file.path: saved \"/etc/sudoers.d/zz\", now \"/etc/modules-load.d/zfs.conf\"", "step " + autoloadStep + ": file.mode (only in the saved plan)"},
		},
		"a step removed": {
			edit: func(t *testing.T, sp map[string]any) {
				p := sp["plan"].(map[string]any)
				p["steps"] = p["steps"].([]any)[1:]
			},
			want: []string{"step repo.zfs: missing from the saved plan"},
		},
		"the recorded spec changed": {
			edit: func(t *testing.T, sp map[string]any) {
				sp["spec"] = "module {\n  autoload = false\n}\n"
			},
			want: []string{"step " + autoloadStep + ": only in the saved plan"},
		},
		"a field zfsinstall never writes": {
			edit: func(t *testing.T, sp map[string]any) {
				step(t, sp, autoloadStep)["file"].(map[string]any)["owner"] = "root"
			},
			want: []string{`unknown field "owner"`},
		},
		"the recorded gather options changed": {
			edit: func(t *testing.T, sp map[string]any) {
				sp["options"].(map[string]any)["gather"] = map[string]any{"kernel": "6.1.80-1.el9.elrepo.x86_64"}
			},
			want: []string{"its gather options do not follow from its spec and options"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := unmanagedHost(t)
			opts := []func(*env){onHost(h)}
			file, _, code := savePlan(t, opts, h.Root())
			if code != 0 {
				t.Fatalf("plan --out: exit %d", code)
			}
			gathering := h.CallKeys()
			editPlan(t, file, tc.edit)
			before := tree(t, h.Real.Dir)
			h.Calls = nil
			_, stderr, code := runOn(t, opts, "apply", file, "--root", h.Root())
			if code != 1 {
				t.Errorf("apply of an edited plan: exit %d, want 1", code)
			}
			for _, w := range append([]string{"the saved plan differs from what zfsinstall plans now: it was edited, or the host changed; run zfsinstall plan again"}, tc.want...) {
				if !strings.Contains(stderr, w) {
					t.Errorf("the refusal does not say %q:\n%s", w, stderr)
				}
			}
			if diff := cmp.Diff(before, tree(t, h.Real.Dir)); diff != "" {
				t.Errorf("the host's files changed (-before +after):\n%s", diff)
			}
			if got := h.CallKeys(); len(got) > 0 && !cmp.Equal(got, gathering) {
				t.Errorf("apply ran more than fact gathering (-gathering +apply):\n%s", cmp.Diff(gathering, got))
			}
		})
	}
}

// TestSavedPlanApplies: an untouched saved plan is planned again, found
// equal and applied; apply reads --release-key and --dnf-arg only from its
// own command line and refuses a saved plan made with other ones, or for
// another root, or by another version of the format.
func TestSavedPlanApplies(t *testing.T) {
	h := unmanagedHost(t)
	opts := []func(*env){onHost(h)}
	file, _, code := savePlan(t, opts, h.Root(), "--dnf-arg", "--setopt=timeout=5")
	if code != 0 {
		t.Fatalf("plan --out: exit %d", code)
	}
	refusals := map[string]struct {
		args []string
		edit func(t *testing.T, sp map[string]any)
		want string
	}{
		"no --dnf-arg": {want: `was planned with the dnf arguments ["--setopt=timeout=5"] and apply was given []`},
		"other --dnf-arg": {args: []string{"--dnf-arg", "--setopt=gpgcheck=0"},
			want: `pass the same --dnf-arg options (or $ZFSINSTALL_DNF_ARGS) as to plan`},
		"dnf args in the file only": {args: []string{"--dnf-arg", "--setopt=timeout=5"},
			edit: func(t *testing.T, sp map[string]any) {
				sp["options"].(map[string]any)["dnf_args"] = []any{"--setopt=timeout=5", "--nogpgcheck"}
			},
			want: "a saved plan never supplies them"},
		"a release key in the file only": {args: []string{"--dnf-arg", "--setopt=timeout=5"},
			edit: func(t *testing.T, sp map[string]any) {
				sp["options"].(map[string]any)["release_key_fingerprint"] = "862D 5CC1 337F C645 5CD6 2AB1 4DE5 F7C1 B965 B907"
			},
			want: "pass the same --release-key FILE to apply; a saved plan carries no keys"},
		"another root": {args: []string{"--dnf-arg", "--setopt=timeout=5"},
			edit: func(t *testing.T, sp map[string]any) { sp["root"] = "/mnt/sysimage" },
			want: "saved plan is for root /mnt/sysimage"},
		"an older format": {args: []string{"--dnf-arg", "--setopt=timeout=5"},
			edit: func(t *testing.T, sp map[string]any) { sp["format_version"] = "2" },
			want: "saved-plan format 2; this one reads format 3"},
	}
	for name, tc := range refusals {
		t.Run(name, func(t *testing.T) {
			f := file
			if tc.edit != nil {
				data, _ := os.ReadFile(file)
				f = filepath.Join(t.TempDir(), "edited.plan")
				os.WriteFile(f, data, 0o600)
				editPlan(t, f, tc.edit)
			}
			before := tree(t, h.Real.Dir)
			_, stderr, code := runOn(t, opts, append([]string{"apply", f, "--root", h.Root()}, tc.args...)...)
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want 1 saying %q", code, tc.want)
			}
			if diff := cmp.Diff(before, tree(t, h.Real.Dir)); diff != "" {
				t.Errorf("the host's files changed (-before +after):\n%s", diff)
			}
		})
	}

	stdout, _, code := runOn(t, opts, "apply", file, "--root", h.Root(), "--dnf-arg", "--setopt=timeout=5")
	if code != 0 {
		t.Fatalf("apply of the untouched saved plan: exit %d", code)
	}
	if !strings.Contains(stdout, "Apply complete! Steps: 13 added, 2 changed, 0 removed") {
		t.Errorf("apply did not carry out the plan's 15 steps")
	}
	if data, err := os.ReadFile(h.Path("/etc/modules-load.d/zfs.conf")); err != nil || !strings.HasSuffix(string(data), "\nzfs\n") {
		t.Errorf("/etc/modules-load.d/zfs.conf = %q, %v", data, err)
	}
	// The host changed: the same file is now stale.
	_, stderr, code := runOn(t, opts, "apply", file, "--root", h.Root(), "--dnf-arg", "--setopt=timeout=5")
	if code != 1 || !strings.Contains(stderr, "saved plan is stale") {
		t.Errorf("a second apply of the same file: exit %d, want 1 and \"saved plan is stale\"", code)
	}
}

// TestSavedPlanHint: the command plan prints to apply a saved plan names
// every option apply must be given again.
func TestSavedPlanHint(t *testing.T) {
	h := unmanagedHost(t)
	file := filepath.Join(t.TempDir(), "my plan.json")
	stdout, _, code := runOn(t, []func(*env){onHost(h)}, "plan", "--root", h.Root(), "-f", "testdata/specs/good-empty.hcl", "--out", file,
		"--dnf-arg", "--setopt=install_weak_deps=False", "--dnf-arg", "--disableplugin=local")
	if code != 0 {
		t.Fatalf("plan --out: exit %d", code)
	}
	want := "zfsinstall apply '" + file + "' --root " + h.Root() + " --dnf-arg --setopt=install_weak_deps=False --dnf-arg --disableplugin=local\n"
	if !strings.Contains(stdout, "To carry out exactly these steps, run:\n  "+want) {
		t.Errorf("the hint is not %q", want)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the saved plan's mode = %v (%v), want 0600: it holds the spec", fi.Mode(), err)
	}
	data, _ := os.ReadFile(file)
	var sp savedPlan
	if err := json.Unmarshal(data, &sp); err != nil {
		t.Fatal(err)
	}
	spec, _ := os.ReadFile("testdata/specs/good-empty.hcl")
	got := []any{sp.FormatVersion, sp.Root, sp.SpecFile, sp.Spec, sp.Options.DNFArgs, sp.Options.Gather.Stream}
	wantRec := []any{"3", h.Root(), "testdata/specs/good-empty.hcl", string(spec), []string{"--setopt=install_weak_deps=False", "--disableplugin=local"}, "default"}
	if diff := cmp.Diff(wantRec, got); diff != "" {
		t.Errorf("what the saved plan records (-want +got):\n%s", diff)
	}
}
