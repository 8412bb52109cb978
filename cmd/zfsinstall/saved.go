package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/zfsinstall/zfsinstall/facts"
	"github.com/zfsinstall/zfsinstall/gather"
	"github.com/zfsinstall/zfsinstall/host"
	"github.com/zfsinstall/zfsinstall/planner"
	"github.com/zfsinstall/zfsinstall/spec"
)

// savedPlanFormat is the layout of a file plan --out writes. 3: the spec
// text and the options that shaped the plan are recorded, and apply plans
// again from them; formats 1 and 2 carried steps that apply trusted, and
// are refused.
const savedPlanFormat = "3"

// savedPlan is what plan --out writes. It carries no authority: apply
// PLANFILE re-parses Spec, gathers the host's facts with the recorded
// options, verifies zfs-release and plans again, and applies the plan it
// made itself, and only when that equals Plan exactly. Plan is there to be
// compared with, and for people and programs to read.
type savedPlan struct {
	FormatVersion string `json:"format_version"`
	// Root is the managed root the plan is for.
	Root string `json:"root"`
	// SpecFile is the path the spec was read from (diagnostics name it);
	// Spec is its text.
	SpecFile string        `json:"spec_file"`
	Spec     string        `json:"spec"`
	Options  savedOptions  `json:"options"`
	Plan     *planner.Plan `json:"plan"`
}

// savedOptions are the command-line options that shaped a saved plan.
type savedOptions struct {
	// Kernel is --kernel ("" = the spec's kernel.target).
	Kernel string `json:"kernel,omitempty"`
	// Refresh is --refresh: the repositories were asked.
	Refresh bool `json:"refresh,omitempty"`
	// Gather are the fact-gathering options the spec and the options above
	// lead to (recorded for readers; apply derives them again and refuses
	// a file where they differ).
	Gather gather.Options `json:"gather"`
	// ReleaseKeyFingerprint is the fingerprint of --release-key ("" = the
	// pinned OpenZFS keys). The key itself is not recorded: apply must be
	// given the same key again.
	ReleaseKeyFingerprint string `json:"release_key_fingerprint,omitempty"`
	// DNFArgs are the extra dnf arguments (--dnf-arg or
	// $ZFSINSTALL_DNF_ARGS); apply must be given the same ones, never
	// taking them from the file.
	DNFArgs []string `json:"dnf_args,omitempty"`
}

// newSavedPlan records p, made from s with req, for the host f describes.
func newSavedPlan(s *spec.Spec, req planRequest, f *facts.Facts, p *planner.Plan) savedPlan {
	sp := savedPlan{FormatVersion: savedPlanFormat, Root: f.Root, SpecFile: s.Filename, Spec: s.Source, Plan: p,
		Options: savedOptions{Kernel: req.kernel, Refresh: req.refresh, Gather: gatherOptions(s, req.kernel, req.refresh, nil), DNFArgs: req.dnfArgs}}
	if req.key != nil {
		sp.Options.ReleaseKeyFingerprint = req.key.Fingerprint
	}
	return sp
}

// write saves sp to path, readable by root only (it holds the spec).
func (sp savedPlan) write(path string) error {
	data, err := json.MarshalIndent(sp, "", "  ")
	if err != nil {
		return err
	}
	return host.WriteAtomic(path, append(data, '\n'), 0o600)
}

// maxSavedPlanSize bounds a saved plan: the spec (at most
// spec.MaxFileSize) and the plan, whose largest parts are the files it
// writes, tens of KiB.
const maxSavedPlanSize = 16 << 20

// readSavedPlan reads a plan saved by plan --out: a regular file of at most
// maxSavedPlanSize bytes (host.ReadRegular). Any field zfsinstall does not
// write makes it a file someone edited, and it is refused.
func readSavedPlan(path string) (*savedPlan, error) {
	data, err := host.ReadRegular(path, maxSavedPlanSize)
	if err != nil {
		return nil, fmt.Errorf("reading saved plan: %w", err)
	}
	var head struct {
		FormatVersion string `json:"format_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil || head.FormatVersion == "" {
		return nil, fmt.Errorf("%s is not a plan saved by zfsinstall plan --out", path)
	}
	if head.FormatVersion != savedPlanFormat {
		return nil, fmt.Errorf("%s was saved by another version of zfsinstall (saved-plan format %s; this one reads format %s): run zfsinstall plan --out again", path, head.FormatVersion, savedPlanFormat)
	}
	var sp savedPlan
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sp); err != nil || sp.Plan == nil {
		if err == nil {
			err = errors.New("it has no plan")
		}
		return nil, fmt.Errorf("%s: %s (%v)", path, planEdited, err)
	}
	return &sp, nil
}

// planEdited is the refusal of a saved plan that is not what zfsinstall
// plans now.
const planEdited = "the saved plan differs from what zfsinstall plans now: it was edited, or the host changed; run zfsinstall plan again"

// checkOptions refuses apply options that differ from those the plan was
// saved with: a saved plan carries no keys and no dnf arguments, and apply
// takes them only from its own command line.
func (sp *savedPlan) checkOptions(path, root string, req planRequest) error {
	if sp.Root != root {
		return fmt.Errorf("saved plan is for root %s, not %s: pass --root %s", sp.Root, root, sp.Root)
	}
	fp := sp.Options.ReleaseKeyFingerprint
	switch {
	case fp != "" && req.key == nil:
		return fmt.Errorf("%s was planned with --release-key (fingerprint %s): pass the same --release-key FILE to apply; a saved plan carries no keys", path, fp)
	case fp == "" && req.key != nil:
		return fmt.Errorf("%s was planned with the pinned OpenZFS keys, not --release-key: apply it without --release-key, or plan again with it", path)
	case req.key != nil && req.key.Fingerprint != fp:
		return fmt.Errorf("--release-key %s has the fingerprint %s, but %s was planned with the key %s: pass that key, or plan again", req.key.Name, req.key.Fingerprint, path, fp)
	}
	if !slices.Equal(sp.Options.DNFArgs, req.dnfArgs) {
		return fmt.Errorf("%s was planned with the dnf arguments %q and apply was given %q: pass the same --dnf-arg options (or $ZFSINSTALL_DNF_ARGS) as to plan; a saved plan never supplies them", path, sp.Options.DNFArgs, req.dnfArgs)
	}
	return nil
}

// checkGather refuses a file whose recorded gather options are not what
// its spec and options lead to.
func (sp *savedPlan) checkGather(path string, s *spec.Spec) error {
	want := gatherOptions(s, sp.Options.Kernel, sp.Options.Refresh, nil)
	if !reflect.DeepEqual(want, sp.Options.Gather) {
		return fmt.Errorf("%s: %s (its gather options do not follow from its spec and options)", path, planEdited)
	}
	return nil
}

// planDiff lists where two plans differ, at most limit entries; nil when
// they are equal. Plans are compared in their JSON encoding (which is what
// a saved plan is), steps by ID: "step command.x: only in the saved plan",
// "step file./etc/modules-load.d/zfs.conf: file.content: saved ..., now
// ...", "steps: in another order", other fields by JSON path.
func planDiff(saved, now *planner.Plan, limit int) []string {
	a, errA := canonical(saved)
	b, errB := canonical(now)
	if errA != nil || errB != nil {
		return []string{fmt.Sprintf("cannot compare: %v %v", errA, errB)}
	}
	var out []string
	as, _ := a["steps"].([]any)
	bs, _ := b["steps"].([]any)
	delete(a, "steps")
	delete(b, "steps")
	jsonDiff("", a, b, &out)
	byID := func(steps []any) (map[string]any, []string) {
		m := map[string]any{}
		var ids []string
		for i, st := range steps {
			id, _ := st.(map[string]any)["id"].(string)
			if id == "" || m[id] != nil {
				id = fmt.Sprintf("#%d", i) // no ID, or a second step with it
			}
			m[id] = st
			ids = append(ids, id)
		}
		return m, ids
	}
	am, aIDs := byID(as)
	bm, bIDs := byID(bs)
	for _, id := range aIDs {
		if _, ok := bm[id]; !ok {
			out = append(out, "step "+id+": only in the saved plan")
		}
	}
	for _, id := range bIDs {
		if _, ok := am[id]; !ok {
			out = append(out, "step "+id+": missing from the saved plan")
		}
	}
	var common []string
	for _, id := range aIDs {
		if _, ok := bm[id]; ok {
			common = append(common, id)
			var d []string
			jsonDiff("", am[id], bm[id], &d)
			for _, x := range d {
				out = append(out, "step "+id+": "+x)
			}
		}
	}
	var commonNow []string
	for _, id := range bIDs {
		if _, ok := am[id]; ok {
			commonNow = append(commonNow, id)
		}
	}
	if !slices.Equal(common, commonNow) {
		out = append(out, "steps: in another order")
	}
	if len(out) > limit {
		out = append(out[:limit], fmt.Sprintf("and %d more", len(out)-limit))
	}
	return out
}

func canonical(p *planner.Plan) (map[string]any, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	var v map[string]any
	return v, json.Unmarshal(data, &v)
}

// jsonDiff appends the paths at which decoded JSON values a (saved) and b
// (now) differ.
func jsonDiff(path string, a, b any, out *[]string) {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range av {
			keys[k] = true
		}
		for k := range bv {
			keys[k] = true
		}
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			p := join(path, k)
			x, inA := av[k]
			y, inB := bv[k]
			switch {
			case !inB:
				*out = append(*out, p+" (only in the saved plan)")
			case !inA:
				*out = append(*out, p+" (missing from the saved plan)")
			default:
				jsonDiff(p, x, y, out)
			}
		}
		return
	case []any:
		bv, ok := b.([]any)
		if !ok {
			break
		}
		for i := 0; i < max(len(av), len(bv)); i++ {
			p := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case i >= len(bv):
				*out = append(*out, p+" (only in the saved plan)")
			case i >= len(av):
				*out = append(*out, p+" (missing from the saved plan)")
			default:
				jsonDiff(p, av[i], bv[i], out)
			}
		}
		return
	}
	if reflect.DeepEqual(a, b) {
		return
	}
	as, aStr := a.(string)
	bs, bStr := b.(string)
	if aStr && bStr && (strings.Contains(as, "\n") || strings.Contains(bs, "\n")) {
		al, bl := strings.Split(as, "\n"), strings.Split(bs, "\n")
		i := 0
		for i < len(al) && i < len(bl) && al[i] == bl[i] {
			i++
		}
		line := func(l []string) string {
			if i < len(l) {
				return short(l[i])
			}
			return "(end)"
		}
		*out = append(*out, fmt.Sprintf("%s: line %d: saved %s, now %s", orTop(path), i+1, line(al), line(bl)))
		return
	}
	*out = append(*out, fmt.Sprintf("%s: saved %s, now %s", orTop(path), short(a), short(b)))
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orTop(path string) string {
	if path == "" {
		return "(the plan)"
	}
	return path
}

// short renders a JSON value in at most 60 characters.
func short(v any) string {
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// applyCommand is the command that applies a plan saved to path with the
// options given to plan: --root, --release-key and --dnf-arg must be
// passed again.
func applyCommand(path, root, releaseKey string, dnfArgs []string) string {
	argv := []string{"zfsinstall", "apply", path}
	if root != "/" {
		argv = append(argv, "--root", root)
	}
	if releaseKey != "" {
		argv = append(argv, "--release-key", releaseKey)
	}
	for _, a := range dnfArgs {
		argv = append(argv, "--dnf-arg", a)
	}
	for i, a := range argv {
		argv[i] = shellQuote(a)
	}
	return strings.Join(argv, " ")
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
