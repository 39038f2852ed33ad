package duty

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/dutycheck/dutycheck/policies"
)

// Label is a text in both languages of the pages.
type Label struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// In returns the label in lang ("en" for English, anything else Chinese), falling back to the
// other language when it has none in lang.
func (l Label) In(lang string) string {
	if lang == "en" && l.EN != "" || l.ZH == "" {
		return l.EN
	}
	return l.ZH
}

// FieldLabel is the label of one field of a collection: its name in both languages, the
// enumeration its values are labelled from (if any) and, for an array of objects, the labels of
// the elements' fields.
type FieldLabel struct {
	Label
	Enum   string                `json:"enum,omitempty"`
	Fields map[string]FieldLabel `json:"fields,omitempty"`
}

// CollectionLabel is the label of a collection (a heading: 廉政谈话, Integrity talks), the noun
// of one of its records (谈话, talk: "talk T1") and the labels of its fields.
type CollectionLabel struct {
	Label
	Noun   Label                 `json:"noun"`
	Fields map[string]FieldLabel `json:"fields"`
}

// Catalogue is the bundle's labels/data.json: every collection's and field's name in Chinese
// and English, and the labels of the enumerated values (ranks, roles, kinds, levels, states).
// It is the one place these names are written; pages, downloads, spreadsheets and the policies'
// messages (as data.labels) read them from here.
type Catalogue struct {
	Enums       map[string]map[string]Label `json:"enums"`
	Collections map[string]CollectionLabel  `json:"collections"`
}

// LabelsFile is the catalogue's path in the policy bundle.
const LabelsFile = "labels/data.json"

// Names is the catalogue of the built-in bundle, checked against the schema when the program
// starts: a collection, field or enumerated value without both labels is a build error the
// tests catch, never a code shown to a user.
var Names = mustLabels()

func mustLabels() *Catalogue {
	raw, err := policies.FS.ReadFile(LabelsFile)
	if err != nil {
		panic(err)
	}
	c, err := ParseLabels(raw)
	if err != nil {
		panic(err)
	}
	return c
}

// ParseLabels reads a catalogue and checks that it labels every collection, field and enumerated
// value of the schema in both languages.
func ParseLabels(raw []byte) (*Catalogue, error) {
	var c Catalogue
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", LabelsFile, ErrInvalid, err)
	}
	var probs []string
	for name, vals := range c.Enums {
		for v, l := range vals {
			if l.ZH == "" || l.EN == "" {
				probs = append(probs, fmt.Sprintf("enums.%s.%s needs zh and en", name, v))
			}
		}
	}
	var fields func(where string, fs []Field, ls map[string]FieldLabel)
	fields = func(where string, fs []Field, ls map[string]FieldLabel) {
		for _, f := range fs {
			l, ok := ls[f.Name]
			switch {
			case !ok || l.ZH == "" || l.EN == "":
				probs = append(probs, fmt.Sprintf("%s.%s needs zh and en", where, f.Name))
				continue
			case l.Enum != "" && c.Enums[l.Enum] == nil:
				probs = append(probs, fmt.Sprintf("%s.%s names an unknown enum %q", where, f.Name, l.Enum))
			case len(f.Enum) > 0 && l.Enum == "":
				probs = append(probs, fmt.Sprintf("%s.%s has enumerated values but no enum", where, f.Name))
			}
			for _, v := range f.Enum {
				if _, ok := c.Enums[l.Enum][v]; !ok {
					probs = append(probs, fmt.Sprintf("%s.%s: value %q has no label in enums.%s", where, f.Name, v, l.Enum))
				}
			}
			if f.Kind == Bool && l.Enum != "bool" {
				probs = append(probs, fmt.Sprintf("%s.%s is a boolean: its enum must be bool", where, f.Name))
			}
			if f.Kind == Objects {
				fields(where+"."+f.Name, f.Fields, l.Fields)
			}
		}
		for n := range ls {
			if !hasField(fs, n) {
				probs = append(probs, fmt.Sprintf("%s.%s is not a field of the schema", where, n))
			}
		}
	}
	for _, col := range Collections {
		cl, ok := c.Collections[col.Name]
		if !ok || cl.ZH == "" || cl.EN == "" {
			probs = append(probs, fmt.Sprintf("collections.%s needs zh and en", col.Name))
			continue
		}
		if cl.Noun.ZH == "" || cl.Noun.EN == "" {
			probs = append(probs, fmt.Sprintf("collections.%s.noun needs zh and en", col.Name))
		}
		fields("collections."+col.Name, col.Fields, cl.Fields)
	}
	for n := range c.Collections {
		if Lookup(n) == nil {
			probs = append(probs, fmt.Sprintf("collections.%s is not a collection", n))
		}
	}
	if len(probs) > 0 {
		sort.Strings(probs)
		return nil, fmt.Errorf("%s: %w: %s", LabelsFile, ErrInvalid, strings.Join(probs, "; "))
	}
	return &c, nil
}

func hasField(fs []Field, name string) bool {
	for _, f := range fs {
		if f.Name == name {
			return true
		}
	}
	return false
}

// Collection returns the label of a collection (its name when it has none).
func (c *Catalogue) Collection(name string) Label {
	if l, ok := c.Collections[name]; ok {
		return l.Label
	}
	return Label{name, name}
}

// Field returns the label of a field of a collection; path names a nested field with a dot
// ("entries.date"). A field the catalogue does not know is labelled with its name.
func (c *Catalogue) Field(collection, path string) FieldLabel {
	ls := c.Collections[collection].Fields
	var l FieldLabel
	for _, seg := range strings.Split(path, ".") {
		var ok bool
		if l, ok = ls[seg]; !ok {
			return FieldLabel{Label: Label{path, path}}
		}
		ls = l.Fields
	}
	return l
}

// Enum returns the label of value v of enumeration name, and whether it has one.
func (c *Catalogue) Enum(name, v string) (Label, bool) {
	l, ok := c.Enums[name][v]
	return l, ok
}

// EnumText returns the label of value v of enumeration name in lang, or v itself when the
// catalogue has none.
func (c *Catalogue) EnumText(name, v, lang string) string {
	if l, ok := c.Enum(name, v); ok {
		return l.In(lang)
	}
	return v
}

// Value returns how a value of a field is shown: an enumerated value (or each of an array's) by
// its label, a boolean as 是/否 (yes/no), anything else as it is.
func (c *Catalogue) Value(collection, path string, v any, lang string) string {
	f := c.Field(collection, path)
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		l, _ := c.Enum("bool", strconv.FormatBool(x))
		return l.In(lang)
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, c.Value(collection, path, e, lang))
		}
		sep := "、"
		if lang == "en" {
			sep = ", "
		}
		return strings.Join(parts, sep)
	}
	s := fmt.Sprint(v)
	if f.Enum != "" {
		if l, ok := c.Enum(f.Enum, s); ok {
			return l.In(lang)
		}
	}
	return s
}

func labelsRaw() (string, error) {
	b, err := policies.FS.ReadFile(LabelsFile)
	return string(b), err
}
