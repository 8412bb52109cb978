package spec

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The decode targets. Every attribute is a pointer (nil = not written, keep
// the default from Default) with an attr_range twin, so that Ranges and every
// diagnostic can point at the attribute rather than at its block.

// root is the top level of a spec: blocks only, each at most once. A block's
// body is decoded in a second step so errors in it can list its arguments.
type root struct {
	ZFS      *rawBlock `hcl:"zfs,block"`
	Kernel   *rawBlock `hcl:"kernel,block"`
	Module   *rawBlock `hcl:"module,block"`
	Services *rawBlock `hcl:"services,block"`
	Guard    *rawBlock `hcl:"guard,block"`
}

type rawBlock struct {
	Body hcl.Body `hcl:",remain"`
}

type zfsBlock struct {
	Version            *string   `hcl:"version,optional"`
	Packaging          *string   `hcl:"packaging,optional"`
	Repo               *string   `hcl:"repo,optional"`
	ReleaseRPM         *string   `hcl:"release_rpm,optional"`
	Mirror             *string   `hcl:"mirror,optional"`
	InsecureReleaseURL *bool     `hcl:"insecure_release_url,optional"`
	AllowDowngrade     *bool     `hcl:"allow_downgrade,optional"`
	AllowKnownBad      *[]string `hcl:"allow_known_bad,optional"`

	VersionRange            hcl.Range `hcl:"version,attr_range"`
	PackagingRange          hcl.Range `hcl:"packaging,attr_range"`
	RepoRange               hcl.Range `hcl:"repo,attr_range"`
	ReleaseRPMRange         hcl.Range `hcl:"release_rpm,attr_range"`
	MirrorRange             hcl.Range `hcl:"mirror,attr_range"`
	InsecureReleaseURLRange hcl.Range `hcl:"insecure_release_url,attr_range"`
	AllowDowngradeRange     hcl.Range `hcl:"allow_downgrade,attr_range"`
	AllowKnownBadRange      hcl.Range `hcl:"allow_known_bad,attr_range"`
}

type kernelBlock struct {
	Target *string `hcl:"target,optional"`
	Devel  *bool   `hcl:"devel,optional"`
	Hold   *bool   `hcl:"hold,optional"`

	TargetRange hcl.Range `hcl:"target,attr_range"`
	DevelRange  hcl.Range `hcl:"devel,attr_range"`
	HoldRange   hcl.Range `hcl:"hold,attr_range"`
}

type moduleBlock struct {
	Autoload *bool `hcl:"autoload,optional"`
	Load     *bool `hcl:"load,optional"`
	// Options is decoded by decodeOptions, which needs each entry's range.
	Options *hcl.Attribute `hcl:"options,optional"`

	AutoloadRange hcl.Range `hcl:"autoload,attr_range"`
	LoadRange     hcl.Range `hcl:"load,attr_range"`
	OptionsRange  hcl.Range `hcl:"options,attr_range"`
}

type servicesBlock struct {
	Import       *string `hcl:"import,optional"`
	ZED          *bool   `hcl:"zed,optional"`
	Mount        *bool   `hcl:"mount,optional"`
	Share        *bool   `hcl:"share,optional"`
	VerifyOnBoot *bool   `hcl:"verify_on_boot,optional"`

	ImportRange       hcl.Range `hcl:"import,attr_range"`
	ZEDRange          hcl.Range `hcl:"zed,attr_range"`
	MountRange        hcl.Range `hcl:"mount,attr_range"`
	ShareRange        hcl.Range `hcl:"share,attr_range"`
	VerifyOnBootRange hcl.Range `hcl:"verify_on_boot,attr_range"`
}

type guardBlock struct {
	Enabled *bool `hcl:"enabled,optional"`

	EnabledRange hcl.Range `hcl:"enabled,attr_range"`
}

// Parse decodes src (the content of filename) into a Spec with defaults
// filled in. The Spec is nil exactly when diags has errors; warnings come
// with a Spec. Diagnostics are in source order.
//
// Input beyond the limits in limits.go (MaxFileSize, MaxNesting,
// MaxOperators, MaxNumberDigits, MaxNumberExponent, MaxItems, and for
// expressions) is refused before it is parsed or evaluated, so that no
// input can overflow the parser's stack or cost more than a fraction of a
// second.
func Parse(filename string, src []byte) (*Spec, hcl.Diagnostics) {
	s, _, diags := parse(filename, src)
	return s, diags
}

// ParseFile reads and parses path. It also returns the parsed file, keyed by
// path, for WriteDiagnostics to print source snippets from.
//
// Only a regular file (or a symlink to one) of at most MaxFileSize bytes is
// read: a FIFO, a device or a directory is refused with a diagnostic, never
// waited on.
func ParseFile(path string) (*Spec, map[string]*hcl.File, hcl.Diagnostics) {
	src, d := readFile(path)
	if d != nil {
		return nil, nil, hcl.Diagnostics{d}
	}
	s, f, diags := parse(path, src)
	return s, map[string]*hcl.File{path: f}, diags
}

// maxDiagnostics is the most diagnostics Parse returns. Beyond it the file
// is not a spec with mistakes but something else, and a 256 KiB line of
// garbage has a problem at every byte, each printed with that line.
const maxDiagnostics = 50

func parse(filename string, src []byte) (*Spec, *hcl.File, hcl.Diagnostics) {
	s, f, diags := parseAll(filename, src)
	if len(diags) <= maxDiagnostics {
		return s, f, diags
	}
	more := &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  "Too many problems",
		Detail:   fmt.Sprintf("%d more problems are not shown. Fix the ones above, or check that the file is a spec.", len(diags)-maxDiagnostics),
	}
	if diags.HasErrors() {
		more.Severity = hcl.DiagError
	}
	return s, f, append(diags[:maxDiagnostics:maxDiagnostics], more)
}

func parseAll(filename string, src []byte) (*Spec, *hcl.File, hcl.Diagnostics) {
	// Refuse what would be expensive to parse before parsing it.
	if diags := checkLimits(filename, src); diags.HasErrors() {
		return nil, &hcl.File{Bytes: src}, diags
	}
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		// Decoding a body the parser gave up on only adds noise.
		return nil, f, diags
	}
	// ... and what would be expensive to evaluate before evaluating it.
	if more := checkExprs(f.Body); more.HasErrors() {
		return nil, f, append(diags, more...)
	}
	s, more := decode(f.Body)
	diags = append(diags, more...)
	sort.SliceStable(diags, func(i, j int) bool { return offset(diags[i]) < offset(diags[j]) })
	diags = onePerPosition(diags)
	if diags.HasErrors() {
		return nil, f, diags
	}
	s.Filename = filename
	s.Source = string(src)
	return s, f, diags
}

// onePerPosition drops a diagnostic that starts where the one before it
// starts: an expression that cannot be evaluated (it uses a variable, say)
// also cannot be converted, and the second error adds nothing. diags must
// be sorted by offset.
func onePerPosition(diags hcl.Diagnostics) hcl.Diagnostics {
	var kept hcl.Diagnostics
	for _, d := range diags {
		if n := len(kept); n > 0 && d.Subject != nil && offset(d) == offset(kept[n-1]) {
			continue
		}
		kept = append(kept, d)
	}
	return kept
}

func offset(d *hcl.Diagnostic) int {
	if d.Subject == nil {
		return -1
	}
	return d.Subject.Start.Byte
}

// decode turns the file body into a Spec, collecting every diagnostic it can
// rather than stopping at the first.
func decode(body hcl.Body) (*Spec, hcl.Diagnostics) {
	var r root
	diags := gohcl.DecodeBody(body, nil, &r)
	explain(diags, "at the top level of a spec", &r)

	var (
		z  zfsBlock
		k  kernelBlock
		m  moduleBlock
		sv servicesBlock
		g  guardBlock
	)
	s := Default()
	for _, b := range []struct {
		name string
		raw  *rawBlock
		into any
	}{
		{"zfs", r.ZFS, &z},
		{"kernel", r.Kernel, &k},
		{"module", r.Module, &m},
		{"services", r.Services, &sv},
		{"guard", r.Guard, &g},
	} {
		if b.raw == nil {
			continue
		}
		d := gohcl.DecodeBody(b.raw.Body, nil, b.into)
		explain(d, "in a "+b.name+" block", b.into)
		diags = append(diags, d...)
		recordRanges(s.Ranges, b.name, b.into)
	}

	set(&s.ZFS.Version, z.Version)
	if z.Packaging != nil {
		s.ZFS.Packaging = Packaging(*z.Packaging)
	}
	set(&s.ZFS.Repo, z.Repo)
	set(&s.ZFS.ReleaseRPM, z.ReleaseRPM)
	set(&s.ZFS.Mirror, z.Mirror)
	set(&s.ZFS.InsecureReleaseURL, z.InsecureReleaseURL)
	set(&s.ZFS.AllowDowngrade, z.AllowDowngrade)
	set(&s.ZFS.AllowKnownBad, z.AllowKnownBad)
	set(&s.Kernel.Target, k.Target)
	set(&s.Kernel.Devel, k.Devel)
	set(&s.Kernel.Hold, k.Hold)
	set(&s.Module.Autoload, m.Autoload)
	set(&s.Module.Load, m.Load)
	set(&s.Services.Import, sv.Import)
	set(&s.Services.ZED, sv.ZED)
	set(&s.Services.Mount, sv.Mount)
	set(&s.Services.Share, sv.Share)
	set(&s.Services.VerifyOnBoot, sv.VerifyOnBoot)
	set(&s.Guard.Enabled, g.Enabled)

	if m.Options != nil {
		diags = append(diags, decodeOptions(s, m.Options.Expr)...)
	}
	diags = append(diags, validate(s)...)
	return s, diags
}

// set overwrites a default with a value that was written.
func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// explain adds the valid names to gohcl's "Unsupported argument" and
// "Unsupported block type" diagnostics, which only say what is not valid.
func explain(diags hcl.Diagnostics, where string, target any) {
	// A spec body holds only blocks (the top level) or only arguments.
	schema, _ := gohcl.ImpliedBodySchema(target)
	kind, names := "arguments", []string{}
	for _, a := range schema.Attributes {
		names = append(names, a.Name)
	}
	for _, b := range schema.Blocks {
		kind, names = "blocks", append(names, b.Type)
	}
	for _, d := range diags {
		if d.Summary == "Unsupported argument" || d.Summary == "Unsupported block type" {
			d.Detail += fmt.Sprintf(" The valid %s %s are %s.", kind, where, quoteList(names))
		}
	}
}

// recordRanges copies the attr_range fields of a decoded block into ranges
// as "block.attribute", for the attributes that were written.
func recordRanges(ranges map[string]hcl.Range, block string, decoded any) {
	v := reflect.ValueOf(decoded).Elem()
	for i := 0; i < v.NumField(); i++ {
		name, kind, _ := strings.Cut(v.Type().Field(i).Tag.Get("hcl"), ",")
		if kind != "attr_range" {
			continue
		}
		if r := v.Field(i).Interface().(hcl.Range); r != (hcl.Range{}) {
			ranges[block+"."+name] = r
		}
	}
}

var (
	repoBranch    = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)
	kernelRelease = regexp.MustCompile(`^[0-9]+\.[0-9]+(\.[0-9]+)*-[0-9A-Za-z._+~-]+$`)
)

// validate checks the values decode could not check by type, and parses the
// version constraint. Only written attributes can be wrong (defaults are
// valid), so every diagnostic has the attribute's range from s.Ranges.
func validate(s *Spec) hcl.Diagnostics {
	var diags hcl.Diagnostics
	fail := func(key, summary, detail string) {
		diags = append(diags, errorAt(s.Ranges[key], summary, detail))
	}
	oneOf := func(key, got string, valid ...string) {
		for _, v := range valid {
			if got == v {
				return
			}
		}
		_, name, _ := strings.Cut(key, ".")
		fail(key, "Invalid "+name, fmt.Sprintf("%s must be one of %s; got %q.", name, quoteList(valid), got))
	}

	z := &s.ZFS
	if z.Version != "" {
		c, err := version.NewConstraint(z.Version)
		if err != nil {
			fail("zfs.version", "Invalid version constraint", fmt.Sprintf(
				"version must be a version constraint such as \"~> 2.2.0\", \"= 2.2.7\" or \">= 2.2.2, < 2.4\" (%s).", shorten(err.Error(), 200)))
		} else {
			diags = append(diags, checkVersion(z.Version, s.Ranges["zfs.version"])...)
		}
		z.Constraint = c
	}
	oneOf("zfs.packaging", string(z.Packaging), string(PackagingAuto), string(PackagingDKMS), string(PackagingKmod))
	if z.Repo != "default" && z.Repo != "latest" && z.Repo != "legacy" && !repoBranch.MatchString(z.Repo) {
		fail("zfs.repo", "Invalid repo", fmt.Sprintf(
			"repo must be \"default\", \"latest\", \"legacy\" or a release branch \"<major>.<minor>\" such as \"2.2\"; got %q.", z.Repo))
	}
	if z.ReleaseRPM != "" {
		u, err := url.Parse(z.ReleaseRPM)
		switch {
		case err == nil && u.Scheme == "http" && u.Host != "" && z.InsecureReleaseURL:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "release_rpm is fetched over plain http",
				Detail:   "insecure_release_url = true lets anyone on the network path replace the zfs-release package in transit. Prefer an https URL or a local copy.",
				Subject:  s.Ranges["zfs.release_rpm"].Ptr(),
			})
		case err == nil && u.Scheme == "http":
			fail("zfs.release_rpm", "Insecure release_rpm URL",
				"release_rpm is an http URL, so anyone on the network path could replace the zfs-release package. Use an https URL or a local path, or set insecure_release_url = true to accept the risk.")
		case err == nil && u.Scheme == "https" && u.Host != "":
		case strings.HasPrefix(z.ReleaseRPM, "/"):
		default:
			fail("zfs.release_rpm", "Invalid release_rpm", fmt.Sprintf(
				"release_rpm must be an https URL or an absolute local path to the zfs-release RPM, such as \"https://zfsonlinux.org/epel/zfs-release-3-0.el9.noarch.rpm\" or \"/root/zfs-release-3-0.el9.noarch.rpm\"; got %q.", z.ReleaseRPM))
		}
	}
	if z.Mirror != "" {
		u, err := url.Parse(z.Mirror)
		if err != nil || !(u.Scheme == "https" || u.Scheme == "http") || u.Host == "" && u.Scheme != "file" || strings.ContainsAny(z.Mirror, " \t\n\"'$") {
			if err != nil || u.Scheme != "file" || !strings.HasPrefix(u.Path, "/") {
				fail("zfs.mirror", "Invalid mirror", fmt.Sprintf(
					"mirror must be the URL of a mirror of download.zfsonlinux.org, such as \"https://mirror.example.com/zfsonlinux\" (http://, https:// or file:///, no spaces, quotes or $); got %q.", z.Mirror))
			}
		}
	}
	for _, id := range z.AllowKnownBad {
		if strings.TrimSpace(id) == "" {
			fail("zfs.allow_known_bad", "Empty advisory ID",
				"allow_known_bad lists the IDs of known-bad-release advisories to accept, as printed in a plan; remove the empty entry.")
			break
		}
	}

	t := s.Kernel.Target
	if t != "running" && t != "default" && t != "all" && !kernelRelease.MatchString(t) {
		fail("kernel.target", "Invalid kernel target", fmt.Sprintf(
			"target must be \"running\" (the kernel booted now), \"default\" (the next boot's kernel), \"all\" (every installed kernel) or a kernel release as printed by uname -r, such as \"5.14.0-427.13.1.el9_4.x86_64\"; got %q.", t))
	}

	oneOf("services.import", s.Services.Import, "cache", "scan", "none")
	return diags
}

func quoteList(valid []string) string {
	q := make([]string, len(valid))
	for i, v := range valid {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

func errorAt(r hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: r.Ptr()}
}

// WriteDiagnostics prints diags for people: `file:line:col: error: summary`
// (or `warning:`), the detail on one line (no wrapping: the terminal does
// it), then the source lines of the subject with the subject underlined,
// when files has the source. No colour.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) error {
	var b strings.Builder
	for _, d := range diags {
		severity := "error"
		if d.Severity == hcl.DiagWarning {
			severity = "warning"
		}
		if d.Subject != nil {
			fmt.Fprintf(&b, "%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		fmt.Fprintf(&b, "%s: %s\n", severity, d.Summary)
		if d.Detail != "" {
			b.WriteString(d.Detail + "\n")
		}
		if f := files[subjectFile(d)]; f != nil && f.Bytes != nil {
			b.WriteString("\n")
			writeSnippet(&b, f.Bytes, *d.Subject)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func subjectFile(d *hcl.Diagnostic) string {
	if d.Subject == nil {
		return ""
	}
	return d.Subject.Filename
}

// Bounds on one snippet: lines shown, and the longest line shown.
const (
	maxSnippetLines = 10
	maxSnippetLine  = 1000
)

// writeSnippet prints the lines subject covers, each followed by a line
// marking the covered part with carets: at most maxSnippetLines of them,
// and a line longer than maxSnippetLine bytes only as its length. It reads
// from the start of the subject's first line, never from the top of the
// file, so that printing one snippet per diagnostic costs the subject's
// lines only (scanning from the top made a thousand warnings on a
// thousand-line spec take seconds).
func writeSnippet(b *strings.Builder, src []byte, subject hcl.Range) {
	if subject.Empty() {
		// Mark the character after an empty range (where something is missing).
		subject.End.Byte++
		subject.End.Column++
	}
	if subject.Start.Byte < 0 || subject.Start.Byte > len(src) || subject.Start.Line < 1 {
		return
	}
	start := bytes.LastIndexByte(src[:subject.Start.Byte], '\n') + 1
	for n, shown := subject.Start.Line, 0; start < len(src); n++ {
		end, next := len(src), len(src)
		if i := bytes.IndexByte(src[start:], '\n'); i >= 0 {
			end, next = start+i, start+i+1
		}
		text := bytes.TrimSuffix(src[start:end], []byte("\r")) // as bufio.ScanLines
		// Ranges compare by byte offset only, so the line needs no columns.
		line := hcl.Range{Filename: subject.Filename, Start: hcl.Pos{Line: n, Byte: start}, End: hcl.Pos{Line: n, Byte: start + len(text)}}
		if line.Start.Byte >= subject.End.Byte && line.Start.Byte > subject.Start.Byte {
			break
		}
		start = next
		if !line.Overlaps(subject) {
			continue
		}
		if shown == maxSnippetLines {
			b.WriteString("     | ...\n")
			break
		}
		shown++
		if len(text) > maxSnippetLine {
			fmt.Fprintf(b, "%4d | (a line of %d bytes, too long to show)\n", n, len(text))
			continue
		}
		before, marked, _ := line.PartitionAround(subject)
		indent := strings.Map(func(r rune) rune {
			if r == '\t' {
				return r
			}
			return ' '
		}, string(before.SliceBytes(src)))
		carets := strings.Repeat("^", max(1, utf8.RuneCount(marked.SliceBytes(src))))
		fmt.Fprintf(b, "%4d | %s\n     | %s%s\n", n, text, indent, carets)
	}
}
