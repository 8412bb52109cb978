package repos

import (
	"slices"
	"strings"
)

// How libdnf reads exclusions in [main] (libdnf/conf/ConfigMain.cpp and
// Config-private.hpp optionTListAppend, from 0.63.0, EL8's, to today):
// excludepkgs= and its yum alias exclude= append their items to one list,
// items separated by commas or blanks, and an empty value clears the list.
// Two lines with the same key in one section are merged by the ini parser
// before that (the last one wins): a second excludepkgs= line would throw
// the first away, so zfsinstall never adds one next to an existing line.
// Debian 12's dnf 4.14 (libdnf 0.69) shows both behaviours.
var excludeKeys = []string{"excludepkgs", "exclude"}

// MainExcludes returns the items of [main]'s exclusion lines (the last
// line of each key, as dnf reads them).
func (f *File) MainExcludes() []string {
	sp, err := f.find("main")
	if err != nil {
		return nil
	}
	var out []string
	for _, key := range excludeKeys {
		if idx := f.keyLines(sp, key); len(idx) > 0 {
			out = append(out, listItems(f.value(idx[len(idx)-1]))...)
		}
	}
	return out
}

// EditMainExcludes takes the items in drop out of [main]'s exclusion lines
// and appends the items in add to the line dnf reads last, changing only
// those lines. With no exclusion line, it adds "excludepkgs=ITEMS" after
// [main]'s last key line and reports added. A line left with no item is
// removed when dropEmpty says zfsinstall added it (an admin's own empty
// line, which clears the list, is kept). The file must have a [main]
// section.
func (f *File) EditMainExcludes(drop, add []string, dropEmpty bool) (changed, added bool, err error) {
	sp, err := f.find("main")
	if err != nil {
		return false, false, err
	}
	var lines []int // the effective exclusion lines, in file order
	for i := sp.header + 1; i < sp.end; i++ {
		l := f.lines[i]
		if l.kind == keyLine && slices.Contains(excludeKeys, l.key) {
			if idx := f.keyLines(sp, l.key); idx[len(idx)-1] == i {
				lines = append(lines, i)
			}
		}
	}
	var missing []string
	have := map[string]bool{}
	for _, i := range lines {
		for _, it := range listItems(f.value(i)) {
			have[it] = true
		}
	}
	for _, it := range add {
		if !have[it] && !slices.Contains(missing, it) {
			missing = append(missing, it)
		}
	}
	if len(lines) == 0 {
		if len(missing) == 0 {
			return false, false, nil
		}
		f.insert(sp, "excludepkgs", strings.Join(missing, ","))
		return true, true, nil
	}
	last := lines[len(lines)-1]
	var empty []int
	for _, i := range lines {
		items := listItems(f.value(i))
		kept := slices.DeleteFunc(slices.Clone(items), func(it string) bool { return slices.Contains(drop, it) && !slices.Contains(add, it) })
		if i == last {
			kept = append(kept, missing...)
		}
		if slices.Equal(kept, items) {
			continue
		}
		changed = true
		if len(kept) == 0 && len(items) > 0 {
			empty = append(empty, i)
			continue
		}
		f.setValue(i, joinItems(f.value(i), kept))
	}
	if dropEmpty {
		for k := len(empty) - 1; k >= 0; k-- {
			f.dropConts(empty[k])
			f.lines = append(f.lines[:empty[k]], f.lines[empty[k]+1:]...)
		}
	} else {
		for _, i := range empty {
			f.setValue(i, "")
		}
	}
	return changed, false, nil
}

// listItems splits a libdnf list value: items separated by commas or
// blanks (continuation lines included).
func listItems(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// joinItems writes items back in the style of the old value: ", " when it
// used commas followed by a blank, "," when commas alone, else blanks.
func joinItems(old string, items []string) string {
	sep := " "
	switch {
	case strings.Contains(old, ", "):
		sep = ", "
	case strings.Contains(old, ","):
		sep = ","
	}
	return strings.Join(items, sep)
}
