package gen

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"unicode/utf8"
)

// WriteDir writes the dataset as a dataset folder (DOMAIN.md): one <collection>.json file per
// collection, each a JSON array pretty-printed with a two-space indent and a trailing newline.
// Object keys come in the order DOMAIN.md lists the fields ("id" first), so that files read
// like the schema and diff cleanly; Chinese text is written as UTF-8, not escaped. The folder
// is created when missing; files of collections not in d are left alone.
func (d Dataset) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create dataset folder: %w", err)
	}
	names := make([]string, 0, len(d))
	for name := range d {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := writeFile(filepath.Join(dir, name+".json"), d[name]); err != nil {
			return err
		}
	}
	return nil
}

// ReadDir reads a dataset folder as WriteDir writes it: every <collection>.json file of
// DOMAIN.md's collections that exists, a JSON array of objects; a missing file is an empty
// collection. Values are decoded as encoding/json decodes into any (numbers as float64), as
// the conformance oracle expects of JSON input.
func ReadDir(dir string) (Dataset, error) {
	ds := make(Dataset, numCollections)
	for _, c := range collectionNames {
		b, err := os.ReadFile(filepath.Join(dir, c+".json"))
		if errors.Is(err, fs.ErrNotExist) {
			ds[c] = []map[string]any{}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read dataset: %w", err)
		}
		var docs []map[string]any
		if err := json.Unmarshal(b, &docs); err != nil {
			return nil, fmt.Errorf("read dataset: %s.json: %w", c, err)
		}
		ds[c] = docs
	}
	return ds, nil
}

// writeFile writes one collection file: the documents as a JSON array and a trailing newline.
func writeFile(path string, docs []map[string]any) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = encodeDocs(w, docs)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func encodeDocs(w *bufio.Writer, docs []map[string]any) error {
	if err := encodeValue(w, docs, 0); err != nil {
		return err
	}
	return w.WriteByte('\n')
}

// fieldOrder ranks every field name of DOMAIN.md so that each collection's keys come out in
// the schema's order. One global order serves all collections because no two collections list
// shared fields in conflicting orders. Unknown keys sort after these, alphabetically.
var fieldOrder = func() map[string]int {
	names := []string{
		"id", "year", "name", "kind", "level", "parent_id", "discipline_member_id",
		"person_id", "department_id", "holder_id", "issuer_id", "signer_id", "conducted_by",
		"position", "rank", "roles", "supervises", "active", "left_on", "effective_on",
		"held_on", "recorded", "signed_on", "signed_by_issuer", "signed_by_signer",
		"issued_on", "updated_on", "tasks", "entries", "inspections", "items", "major_matters",
		"date", "task_id", "inspector_id", "title", "text", "content", "findings", "due_on",
		"status", "closed_on", "evidence", "event_on", "reported_on",
	}
	m := make(map[string]int, len(names))
	for i, n := range names {
		m[n] = i + 1
	}
	return m
}()

// rankedKey is an object key with its place in fieldOrder (past the end when unknown).
type rankedKey struct {
	rank int
	key  string
}

func (a rankedKey) less(b rankedKey) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.key < b.key)
}

// encodeValue writes v in the layout of json.MarshalIndent(v, "", "  ") with the key order
// above and without HTML escaping.
func encodeValue(buf *bufio.Writer, v any, depth int) error {
	switch v := v.(type) {
	case nil:
		buf.WriteString("null")
	case string:
		writeString(buf, v)
	case bool:
		buf.WriteString(strconv.FormatBool(v))
	case int:
		buf.WriteString(strconv.Itoa(v))
	case int64:
		buf.WriteString(strconv.FormatInt(v, 10))
	case map[string]any:
		if len(v) == 0 {
			buf.WriteString("{}")
			return nil
		}
		// Documents have few keys: an insertion sort on a stack array beats a general sort.
		var arr [16]rankedKey
		keys := arr[:0]
		for k := range v {
			rk := rankedKey{len(fieldOrder) + 1, k}
			if r, ok := fieldOrder[k]; ok {
				rk.rank = r
			}
			keys = append(keys, rk)
			for i := len(keys) - 1; i > 0 && keys[i].less(keys[i-1]); i-- {
				keys[i], keys[i-1] = keys[i-1], keys[i]
			}
		}
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			newline(buf, depth+1)
			writeString(buf, k.key)
			buf.WriteString(": ")
			if err := encodeValue(buf, v[k.key], depth+1); err != nil {
				return err
			}
		}
		newline(buf, depth)
		buf.WriteByte('}')
	case []any:
		if len(v) == 0 {
			buf.WriteString("[]")
			return nil
		}
		buf.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			newline(buf, depth+1)
			if err := encodeValue(buf, e, depth+1); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		newline(buf, depth)
		buf.WriteByte(']')
	case []string:
		vals := make([]any, len(v))
		for i, s := range v {
			vals[i] = s
		}
		return encodeValue(buf, vals, depth)
	case []map[string]any:
		vals := make([]any, len(v))
		for i, m := range v {
			vals[i] = m
		}
		return encodeValue(buf, vals, depth)
	default:
		// Other scalars (floats, json.Number) take encoding/json's spelling.
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	return nil
}

func newline(buf *bufio.Writer, depth int) {
	buf.WriteByte('\n')
	for range depth {
		buf.WriteString("  ")
	}
}

const hexDigits = "0123456789abcdef"

// writeString writes s as a JSON string as encoding/json does with HTML escaping off: quotes,
// backslashes, control characters, U+2028 and U+2029 escaped, invalid UTF-8 replaced.
func writeString(buf *bufio.Writer, s string) {
	buf.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				buf.WriteByte('\\')
				buf.WriteByte(c)
			case '\n':
				buf.WriteString(`\n`)
			case '\r':
				buf.WriteString(`\r`)
			case '\t':
				buf.WriteString(`\t`)
			default:
				buf.WriteString(`\u00`)
				buf.WriteByte(hexDigits[c>>4])
				buf.WriteByte(hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf.WriteString(s[start:i])
			buf.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf.WriteString(s[start:i])
			buf.WriteString(`\u202`)
			buf.WriteByte(hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf.WriteString(s[start:])
	buf.WriteByte('"')
}
