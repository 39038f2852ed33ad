package duty

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// MaxIDLength is the longest id, user name or token name, in characters.
const MaxIDLength = 128

// IDRule says in words which ids ValidID accepts; error messages quote it.
const IDRule = "1 to 128 characters, each a letter (Chinese characters included), a digit, or one of - _ . : " +
	"(no slash, space or control character, and not \".\" or \"..\")"

// NameRule says which user and token names ValidName accepts.
const NameRule = IDRule

// ValidID reports whether s may be a record id: 1 to MaxIDLength characters, each a Unicode
// letter or digit or one of "-_.:", and not "." or "..". An id is a path segment of the API and
// the pages (/collections/{collection}/{id}) and a cell of the CSV downloads, so it may hold
// nothing that a URL, a file name, a terminal or a spreadsheet reads as structure: no slash or
// backslash, no space, no control or format character, no quote, and no leading "=+@"
// (those are not in the set; "-" is, and the CSV writer neutralises it).
func ValidID(s string) bool {
	if s == "" || s == "." || s == ".." || !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxIDLength {
		return false
	}
	for _, r := range s {
		switch {
		case r == '-' || r == '_' || r == '.' || r == ':':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
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
