package repos

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzFileRoundTrip parses arbitrary bytes as a .repo file. Parse must not
// panic; a file it accepts serialises to exactly its input; SetEnabled on
// one of its sections (picked by pick) changes only that section's
// enabled= lines (their values, the continuation lines of those values,
// or one added enabled= line, which may give the line before it the line
// ending it lacked) and keeps every other byte; the result parses again,
// with that section set as asked and every other section as it was; and a
// second SetEnabled changes nothing. SetOption then sets value (a version
// hold, say) the same way.
//
// Seeds: every .repo file under testdata/repos, and the zfs.repo of every
// zfs-release package under testdata/upstream/openzfs/zfs-release (21
// distinct files from 57 packages, el6 to fc44), extracted once with
// `rpm2cpio PKG | <newc cpio reader>` into testdata/fuzz/FuzzFileRoundTrip
// (the payloads are gzip, xz or zstd, which the standard library cannot all
// read).
func FuzzFileRoundTrip(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join(testdata, "*", "*.repo"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no repo files under %s: %v", testdata, err)
	}
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(i), i%2 == 0, "*-2.2.8-*")
	}
	f.Fuzz(func(t *testing.T, data []byte, pick uint8, enabled bool, value string) {
		rf, err := Parse("fuzz.repo", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.repo:") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		if got := rf.Bytes(); string(got) != string(data) {
			t.Fatalf("Bytes() differs from the input:\n%s", cmp.Diff(string(data), string(got)))
		}
		before := rf.Sections()
		if _, err := rf.SetEnabled("no such section [x]", true); err == nil {
			t.Error("SetEnabled on a missing section succeeded")
		}
		if len(before) == 0 {
			return
		}
		id := before[int(pick)%len(before)].ID
		oldLines := slices.Clone(rf.lines)

		changed, err := rf.SetEnabled(id, enabled)
		if err != nil {
			t.Fatalf("SetEnabled(%q, %v): %v", id, enabled, err)
		}
		out := rf.Bytes()
		if !changed && string(out) != string(data) {
			t.Fatalf("SetEnabled reported no change but the bytes changed:\n%s", cmp.Diff(string(data), string(out)))
		}
		if err := keptOutside(oldLines, rf.lines, id); err != nil {
			t.Fatalf("SetEnabled(%q, %v): %v\nbefore:\n%q\nafter:\n%q", id, enabled, err, data, out)
		}
		again, err := Parse("fuzz.repo", out)
		if err != nil {
			t.Fatalf("the result of SetEnabled(%q, %v) does not parse: %v\n%q", id, enabled, err, out)
		}
		want := slices.Clone(before)
		for i := range want {
			if want[i].ID == id {
				want[i].Enabled = enabled
				want[i].HasEnabledLine = want[i].HasEnabledLine || changed
			}
		}
		if diff := cmp.Diff(want, again.Sections(), cmpopts.IgnoreFields(Section{}, "Line")); diff != "" {
			t.Errorf("sections after SetEnabled(%q, %v) (-want +got):\n%s", id, enabled, diff)
		}
		if changed, err := again.SetEnabled(id, enabled); err != nil || changed {
			t.Errorf("second SetEnabled(%q, %v) = %v, %v; want no change", id, enabled, changed, err)
		}

		// A version hold goes in the same way.
		_, err = again.SetOption(id, "includepkgs", value)
		if err != nil {
			if !strings.ContainsAny(value, "\r\n") {
				t.Fatalf("SetOption(%q, includepkgs, %q): %v", id, value, err)
			}
			return
		}
		held, err := Parse("fuzz.repo", again.Bytes())
		if err != nil {
			t.Fatalf("the result of SetOption(%q, includepkgs, %q) does not parse: %v\n%q", id, value, err, again.Bytes())
		}
		for _, s := range held.Sections() {
			if want := strings.Trim(value, " \t"); s.ID == id && s.Include != want {
				t.Errorf("includepkgs of [%s] = %q, want %q", id, s.Include, want)
			}
		}
	})
}

// keptOutside checks that after, compared with before, differs only in the
// enabled= lines of section id: a value changed (the key, the spacing and
// the line ending kept), or one enabled= line added, with the line before
// it given a line ending when it had none. (An enabled= line never has
// continuation lines: Parse refuses a value that is not a boolean.)
func keptOutside(before, after []line, id string) error {
	section := "" // the section of the last line of before consumed
	added := false
	i, j := 0, 0
	for i < len(before) || j < len(after) {
		var b, a *line
		if i < len(before) {
			b = &before[i]
		}
		if j < len(after) {
			a = &after[j]
		}
		inSection := section == id
		switch {
		case a != nil && b != nil && a.text == b.text && a.eol == b.eol:
			i, j = i+1, j+1
		case a != nil && b != nil && inSection && b.kind == keyLine && b.key == "enabled" &&
			a.kind == keyLine && a.key == "enabled" && a.eol == b.eol &&
			a.text[:a.valStart] == b.text[:b.valStart] && a.text[a.valEnd:] == b.text[b.valEnd:]:
			i, j = i+1, j+1 // the value of an enabled= line
		case a != nil && b != nil && b.eol == "" && a.text == b.text && a.eol != "" && j+1 < len(after) && !added:
			i, j = i+1, j+1 // the last line, given an ending before the added line
		case a != nil && inSection && a.kind == keyLine && a.key == "enabled" && !added:
			added = true
			j++
			continue
		default:
			return errors.New("a line outside the enabled= lines of [" + id + "] changed")
		}
		if b.kind == sectionLine {
			section = b.id
		}
	}
	return nil
}
