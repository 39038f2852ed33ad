package duty

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
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
func ValidDate(s string) bool { return dateFault(s) == "" }

// DateProblem says what is wrong with s as a date, as a record field's problem ("must be …"),
// or "" when nothing is.
func DateProblem(s string) string {
	if f := dateFault(s); f != "" {
		return fmt.Sprintf("must be %s, got %q", f, s)
	}
	return ""
}

// CheckDate returns nil when value is a date dutycheck accepts, else an error matching
// ErrInvalid that names the field, the value and what was expected.
func CheckDate(field, value string) error {
	if f := dateFault(value); f != "" {
		return fmt.Errorf("%s %q: %w: expected %s", field, value, ErrInvalid, f)
	}
	return nil
}

// dateFault is what a date must be that s is not, or "".
func dateFault(s string) string {
	if _, err := time.Parse(time.DateOnly, s); err != nil || !datePattern.MatchString(s) {
		return "a date YYYY-MM-DD"
	}
	if s < MinDate || s > MaxDate {
		return "a date from " + MinDate + " to " + MaxDate + " (out of range)"
	}
	return ""
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
				*probs = append(*probs, Problem{Field: prefix + f.Name, Message: "is required (" + describe(f) + ")"})
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
		*probs = append(*probs, Problem{Field: prefix + k, Message: "is not a field of this record (expected one of " + strings.Join(names, ", ") + ")"})
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

func normalizeValue(f Field, v any, path string, probs *[]Problem) (any, bool) {
	bad := func(msg string) (any, bool) {
		*probs = append(*probs, Problem{Field: path, Message: msg})
		return nil, false
	}
	wrongType := func() (any, bool) {
		return bad(fmt.Sprintf("must be %s, got %s", describe(f), typeName(v)))
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
			return bad("must be " + describe(f) + ", got an empty string")
		case f.Name == "id" && !ValidID(s):
			return bad("must be an id of " + IDRule + ", got " + quoteID(s))
		case len(s) > max && utf8.RuneCountInString(s) > max:
			return bad(fmt.Sprintf("must be at most %d characters long, got %d", max, utf8.RuneCountInString(s)))
		case f.Kind == Date && !ValidDate(s):
			return bad(DateProblem(s))
		case len(f.Enum) > 0 && !slices.Contains(f.Enum, s):
			return bad(fmt.Sprintf("must be one of %s, got %q", strings.Join(f.Enum, ", "), s))
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
			return bad(fmt.Sprintf("must be %s, got %d", describe(f), n))
		}
		return n, true
	case Strings:
		arr, ok := v.([]any)
		if !ok {
			return wrongType()
		}
		if len(arr) > MaxItems {
			return bad(fmt.Sprintf("must have at most %d elements, got %d", MaxItems, len(arr)))
		}
		out := make([]any, 0, len(arr))
		for i, e := range arr {
			s, ok := e.(string)
			p := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case !ok:
				*probs = append(*probs, Problem{Field: p, Message: "must be a string, got " + typeName(e)})
			case strings.TrimSpace(s) == "":
				*probs = append(*probs, Problem{Field: p, Message: "must be a non-empty string"})
			case len(s) > MaxStringChars && utf8.RuneCountInString(s) > MaxStringChars:
				*probs = append(*probs, Problem{Field: p, Message: fmt.Sprintf("must be at most %d characters long, got %d", MaxStringChars, utf8.RuneCountInString(s))})
			case len(f.Enum) > 0 && !slices.Contains(f.Enum, s):
				*probs = append(*probs, Problem{Field: p, Message: fmt.Sprintf("must be one of %s, got %q", strings.Join(f.Enum, ", "), s)})
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
			return bad(fmt.Sprintf("must have at most %d elements, got %d", MaxItems, len(arr)))
		}
		out := make([]any, 0, len(arr))
		seen := map[string]int{}
		for i, e := range arr {
			p := fmt.Sprintf("%s[%d]", path, i)
			m, ok := e.(map[string]any)
			if !ok {
				*probs = append(*probs, Problem{Field: p, Message: "must be an object, got " + typeName(e)})
				continue
			}
			o := normalizeObject(f.Fields, m, p+".", probs)
			if id, ok := o["id"].(string); ok {
				if j, dup := seen[id]; dup {
					*probs = append(*probs, Problem{Field: p + ".id", Message: fmt.Sprintf("duplicates the id %q of %s[%d]", id, path, j)})
				}
				seen[id] = i
			}
			out = append(out, o)
		}
		return out, true
	}
	return wrongType()
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
		return []Problem{{Field: "parent_id", Message: "must be absent on an organ (kind \"organ\" is the root of its organisation)"}}
	case kind != "organ" && kind != "" && parent == "":
		if _, given := d["parent_id"]; !given {
			return []Problem{{Field: "parent_id", Message: "is required on a department of kind " + kind + " (only an organ has no parent)"}}
		}
	case parent != "" && parent == d.ID():
		return []Problem{{Field: "parent_id", Message: "names the department itself"}}
	}
	return nil
}
