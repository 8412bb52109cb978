package spec

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Bounds on what a spec may hold, besides MaxFileSize. A host spec is a few
// kilobytes of literal values; these limits keep a hostile or broken file
// from costing more than a fraction of a second to reject. Each was
// measured against hashicorp/hcl v2.25.0 and go-cty v1.19.0: without them,
// 100,000 "[" overflow the parser's stack (a fatal error, not a panic), a
// chain of 100,000 "!" grows it to half a gigabyte, and the literal
// 1e10000000 takes 13 s to convert on the 2-core CI machine.
const (
	// MaxNesting is how deep brackets, braces, parentheses and template
	// interpolations ("${", "%{") may nest. A spec needs three or four.
	MaxNesting = 64
	// MaxOperators bounds the operators (arithmetic, comparison, logic,
	// "? :"), attribute accesses, index steps, template interpolations and
	// directives in a whole file. The parser and the evaluator recurse once
	// for each in a chain, so this bounds their depth where MaxNesting
	// cannot, and it bounds the number-to-string conversions a template
	// makes (each costs HCL's 512-bit arithmetic).
	MaxOperators = 1000
	// MaxItems is the most items a list or map may hold, module.options
	// included: more than the zfs and spl modules have parameters (390
	// ZFS_MODULE_PARAM/module_param declarations under module/ and include/
	// at openzfs/zfs tag zfs-2.4.4), so a spec that sets every parameter once
	// fits. Converting a list costs time quadratic in its length
	// (go-cty's type unification sorts the element types): 8,000 strings
	// took 1.5 s, the 65,000 that fit in MaxFileSize 38 s.
	MaxItems = 512
	// MaxNumberDigits and MaxNumberExponent bound a number literal: at most
	// 40 digits, and an exponent from -40 to 40. Module parameters are at
	// most 64 bits (18446744073709551615 has 20 digits), and HCL converts
	// every literal to an arbitrary-precision number, which for 1e10000000
	// takes seconds.
	MaxNumberDigits   = 40
	MaxNumberExponent = 40
)

// checkLimits refuses, before anything parses src, what would make the HCL
// parser or evaluator too expensive: a file above MaxFileSize, nesting
// deeper than MaxNesting, more than MaxOperators operators, and number
// literals beyond MaxNumberDigits or MaxNumberExponent. It reads the tokens
// of HCL's own scanner, which is not recursive and costs time and memory
// linear in the file, so strings, comments, heredocs and templates are told
// apart exactly as the parser will.
func checkLimits(filename string, src []byte) hcl.Diagnostics {
	if len(src) > MaxFileSize {
		return hcl.Diagnostics{tooLarge(filename, int64(len(src)))}
	}
	toks, _ := hclsyntax.LexConfig(src, filename, hcl.InitialPos) // the parser reports lexing errors
	var (
		diags hcl.Diagnostics
		open  []hclsyntax.TokenType // the closer each open bracket expects
		ops   int
		prev  hclsyntax.TokenType
	)
	for _, t := range toks {
		closer, opens := closers[t.Type]
		switch {
		case opens:
			open = append(open, closer)
			if len(open) > MaxNesting {
				return append(diags, errorAt(t.Range, "Too deeply nested", fmt.Sprintf(
					"Brackets, braces, parentheses and template interpolations may nest at most %d deep; this opens level %d. A spec holds plain values, which need three or four levels.",
					MaxNesting, len(open))))
			}
		case isCloser(t.Type):
			// A closer that does not match the innermost open bracket is a
			// syntax error for the parser; keeping the level open can only
			// overcount the depth, never undercount it.
			if n := len(open); n > 0 && open[n-1] == t.Type {
				open = open[:n-1]
			}
		case t.Type == hclsyntax.TokenNumberLit:
			if d := checkNumber(t); d != nil {
				diags = append(diags, d)
			}
		}
		if isOperator(t.Type, prev) {
			ops++
			if ops > MaxOperators {
				return append(diags, errorAt(t.Range, "Expression too complex", fmt.Sprintf(
					"A spec may use at most %d operators, attribute accesses, index steps and template interpolations and directives in all; this is number %d. Spec values are literals: write the value itself, such as 8589934592 rather than 8 * 1024 * 1024 * 1024.",
					MaxOperators, ops)))
			}
		}
		prev = t.Type
	}
	return diags
}

// closers maps each opening token to the token that closes it.
var closers = map[hclsyntax.TokenType]hclsyntax.TokenType{
	hclsyntax.TokenOBrace:          hclsyntax.TokenCBrace,
	hclsyntax.TokenOBrack:          hclsyntax.TokenCBrack,
	hclsyntax.TokenOParen:          hclsyntax.TokenCParen,
	hclsyntax.TokenTemplateInterp:  hclsyntax.TokenTemplateSeqEnd,
	hclsyntax.TokenTemplateControl: hclsyntax.TokenTemplateSeqEnd,
}

func isCloser(t hclsyntax.TokenType) bool {
	switch t {
	case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenTemplateSeqEnd:
		return true
	}
	return false
}

// isOperator reports whether token t, after a token of type prev, counts
// toward MaxOperators: a unary, binary or conditional operator, an
// attribute access or splat ("."), an index ("[" right after a value), or a
// template interpolation ("${") or directive ("%{").
func isOperator(t, prev hclsyntax.TokenType) bool {
	switch t {
	case hclsyntax.TokenPlus, hclsyntax.TokenMinus, hclsyntax.TokenStar, hclsyntax.TokenSlash, hclsyntax.TokenPercent,
		hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual,
		hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq, hclsyntax.TokenGreaterThan, hclsyntax.TokenGreaterThanEq,
		hclsyntax.TokenAnd, hclsyntax.TokenOr, hclsyntax.TokenBang, hclsyntax.TokenQuestion,
		hclsyntax.TokenDot, hclsyntax.TokenTemplateControl, hclsyntax.TokenTemplateInterp:
		return true
	case hclsyntax.TokenOBrack:
		switch prev {
		case hclsyntax.TokenIdent, hclsyntax.TokenNumberLit, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
			hclsyntax.TokenCBrace, hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc:
			return true
		}
	}
	return false
}

// checkNumber refuses a number literal with more than MaxNumberDigits
// digits or an exponent beyond ±MaxNumberExponent. HCL number literals are
// digits, an optional fraction and an optional exponent: 8589934592, 0.5,
// 1e9, 2.5E-3.
func checkNumber(t hclsyntax.Token) *hcl.Diagnostic {
	lit := t.Bytes
	mant, exp := lit, []byte(nil)
	if i := bytes.IndexAny(lit, "eE"); i >= 0 {
		mant, exp = lit[:i], lit[i+1:]
	}
	digits := len(mant) - bytes.Count(mant, []byte("."))
	var err error
	switch {
	case digits > MaxNumberDigits:
		err = fmt.Errorf("this one has %d digits", digits)
	case exp != nil:
		e := bytes.TrimLeft(bytes.TrimLeft(exp, "+-"), "0")
		if n, convErr := strconv.Atoi(string(e)); len(e) > 0 && (convErr != nil || n > MaxNumberExponent) {
			err = errors.New("this one's exponent is " + shorten(string(exp), 20))
		}
	}
	if err == nil {
		return nil
	}
	return errorAt(t.Range, "Number literal too large", fmt.Sprintf(
		"A number in a spec may have at most %d digits and an exponent from -%d to %d (module parameters are at most 64 bits: 18446744073709551615 has 20 digits); %s.",
		MaxNumberDigits, MaxNumberExponent, MaxNumberExponent, err))
}

// shorten cuts s to at most n bytes, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// checkExprs refuses, after parsing and before anything is evaluated, for
// expressions ([for x in xs: ...], and the %{ for } template directive,
// which the parser turns into one) and lists or maps of more than MaxItems
// items. Nested for expressions multiply: two over literal lists of a few
// thousand elements each build millions of values. A spec has nothing to
// iterate over.
func checkExprs(body hcl.Body) hcl.Diagnostics {
	b, ok := body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	var diags hcl.Diagnostics
	tooMany := func(r hcl.Range, n int) {
		diags = append(diags, errorAt(r, "Too many items", fmt.Sprintf(
			"A list or map in a spec may hold at most %d items, module.options included (the zfs and spl modules have fewer parameters than that); this one has %d.",
			MaxItems, n)))
	}
	hclsyntax.VisitAll(b, func(n hclsyntax.Node) hcl.Diagnostics {
		switch e := n.(type) {
		case *hclsyntax.ForExpr:
			diags = append(diags, errorAt(e.OpenRange, "For expression not allowed",
				"A spec holds literal values, so for expressions and %{ for } template directives are not supported: write the list or map out."))
		case *hclsyntax.TupleConsExpr:
			if len(e.Exprs) > MaxItems {
				tooMany(e.OpenRange, len(e.Exprs))
			}
		case *hclsyntax.ObjectConsExpr:
			if len(e.Items) > MaxItems {
				tooMany(e.OpenRange, len(e.Items))
			}
		}
		return nil
	})
	// A body's attributes are a map: visit order is not source order.
	sort.SliceStable(diags, func(i, j int) bool { return offset(diags[i]) < offset(diags[j]) })
	return diags
}
