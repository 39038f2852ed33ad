package duty

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// MaxIDLength is the longest id, user name or token name, in characters.
const MaxIDLength = 128

// IDRule says in words which ids ValidID accepts; error messages quote it.
const IDRule = "1 to 128 characters: letters (Chinese characters included), digits and the marks - _ . : " +
	"with a letter or a digit first (no slash, space, control or invisible character)"

// NameRule says which user and token names ValidName accepts.
const NameRule = IDRule

// ValidID reports whether s may be a record id: 1 to MaxIDLength characters, each a Unicode
// letter or digit or one of "-_.:", the first a letter or a digit. An id is a path segment of
// the API and the pages (/collections/{collection}/{id}), an argument of the CLI and a cell of
// the CSV downloads, so it holds nothing that a URL, a file name, a shell, a terminal or a
// spreadsheet reads as structure: no slash or backslash, no space, no control or format
// character, no quote, no "." or "..", and no leading "-" (a flag), "=", "+" or "@" (a formula).
// The letters Unicode says to show as nothing (the Hangul fillers, Other_Default_Ignorable_Code_Point)
// are refused too: an id must be visible, and "x" and "x\u3164" must not both exist.
func ValidID(s string) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxIDLength {
		return false
	}
	for i, r := range s {
		switch {
		case unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r):
			return false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		case i > 0 && (r == '-' || r == '_' || r == '.' || r == ':'):
		default:
			return false
		}
	}
	return true
}

// ValidName reports whether s may be a user or token name: the same set as ValidID.
func ValidName(s string) bool { return ValidID(s) }

// quoteID quotes an id for an error message, shortened when long: a refused id may be megabytes.
func quoteID(s string) string {
	const show = 40
	if utf8.RuneCountInString(s) <= show {
		return strconv.Quote(s)
	}
	n := 0
	for i := range s {
		if n == show {
			return strconv.Quote(s[:i]) + "… (" + strconv.Itoa(utf8.RuneCountInString(s)) + " characters)"
		}
		n++
	}
	return strconv.Quote(s)
}
