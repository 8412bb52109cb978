package repos

import (
	"fmt"
	"strings"
)

// File is a parsed .repo file. Until an edit, Bytes returns exactly the
// bytes it was parsed from; an edit rewrites only the lines it must, so
// comments, blank lines, spacing around "=", line endings (LF, CRLF, mixed)
// and a missing final newline all survive.
type File struct {
	name  string
	lines []line
}

// Section is one [id] section of a repo file as dnf sees it.
type Section struct {
	// ID is the name between the brackets ("zfs-kmod").
	ID string
	// Enabled is the section's enabled= value, true when the line is absent
	// (dnf's default).
	Enabled bool
	// HasEnabledLine tells an explicit enabled= from the default.
	HasEnabledLine bool
	// BaseURL, GPGKey and Exclude are the values of baseurl=, gpgkey= and
	// exclude= (or its dnf alias excludepkgs= when exclude= is absent).
	// Continuation lines are joined with "\n". When a key appears twice the
	// last one wins, as in dnf.
	BaseURL, GPGKey, Exclude string
	// Include is includepkgs=, which zfsinstall uses to hold a pinned
	// OpenZFS version ("*-2.2.7-*": only that release's packages).
	Include string
	// GPGCheck is gpgcheck= as written, "" when absent (dnf.conf's
	// default then applies).
	GPGCheck string
	// Line is the 1-based line number of the [id] header.
	Line int
}

type lineKind int

const (
	blankLine lineKind = iota
	commentLine
	sectionLine
	keyLine
	contLine // an indented line continuing the previous key's value
)

type line struct {
	text string // without its line ending
	eol  string // "\n", "\r\n", or "" for a last line without one
	kind lineKind
	id   string // sectionLine: the section id
	key  string // keyLine: the key
	// keyLine: the value is text[valStart:valEnd]; text[:valStart] is the key,
	// the "=" and the spacing around it, text[valEnd:] trailing blanks.
	valStart, valEnd int
}

// span is where a section lives in f.lines: its header and the lines up to
// the next header.
type span struct {
	id          string
	header, end int
}

// Parse reads a .repo file. name is used in error messages, which have the
// form "name:line: what is wrong". A section defined twice is an error
// naming both lines (dnf would merge or reject them), and so is an enabled=
// value that is not a boolean dnf accepts.
func Parse(name string, data []byte) (*File, error) {
	f := &File{name: name}
	for rest := string(data); rest != ""; {
		l := line{}
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			l.text, l.eol, rest = rest[:i], "\n", rest[i+1:]
			if strings.HasSuffix(l.text, "\r") {
				l.text, l.eol = l.text[:len(l.text)-1], "\r\n"
			}
		} else {
			l.text, rest = rest, ""
		}
		f.lines = append(f.lines, l)
	}
	if err := f.classify(); err != nil {
		return nil, err
	}
	if _, err := f.sections(); err != nil {
		return nil, err
	}
	return f, nil
}

// classify sets the kind of every line the way libdnf's IniParser reads them.
func (f *File) classify() error {
	seen := map[string]int{}
	inSection, afterKey := false, false
	for i := range f.lines {
		l := &f.lines[i]
		s := l.text
		if i == 0 {
			s = strings.TrimPrefix(s, "\ufeff") // dnf skips a UTF-8 byte order mark
		}
		off := len(l.text) - len(s)
		if s != "" && (s[0] == '#' || s[0] == ';') {
			l.kind = commentLine
			continue
		}
		body := strings.TrimLeft(s, " \t\r")
		if strings.TrimRight(body, " \t\r") == "" {
			l.kind = blankLine
			continue
		}
		if body[0] == '[' {
			id, err := f.header(i+1, body)
			if err != nil {
				return err
			}
			if prev, dup := seen[id]; dup {
				return f.errorf(i+1, "section [%s] is already defined at line %d (dnf would merge or reject them): remove one of the two", id, prev)
			}
			seen[id] = i + 1
			l.kind, l.id = sectionLine, id
			inSection, afterKey = true, false
			continue
		}
		switch {
		case !inSection:
			return f.errorf(i+1, "line comes before the first [section] header")
		case len(body) < len(s):
			if !afterKey {
				return f.errorf(i+1, "indented line does not continue a key=value line")
			}
			l.kind = contLine
			continue
		}
		eq := strings.IndexByte(s, '=')
		switch {
		case eq < 0:
			return f.errorf(i+1, "line is neither a [section], key=value, comment nor blank")
		case eq == 0:
			return f.errorf(i+1, "key=value line has no key")
		}
		vs := eq + 1
		for vs < len(s) && (s[vs] == ' ' || s[vs] == '\t') {
			vs++
		}
		ve := max(len(strings.TrimRight(s, " \t\r")), vs)
		l.kind, l.key = keyLine, strings.TrimRight(s[:eq], " \t")
		l.valStart, l.valEnd = vs+off, ve+off
		afterKey = true
	}
	return nil
}

// header returns the id of the section header body ("[id]" with optional
// blanks or a comment after it).
func (f *File) header(n int, body string) (string, error) {
	end := strings.IndexByte(body, ']')
	switch {
	case end < 0:
		return "", f.errorf(n, "section header has no closing ']'")
	case end == 1:
		return "", f.errorf(n, "section header [] has no name")
	}
	for _, c := range body[end+1:] {
		if c == '#' || c == ';' {
			break
		}
		if c != ' ' && c != '\t' && c != '\r' {
			return "", f.errorf(n, "text after the section header [%s]", body[1:end])
		}
	}
	return body[1:end], nil
}

func (f *File) errorf(n int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", f.name, n, fmt.Sprintf(format, args...))
}

// spans lists the sections in file order.
func (f *File) spans() []span {
	var out []span
	for i, l := range f.lines {
		if l.kind != sectionLine {
			continue
		}
		if len(out) > 0 {
			out[len(out)-1].end = i
		}
		out = append(out, span{id: l.id, header: i, end: len(f.lines)})
	}
	return out
}

func (f *File) find(id string) (span, error) {
	for _, sp := range f.spans() {
		if sp.id == id {
			return sp, nil
		}
	}
	return span{}, fmt.Errorf("%s has no [%s] section", f.name, id)
}

// keyLines returns the indexes of the lines of sp setting key, in order.
func (f *File) keyLines(sp span, key string) []int {
	var out []int
	for i := sp.header + 1; i < sp.end; i++ {
		if f.lines[i].kind == keyLine && f.lines[i].key == key {
			out = append(out, i)
		}
	}
	return out
}

// value returns the value set by key line i, continuation lines included.
func (f *File) value(i int) string {
	l := f.lines[i]
	v := l.text[l.valStart:l.valEnd]
	for _, c := range f.lines[i+1:] {
		if c.kind == keyLine || c.kind == sectionLine {
			break
		}
		if c.kind == contLine {
			v += "\n" + strings.Trim(c.text, " \t\r")
		}
	}
	return v
}

// lookup returns the value of the last key line for key in sp.
func (f *File) lookup(sp span, key string) (string, bool) {
	idx := f.keyLines(sp, key)
	if len(idx) == 0 {
		return "", false
	}
	return f.value(idx[len(idx)-1]), true
}

// Option returns the value of key in section id (the last line wins, as in
// dnf) and whether the section has the key.
func (f *File) Option(id, key string) (string, bool, error) {
	sp, err := f.find(id)
	if err != nil {
		return "", false, err
	}
	v, ok := f.lookup(sp, key)
	return v, ok, nil
}

// Sections returns the sections in file order.
func (f *File) Sections() []Section {
	out, _ := f.sections() // Parse and the setters keep every enabled= valid
	return out
}

func (f *File) sections() ([]Section, error) {
	var out []Section
	for _, sp := range f.spans() {
		s := Section{ID: sp.id, Enabled: true, Line: sp.header + 1}
		for _, i := range f.keyLines(sp, "enabled") {
			b, ok := parseBool(f.value(i))
			if !ok {
				return nil, f.errorf(i+1, "enabled=%s is not a boolean dnf accepts (1/0, yes/no, true/false, on/off)", f.value(i))
			}
			s.Enabled, s.HasEnabledLine = b, true
		}
		s.BaseURL, _ = f.lookup(sp, "baseurl")
		s.GPGKey, _ = f.lookup(sp, "gpgkey")
		var ok bool
		if s.Exclude, ok = f.lookup(sp, "exclude"); !ok {
			s.Exclude, _ = f.lookup(sp, "excludepkgs")
		}
		s.Include, _ = f.lookup(sp, "includepkgs")
		s.GPGCheck, _ = f.lookup(sp, "gpgcheck")
		out = append(out, s)
	}
	return out, nil
}

// parseBool reads a boolean the way libdnf's OptionBool does.
func parseBool(v string) (value, ok bool) {
	switch strings.ToLower(v) {
	case "1", "yes", "true", "on":
		return true, true
	case "0", "no", "false", "off":
		return false, true
	}
	return false, false
}

// SetEnabled makes section id enabled or disabled. It changes only the value
// of the enabled= line, keeping the line's spacing ("enabled = 1" becomes
// "enabled = 0"). A section without an enabled= line is already enabled (dnf's
// default), so enabling it changes nothing; disabling it adds "enabled=0"
// after the section's last key=value line, where `dnf config-manager` would
// add it, so blank lines and comments that introduce the next section stay
// with that section. It is an error if the file has no section id.
func (f *File) SetEnabled(id string, enabled bool) (changed bool, err error) {
	sp, err := f.find(id)
	if err != nil {
		return false, err
	}
	idx := f.keyLines(sp, "enabled")
	if len(idx) == 0 {
		if enabled {
			return false, nil
		}
		f.insert(sp, "enabled", "0")
		return true, nil
	}
	want := "0"
	if enabled {
		want = "1"
	}
	for k := len(idx) - 1; k >= 0; k-- { // backwards: setValue may delete lines after idx[k]
		if b, _ := parseBool(f.value(idx[k])); b != enabled {
			f.setValue(idx[k], want)
			changed = true
		}
	}
	return changed, nil
}

// SetOption sets key=value in section id (used for exclude= version holds).
// Existing key lines keep their spacing and get the new value; a missing key
// is added where SetEnabled adds enabled=0. An empty value removes every
// key= line of the section, with its continuation lines.
func (f *File) SetOption(id, key, value string) (changed bool, err error) {
	if key == "" || strings.ContainsAny(key, "=[#;\r\n") || strings.TrimSpace(key) != key {
		return false, fmt.Errorf("%s: %q is not a repo option name", f.name, key)
	}
	if strings.ContainsAny(value, "\r\n") {
		return false, fmt.Errorf("%s: the value of %s= must be one line", f.name, key)
	}
	if _, ok := parseBool(value); key == "enabled" && value != "" && !ok {
		return false, fmt.Errorf("%s: enabled=%s is not a boolean: use SetEnabled", f.name, value)
	}
	sp, err := f.find(id)
	if err != nil {
		return false, err
	}
	idx := f.keyLines(sp, key)
	if len(idx) == 0 {
		if value == "" {
			return false, nil
		}
		f.insert(sp, key, value)
		return true, nil
	}
	for k := len(idx) - 1; k >= 0; k-- {
		switch {
		case value == "":
			f.dropConts(idx[k])
			f.lines = append(f.lines[:idx[k]], f.lines[idx[k]+1:]...)
			changed = true
		case f.value(idx[k]) != value:
			f.setValue(idx[k], value)
			changed = true
		}
	}
	return changed, nil
}

// setValue replaces the value of key line i, dropping its continuation lines.
func (f *File) setValue(i int, value string) {
	l := &f.lines[i]
	l.text = l.text[:l.valStart] + value + l.text[l.valEnd:]
	l.valEnd = l.valStart + len(value)
	f.dropConts(i)
}

// dropConts removes the continuation lines of key line i. Continuations
// after blank or comment lines also belong to the value (libdnf), so every
// one up to the next key or section goes; the blank and comment lines stay.
func (f *File) dropConts(i int) {
	for j := i + 1; j < len(f.lines) && f.lines[j].kind != keyLine && f.lines[j].kind != sectionLine; {
		if f.lines[j].kind == contLine {
			f.lines = append(f.lines[:j], f.lines[j+1:]...)
			continue
		}
		j++
	}
}

// insert adds key=value to sp after its last key=value line (or after the
// header of an empty section), spelling the separator like the section's
// first key line does ("=" or " = ") and ending the line like its neighbour.
func (f *File) insert(sp span, key, value string) {
	pos, sep := sp.header+1, "="
	for i := sp.header + 1; i < sp.end; i++ {
		switch l := f.lines[i]; l.kind {
		case keyLine:
			if pos == sp.header+1 && l.valEnd > l.valStart {
				sep = l.text[len(l.key):l.valStart]
			}
			pos = i + 1
		case contLine:
			pos = i + 1
		}
	}
	prev := &f.lines[pos-1]
	eol := prev.eol
	if eol == "" { // inserting after a last line that has no newline: keep the file that way
		prev.eol, eol = f.eol(), ""
	}
	text := key + sep + value
	nl := line{text: text, eol: eol, kind: keyLine, key: key, valStart: len(key) + len(sep), valEnd: len(text)}
	f.lines = append(f.lines[:pos], append([]line{nl}, f.lines[pos:]...)...)
}

// eol is the file's line ending: that of its first terminated line, or "\n".
func (f *File) eol() string {
	for _, l := range f.lines {
		if l.eol != "" {
			return l.eol
		}
	}
	return "\n"
}

// Bytes serialises the file.
func (f *File) Bytes() []byte {
	var b strings.Builder
	for _, l := range f.lines {
		b.WriteString(l.text)
		b.WriteString(l.eol)
	}
	return []byte(b.String())
}
