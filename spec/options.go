package spec

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zfsinstall/zfsinstall/catalog"
)

// maxOptionValue is the longest value written: the kernel refuses a string
// parameter longer than 1024 bytes (param_set_charp, kernel/params.c), and
// no number needs more.
const maxOptionValue = 1024

var optionName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// decodeOptions fills s.Module.Options from the `options` map, accepting
// strings and whole numbers, and records each entry's range as
// "module.options.<name>". Every value is checked with checkOptionValue;
// checkExprs has already bounded the map to MaxItems entries.
func decodeOptions(s *Spec, expr hcl.Expression) hcl.Diagnostics {
	pairs, diags := hcl.ExprMap(expr)
	for _, d := range diags {
		d.Detail = `options must be a map of zfs module parameters, such as { zfs_arc_max = "8589934592" }.`
	}
	for _, p := range pairs {
		k, d := p.Key.Value(nil)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		k, err := convert.Convert(k, cty.String)
		if err != nil || k.IsNull() || !k.IsKnown() {
			diags = append(diags, errorAt(p.Key.Range(), "Invalid module option name",
				"Module option names must be strings, such as zfs_arc_max."))
			continue
		}
		name := k.AsString()
		if !optionName.MatchString(name) {
			diags = append(diags, errorAt(p.Key.Range(), "Invalid module option name", fmt.Sprintf(
				"Module option names are zfs module parameters such as zfs_arc_max: a lowercase letter, then lowercase letters, digits and \"_\"; got %q.", shorten(name, 80))))
			continue
		}
		if _, documented := catalog.LookupDocumentedParam(name); !documented {
			hint := ""
			if sug := catalog.SuggestModuleParam(name); len(sug) > 0 {
				hint = " Did you mean " + strings.Join(sug, " or ") + "?"
			}
			diags = append(diags, errorAt(p.Key.Range(), "Unknown module option", fmt.Sprintf(
				"%s is not a parameter of the zfs or spl module that any OpenZFS release from 0.8.0 to 2.4.4 documents in zfs(4) or spl(4): the module ignores an unknown parameter with only a line in the kernel log, so it would silently do nothing.%s "+
					"If it is a real parameter of your release that those pages do not list, set it in a modprobe.d file of your own (zfsinstall manages only /etc/modprobe.d/zfs.conf).", shorten(name, 80), hint)))
			continue
		}
		key := "module.options." + name
		if prev, dup := s.Ranges[key]; dup {
			diags = append(diags, errorAt(p.Key.Range(), "Duplicate module option", fmt.Sprintf(
				"%s is already set at %s; set each option once.", name, prev)))
			continue
		}
		s.Ranges[key] = hcl.RangeBetween(p.Key.Range(), p.Value.Range())

		v, d := p.Value.Value(nil)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		var val string
		switch {
		case v.IsNull() || !v.IsKnown():
		case v.Type() == cty.String:
			val = v.AsString()
		case v.Type() == cty.Number && v.AsBigFloat().IsInt():
			f := v.AsBigFloat()
			if f.IsInf() || f.MantExp(nil) > 4*maxOptionValue {
				// Arithmetic can make numbers no literal may spell
				// (1e40 * 1e40 * ...); do not spell them out.
				diags = append(diags, errorAt(p.Value.Range(), "Invalid module option value", fmt.Sprintf(
					"The value of %s has more than %d digits; no module parameter takes that.", name, maxOptionValue)))
				continue
			}
			val = f.Text('f', 0)
		}
		if val == "" {
			hint := ""
			if v.Type() == cty.Bool {
				hint = " For a 0|1 switch write 1 or 0."
			}
			diags = append(diags, errorAt(p.Value.Range(), "Invalid module option value", fmt.Sprintf(
				"The value of %s must be a string or a whole number, not empty: it is written to /etc/modprobe.d/zfs.conf as \"options zfs %s=<value>\".%s", name, name, hint)))
			continue
		}
		if msg := checkOptionValue(name, val); msg != "" {
			diags = append(diags, errorAt(p.Value.Range(), "Invalid module option value", msg))
			continue
		}
		s.Module.Options[name] = val
	}
	return diags
}

// checkOptionValue returns why val cannot be written as the value of
// module parameter name, or "" when it can.
//
// Every value must stay one word of the modprobe.d line. kmod takes the
// rest of an "options" line as the options (kmod_config_parse,
// libkmod/libkmod-config.c), but first joins a line ending in "\" with the
// next and drops a "\" before any other character (freadline_wrapped, kmod
// shared/util.c); the kernel then splits the options at whitespace and
// strips double quotes (next_arg, lib/cmdline.c in the Linux and EL kernel
// trees). So values are printable ASCII without whitespace, quotes or
// backslashes; "#" is refused as well, since to people (and kmod, at the
// start of a line) it starts a comment.
//
// A parameter zfs(4) or spl(4) documents must also suit its type. The
// kernel parses integer parameters with base 0 (STANDARD_PARAM_DEF in
// kernel/params.c calls kstrtoint and friends, lib/kstrtox.c), which reads
// "0x10" as hex and "010" as octal 8; zfsinstall accepts plain decimal only
// (an optional "-", no leading zeros), so what is written is what is meant,
// within catalog's ModuleParam.IntRange. Switches take 0 or 1.
// decodeOptions has refused names neither page documents.
func checkOptionValue(name, val string) string {
	p, page, known := lookupParam(name)
	msg := checkOptionText(name, val)
	if msg == "" && known {
		msg = checkOptionType(name, val, p, page)
	}
	if _, _, isInt := p.IntRange(); msg != "" && isInt {
		if n, ok := sizeInBytes(val); ok {
			msg += fmt.Sprintf(" Write sizes in bytes as an integer: %s is %d.", val, n)
		}
	}
	return msg
}

// lookupParam finds name in zfs(4), then in spl(4).
func lookupParam(name string) (p catalog.ModuleParam, page string, ok bool) {
	if p, ok := catalog.LookupModuleParam(name); ok {
		return p, "zfs(4)", true
	}
	if p, ok := catalog.LookupSPLParam(name); ok {
		return p, "spl(4)", true
	}
	return catalog.ModuleParam{}, "", false
}

// checkOptionText checks that val stays one word of the modprobe.d line.
func checkOptionText(name, val string) string {
	if len(val) > maxOptionValue {
		return fmt.Sprintf("The value of %s is %d bytes long; the kernel takes at most %d.", name, len(val), maxOptionValue)
	}
	for i := 0; i < len(val); i++ {
		if c := val[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\'' || c == '\\' || c == '#' {
			return fmt.Sprintf("The value of %s must be one word of printable ASCII, without whitespace, quotes, backslashes or \"#\": it is written to /etc/modprobe.d/zfs.conf as \"options zfs %s=<value>\", where modprobe would join or split the line and the kernel would strip quotes or split the value; got %s.",
				name, name, strconv.QuoteToASCII(shorten(val, 80)))
		}
	}
	return ""
}

// checkOptionType checks val against the documented parameter p.
func checkOptionType(name, val string, p catalog.ModuleParam, page string) string {
	if p.IsSwitch() {
		if val != "0" && val != "1" {
			return fmt.Sprintf("%s is a switch (%s documents it as 0|1): write 1 to turn it on or 0 to turn it off; got %q.", name, page, val)
		}
		return ""
	}
	lo, hi, isInt := p.IntRange()
	if !isInt {
		return ""
	}
	if n, ok := new(big.Int).SetString(val, 10); !ok || !plainDecimal(val) || n.Cmp(lo) < 0 || n.Cmp(hi) > 0 {
		return fmt.Sprintf("%s is an integer parameter (%s: %s): its value must be a whole number in plain decimal from %s to %s; got %q.",
			name, page, p.Type, lo, hi, val)
	}
	return ""
}

// plainDecimal reports whether s is an integer in decimal as the kernel
// reads it with base 0: an optional "-", then "0" or digits without a
// leading zero (a leading zero would make it octal, "0x" hex).
func plainDecimal(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

var sizeRE = regexp.MustCompile(`^([0-9]{1,12}) ?([KkMmGgTt])(?:i?[Bb])?$`)

// sizeInBytes reads a size such as "8G", "512M" or "4GiB" as bytes (powers
// of 1024), for the hint that tells how to write it.
func sizeInBytes(s string) (int64, bool) {
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, false
	}
	shift := map[byte]uint{'k': 10, 'm': 20, 'g': 30, 't': 40}[strings.ToLower(m[2])[0]]
	if n > math.MaxInt64>>shift {
		return 0, false
	}
	return n << shift, true
}
