// Package textcheck finds text that does not read as Chinese: ASCII punctuation (, ; : ( ))
// beside Chinese characters, and codes (field names, snake_case identifiers, enumerated values
// of the label catalogue) inside Chinese sentences. STYLE.md "Text for people" asks for
// full-width punctuation and labels instead of codes; the package's test applies Check to every
// Chinese string of the program, the pages, the policy bundle and the golden reports.
package textcheck

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// asciiPunct is the ASCII punctuation that has a full-width form in Chinese text.
const asciiPunct = ",;:()"

// fullWidth maps each of asciiPunct to its full-width form, for the messages.
var fullWidth = map[rune]string{',': "，", ';': "；", ':': "：", '(': "（", ')': "）"}

// HasChinese reports whether s is Chinese text: it holds Chinese characters, at least one for
// every three ASCII letters. An English text that names a Chinese word ("duties (履责留痕)") is
// English and keeps its ASCII punctuation; a Chinese sentence with a code in it
// ("任职「联络处副处长」(division)") is Chinese.
func HasChinese(s string) bool {
	han, latin := 0, 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			han++
		case r < utf8.RuneSelf && unicode.IsLetter(r):
			latin++
		}
	}
	return han > 0 && 3*han >= latin
}

// chineseSide reports whether r is Chinese text on one side of a punctuation mark: a Chinese
// character or a full-width mark (CJK symbols and punctuation, full-width forms).
func chineseSide(r rune) bool {
	return unicode.Is(unicode.Han, r) || (r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xffef)
}

// snake matches a snake_case identifier: a field name or a code such as signed_on or
// discipline_committee.
var snake = regexp.MustCompile(`\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b`)

// word matches a lower-case ASCII word.
var word = regexp.MustCompile(`\b[a-z][a-z0-9]*\b`)

// Check returns the problems of s when it holds Chinese: each ASCII , ; : ( ) whose nearest
// non-space neighbour on either side is Chinese, each snake_case identifier, and each
// lower-case word that is one of codes (the enumerated values and field names of the label
// catalogue). English text (HasChinese false) is not checked.
func Check(s string, codes map[string]bool) []string {
	if !HasChinese(s) {
		return nil
	}
	var probs []string
	// A pair of parentheses is Chinese when either of them is beside Chinese:
	// "影响预览(基准日 %s):" needs （） although ")" touches only "s" and ":".
	bad := map[int]bool{}
	var open []int
	for i, r := range s {
		if !strings.ContainsRune(asciiPunct, r) {
			continue
		}
		before, after := neighbour(s[:i], true), neighbour(s[i+1:], false)
		bad[i] = chineseSide(before) || chineseSide(after)
		switch r {
		case '(':
			open = append(open, i)
		case ')':
			if n := len(open); n > 0 {
				o := open[n-1]
				open = open[:n-1]
				bad[o], bad[i] = bad[o] || bad[i], bad[o] || bad[i]
			}
		}
	}
	for i, r := range s {
		if bad[i] {
			probs = append(probs, fmt.Sprintf("ASCII %q beside Chinese (write %s): %s", r, fullWidth[r], excerpt(s, i)))
		}
	}
	for _, m := range snake.FindAllStringIndex(s, -1) {
		probs = append(probs, fmt.Sprintf("code %q inside Chinese text (show its label): %s", s[m[0]:m[1]], excerpt(s, m[0])))
	}
	for _, m := range word.FindAllStringIndex(s, -1) {
		if w := s[m[0]:m[1]]; codes[w] && !partOfVerb(s, m[0]) {
			probs = append(probs, fmt.Sprintf("code %q inside Chinese text (show its label): %s", w, excerpt(s, m[0])))
		}
	}
	return probs
}

// CheckEnglish returns the problems of an English message: each snake_case identifier (a field
// name or a code such as signed_on or discipline_committee), which the English pages show by its
// label as the Chinese ones do.
func CheckEnglish(s string) []string {
	var probs []string
	for _, m := range snake.FindAllStringIndex(s, -1) {
		probs = append(probs, fmt.Sprintf("code %q inside English text (show its label): %s", s[m[0]:m[1]], excerpt(s, m[0])))
	}
	return probs
}

// partOfVerb reports whether the word at i follows a % (a format verb such as %d or %s).
func partOfVerb(s string, i int) bool { return i > 0 && s[i-1] == '%' }

// neighbour returns the nearest rune of s that is not a space, from its end when fromEnd, else
// from its start; 0 when there is none.
func neighbour(s string, fromEnd bool) rune {
	for s != "" {
		var r rune
		var n int
		if fromEnd {
			r, n = utf8.DecodeLastRuneInString(s)
			s = s[:len(s)-n]
		} else {
			r, n = utf8.DecodeRuneInString(s)
			s = s[n:]
		}
		if r != ' ' {
			return r
		}
	}
	return 0
}

// excerpt returns up to 12 runes of s on each side of byte offset i.
func excerpt(s string, i int) string {
	rs := []rune(s[:i])
	if len(rs) > 12 {
		rs = rs[len(rs)-12:]
	}
	after := []rune(s[i:])
	if len(after) > 13 {
		after = after[:13]
	}
	return "…" + string(rs) + string(after) + "…"
}
