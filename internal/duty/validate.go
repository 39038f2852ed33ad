package duty

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

var datePattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// The dates dutycheck accepts, everywhere: record fields, as-of dates and parameters. The
// policies count days (lib.dates.day) through nanoseconds since 1970, defined from 1677-09-22 to
// 2262-04-11; this range lies well inside, so that every accepted date, and every date a policy
// works out from one by a parameter's days, is countable. A date the policies could not count
// would make a duty report nothing (issue 12).
const (
	MinDate = "1900-01-01"
	MaxDate = "2199-12-31"
	MinYear = 1900
	MaxYear = 2199
)

// ValidDate reports whether s is a real calendar date written YYYY-MM-DD from MinDate to MaxDate.
func ValidDate(s string) bool { f, _ := dateFault(s); return f == "" }

// CheckDate returns nil when value is a date dutycheck accepts, else an error matching
// ErrInvalid that names the field, the value and what was expected.
func CheckDate(field, value string) error {
	if f, _ := dateFault(value); f != "" {
		return fmt.Errorf("%s %q: %w: expected %s", field, value, ErrInvalid, f)
	}
	return nil
}

// dateFault is what a date must be that s is not, and the kind of the problem, or "".
func dateFault(s string) (string, ProblemKind) {
	if _, err := time.Parse(time.DateOnly, s); err != nil || !datePattern.MatchString(s) {
		return "a date YYYY-MM-DD", KindDate
	}
	if s < MinDate || s > MaxDate {
		return "a date from " + MinDate + " to " + MaxDate + " (out of range)", KindDateRange
	}
	return "", ""
}

// Normalize checks one raw JSON object (as decoded with json.Decoder.UseNumber, or from BSON)
// against the collection's fields, without looking at other documents. It returns the document
// with integers as int64 and null fields removed, and every problem found; Problem.Field names
// the field ("items[2].due_on"), Index and ID are left for the caller.
func (c *Collection) Normalize(raw map[string]any) (Doc, []Problem) {
	var probs []Problem
	doc := normalizeObject(c.Fields, raw, "", &probs)
	return Doc(doc), probs
}

func normalizeObject(fields []Field, raw map[string]any, prefix string, probs *[]Problem) map[string]any {
	out := make(map[string]any, len(raw))
	for _, f := range fields {
		v, ok := raw[f.Name]
		if !ok || v == nil {
			if !f.Optional {
				*probs = append(*probs, Problem{Field: prefix + f.Name, Kind: KindRequired, Message: "is required (" + describe(f) + ")"})
			}
			continue
		}
		if nv, ok := normalizeValue(f, v, prefix+f.Name, probs); ok {
			out[f.Name] = nv
		}
	}
	var unknown []string
	for k := range raw {
		if !slices.ContainsFunc(fields, func(f Field) bool { return f.Name == k }) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		names := make([]string, len(fields))
		for i, f := range fields {
			names[i] = f.Name
		}
		*probs = append(*probs, Problem{Field: prefix + k, Kind: KindUnknownField, Message: "is not a field of this record (expected one of " + strings.Join(names, ", ") + ")"})
	}
	return out
}

func describe(f Field) string {
	switch f.Kind {
	case String:
		if len(f.Enum) > 0 {
			return "one of " + strings.Join(f.Enum, ", ")
		}
		if f.Ref != "" {
			return "the id of a record in " + f.Ref
		}
		return "a non-empty string"
	case Text:
		return "a string"
	case Date:
		return "a date YYYY-MM-DD"
	case Bool:
		return "true or false"
	case Int:
		if f.Max > 0 {
			return fmt.Sprintf("an integer from %d to %d", f.Min, f.Max)
		}
		return "an integer"
	case Strings:
		if len(f.Enum) > 0 {
			return "an array of: " + strings.Join(f.Enum, ", ")
		}
		if f.Ref != "" {
			return "an array of ids of records in " + f.Ref
		}
		return "an array of strings"
	case Objects:
		return "an array of objects"
	}
	return "a value"
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64, float32, int, int32, int64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// Bounds of a record's strings and arrays. A record is one document (MongoDB holds at most 16
// MiB), and its names reach the messages of its violations, which a report stores 500 to a
// document: one person named with 12 MB made every later scan of the store fail ("an inserted
// document is too large").
const (
	MaxStringChars = 200  // a String (a name, a code)
	MaxTextChars   = 2000 // a Text (a title, a content, findings)
	MaxItems       = 1000 // the elements of an array (Strings, Objects)
)

// typeKind is the kind of the problem of a value of field f of the wrong type: the kind of the
// value the field wants, where the pages have words for it, and its Args.
func typeKind(f Field) (ProblemKind, []string) {
	switch {
	case len(f.Enum) > 0:
		return KindEnum, nil
	case f.Kind == Date:
		return KindDate, nil
	case f.Kind == Bool:
		return KindBool, nil
	case f.Kind == Int && f.Max > 0:
		return KindIntRange, []string{strconv.FormatInt(f.Min, 10), strconv.FormatInt(f.Max, 10)}
	case f.Kind == Int:
		return KindInt, nil
	}
	return KindType, nil
}

func normalizeValue(f Field, v any, path string, probs *[]Problem) (any, bool) {
	bad := func(kind ProblemKind, msg string, args ...string) (any, bool) {
		*probs = append(*probs, Problem{Field: path, Kind: kind, Message: msg, Args: args})
		return nil, false
	}
	wrongType := func() (any, bool) {
		kind, args := typeKind(f)
		return bad(kind, fmt.Sprintf("must be %s, got %s", describe(f), typeName(v)), args...)
	}
	tooMany := func(n int) (any, bool) {
		return bad(KindTooMany, fmt.Sprintf("must have at most %d elements, got %d", MaxItems, n))
	}
	switch f.Kind {
	case String, Text, Date:
		s, ok := v.(string)
		if !ok {
			return wrongType()
		}
		max := MaxStringChars
		if f.Kind == Text {
			max = MaxTextChars
		}
		switch {
		case f.Kind == String && strings.TrimSpace(s) == "":
			return bad(KindRequired, "must be "+describe(f)+", got an empty string")
		case f.Name == "id" && !ValidID(s):
			return bad(KindID, "must be an id of "+IDRule+", got "+quoteID(s))
		case len(s) > max && utf8.RuneCountInString(s) > max:
			return bad(tooLong(max, s))
		case ControlChar(s, f.Kind == Text) >= 0:
			return bad(controlChar(s, f.Kind == Text))
		case f.Kind == Date:
			if fault, kind := dateFault(s); fault != "" {
				return bad(kind, fmt.Sprintf("must be %s, got %q", fault, s))
			}
		case len(f.Enum) > 0 && !slices.Contains(f.Enum, s):
			return bad(notOneOf(f, s))
		}
		return s, true
	case Bool:
		b, ok := v.(bool)
		if !ok {
			return wrongType()
		}
		return b, true
	case Int:
		n, ok := toInt(v)
		if !ok {
			return wrongType()
		}
		if f.Max > 0 && (n < f.Min || n > f.Max) {
			kind, args := typeKind(f)
			return bad(kind, fmt.Sprintf("must be %s, got %d", describe(f), n), args...)
		}
		return n, true
	case Strings:
		arr, ok := v.([]any)
		if !ok {
			return wrongType()
		}
		if len(arr) > MaxItems {
			return tooMany(len(arr))
		}
		out := make([]any, 0, len(arr))
		for i, e := range arr {
			s, ok := e.(string)
			p := fmt.Sprintf("%s[%d]", path, i)
			add := func(kind ProblemKind, msg string) {
				*probs = append(*probs, Problem{Field: p, Kind: kind, Message: msg})
			}
			switch {
			case !ok:
				add(KindType, "must be a string, got "+typeName(e))
			case strings.TrimSpace(s) == "":
				add(KindRequired, "must be a non-empty string")
			case len(s) > MaxStringChars && utf8.RuneCountInString(s) > MaxStringChars:
				add(tooLong(MaxStringChars, s))
			case ControlChar(s, false) >= 0:
				add(controlChar(s, false))
			case len(f.Enum) > 0 && !slices.Contains(f.Enum, s):
				add(notOneOf(f, s))
			default:
				out = append(out, s)
			}
		}
		return out, true
	case Objects:
		arr, ok := v.([]any)
		if !ok {
			return wrongType()
		}
		if len(arr) > MaxItems {
			return tooMany(len(arr))
		}
		out := make([]any, 0, len(arr))
		seen := map[string]int{}
		for i, e := range arr {
			p := fmt.Sprintf("%s[%d]", path, i)
			m, ok := e.(map[string]any)
			if !ok {
				*probs = append(*probs, Problem{Field: p, Kind: KindType, Message: "must be an object, got " + typeName(e)})
				continue
			}
			o := normalizeObject(f.Fields, m, p+".", probs)
			if id, ok := o["id"].(string); ok {
				if j, dup := seen[id]; dup {
					*probs = append(*probs, Problem{Field: p + ".id", Kind: KindDuplicateSub, Message: fmt.Sprintf("duplicates the id %q of %s[%d]", id, path, j)})
				}
				seen[id] = i
			}
			out = append(out, o)
		}
		return out, true
	}
	return wrongType()
}

// tooLong is the problem of s, longer than max characters.
func tooLong(max int, s string) (ProblemKind, string) {
	return KindTooLong, fmt.Sprintf("must be at most %d characters long, got %d", max, utf8.RuneCountInString(s))
}

// ControlChar returns the index of the first control character of s (U+0000 to U+001F, U+007F
// to U+009F), or -1 when it has none; a text (lines) may hold tabs and line breaks. Such a
// character is invisible on the pages and in a spreadsheet, and PostgreSQL behind FerretDB
// cannot store U+0000 at all, so every string dutycheck stores is refused with one.
func ControlChar(s string, text bool) int {
	for i, r := range s {
		switch {
		case text && (r == '\t' || r == '\n' || r == '\r'):
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			return i
		}
	}
	return -1
}

// controlChar is the problem of s, which holds a control character.
func controlChar(s string, text bool) (ProblemKind, string) {
	r, _ := utf8.DecodeRuneInString(s[ControlChar(s, text):])
	return KindControl, fmt.Sprintf("must not contain control characters, got %U at byte %d", r, ControlChar(s, text))
}

// notOneOf is the problem of s, outside the enumeration of f.
func notOneOf(f Field, s string) (ProblemKind, string) {
	return KindEnum, fmt.Sprintf("must be one of %s, got %q", strings.Join(f.Enum, ", "), s)
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		f, err := n.Float64()
		if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return 0, false
		}
		return int64(f), true
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, false
		}
		return int64(n), true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}

// Refs calls fn for every reference the document makes: the field path, the collection it must
// name and the id it names.
func (c *Collection) Refs(d Doc, fn func(field, collection, id string)) {
	refsIn(c.Fields, d, "", fn)
}

func refsIn(fields []Field, obj map[string]any, prefix string, fn func(field, collection, id string)) {
	for _, f := range fields {
		v, ok := obj[f.Name]
		if !ok {
			continue
		}
		switch {
		case f.Kind == Objects:
			arr, _ := v.([]any)
			for i, e := range arr {
				if m, ok := e.(map[string]any); ok {
					refsIn(f.Fields, m, fmt.Sprintf("%s%s[%d].", prefix, f.Name, i), fn)
				}
			}
		case f.Ref == "":
		case f.Kind == Strings:
			arr, _ := v.([]any)
			for i, e := range arr {
				if s, ok := e.(string); ok {
					fn(fmt.Sprintf("%s%s[%d]", prefix, f.Name, i), f.Ref, s)
				}
			}
		default:
			if s, ok := v.(string); ok {
				fn(prefix+f.Name, f.Ref, s)
			}
		}
	}
}

// CheckDepartment checks the rules of one department that need no other record: an organ has no
// parent, every other kind has one, and none is its own parent.
func CheckDepartment(d Doc) []Problem {
	kind, parent := d.Str("kind"), d.Str("parent_id")
	switch {
	case kind == "organ" && parent != "":
		return []Problem{{Field: "parent_id", Kind: KindOrganParent, Message: "must be absent on an organ (kind \"organ\" is the root of its organisation)"}}
	case kind != "organ" && kind != "" && parent == "":
		if _, given := d["parent_id"]; !given {
			return []Problem{{Field: "parent_id", Kind: KindNeedParent, Message: "is required on a department of kind " + kind + " (only an organ has no parent)"}}
		}
	case parent != "" && parent == d.ID():
		return []Problem{{Field: "parent_id", Kind: KindSelfParent, Message: "names the department itself"}}
	}
	return nil
}
