package duty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// Dataset holds validated records of every collection, keyed by collection name.
type Dataset struct {
	Docs map[string][]Doc
}

// Count returns the number of records in the dataset.
func (ds *Dataset) Count() int {
	n := 0
	for _, docs := range ds.Docs {
		n += len(docs)
	}
	return n
}

// RawDoc is one document as read from a file or a request, before validation, with where it
// came from.
type RawDoc struct {
	File  string
	Line  int
	Index int
	Value any
}

// RawDocs turns documents held in memory (collection name → documents, as a generator makes
// them) into raw documents, each with its index, for NewDataset or a store batch.
func RawDocs(docs map[string][]map[string]any) map[string][]RawDoc {
	raw := make(map[string][]RawDoc, len(docs))
	for c, list := range docs {
		out := make([]RawDoc, len(list))
		for i, d := range list {
			out[i] = RawDoc{Index: i, Value: d}
		}
		raw[c] = out
	}
	return raw
}

// NewDataset validates raw documents (collection name → documents) as one whole, with nothing
// stored beside them (Validate without a resolver). It returns every problem at once in a
// *ValidationError.
func NewDataset(raw map[string][]RawDoc) (*Dataset, error) {
	b, err := Validate(context.Background(), raw, nil)
	if err != nil {
		return nil, err
	}
	ds := &Dataset{Docs: make(map[string][]Doc, len(Collections))}
	for name, docs := range b.Docs {
		if len(docs) > 0 {
			ds.Docs[name] = docs
		}
	}
	return ds, nil
}

// NormalizeRaw checks one raw value against the collection's schema (see Collection.Normalize);
// a value that is not an object is one problem.
func NormalizeRaw(c *Collection, v any) (Doc, []Problem) {
	m, ok := v.(map[string]any)
	if !ok {
		return Doc{}, []Problem{{Kind: KindType, Message: "must be a JSON object, got " + typeName(v)}}
	}
	return c.Normalize(m)
}

func at(ps []Problem, file string, line, index int, id string) []Problem {
	for i := range ps {
		ps[i].File, ps[i].Line, ps[i].Index, ps[i].ID = file, line, index, id
	}
	return ps
}

// LoadDir reads and validates a dataset folder (see ReadDir and NewDataset).
func LoadDir(dir string) (*Dataset, error) {
	raw, err := ReadDir(dir)
	if err != nil {
		return nil, err
	}
	return NewDataset(raw)
}

// ReadDir reads a dataset folder without validating the documents: one <collection>.json file
// (a JSON array of objects) per collection, a missing file meaning an empty collection. Every
// problem is reported together in a *ValidationError: any other file whose name ends in .json
// in any case (talks.JSON, Talks.json, staff.json: a file the user meant as data is never
// skipped silently), broken JSON, and a folder without departments (an empty or wrong folder
// would otherwise be a clean dataset with nothing to check). Other files, such as a README, are
// not read.
func ReadDir(dir string) (map[string][]RawDoc, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read dataset folder: %w", errors.Join(ErrInvalid, err))
	}
	var probs []Problem
	for _, e := range entries {
		name := e.Name()
		lower := strings.ToLower(strings.TrimSpace(name))
		if !strings.HasSuffix(lower, ".json") {
			continue
		}
		stem := strings.TrimSuffix(name, ".json")
		if name == stem+".json" && Lookup(stem) != nil {
			continue
		}
		if c := Lookup(strings.TrimSuffix(lower, ".json")); c != nil {
			probs = append(probs, Problem{File: name, Index: -1, Kind: KindFile, Message: fmt.Sprintf("is not read: the file of collection %s must be named exactly %s.json (lower case)", c.Name, c.Name)})
			continue
		}
		probs = append(probs, Problem{File: name, Index: -1, Kind: KindFile, Message: "is not a collection of DOMAIN.md (expected one of " + collectionFiles() + ")"})
	}
	raw := map[string][]RawDoc{}
	departments := false // departments.json was read, or failed with a problem of its own
	for _, c := range Collections {
		file := c.Name + ".json"
		data, err := os.ReadFile(filepath.Join(dir, file))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if c.Name == "departments" {
			departments = true
		}
		if err != nil {
			probs = append(probs, Problem{File: file, Index: -1, Kind: KindFile, Message: err.Error()})
			continue
		}
		docs, p := DecodeArray(file, data)
		if p != nil {
			probs = append(probs, *p)
			continue
		}
		raw[c.Name] = docs
		if c.Name == "departments" && len(docs) == 0 {
			probs = append(probs, Problem{File: file, Index: -1, Kind: KindFile, Message: "holds no department: a dataset needs at least its organ, so an empty one would check nothing"})
		}
	}
	if !departments {
		probs = append(probs, Problem{File: "departments.json", Index: -1, Kind: KindFile,
			Message: "is missing: a dataset folder needs its departments (at least the organ), so this folder would check nothing; is it the right folder?"})
	}
	if len(probs) > 0 {
		return nil, &ValidationError{Problems: probs}
	}
	return raw, nil
}

func collectionFiles() string {
	names := make([]string, len(Collections))
	for i, c := range Collections {
		names[i] = c.Name + ".json"
	}
	return strings.Join(names, ", ")
}

// DecodeArray decodes a JSON array of documents, keeping each one's line. Numbers stay
// json.Number so that integers are exact. A syntax error is returned as one Problem naming the
// line and column.
func DecodeArray(file string, data []byte) ([]RawDoc, *Problem) {
	docs, p, _ := DecodeArrayContext(context.Background(), file, data)
	return docs, p
}

// DecodeArrayContext is DecodeArray that stops between documents once ctx ends (the client
// went away), returning ctx's error. Its time is linear in the size of data: lines are counted
// once, forward from the previous document, never again from the start.
func DecodeArrayContext(ctx context.Context, file string, data []byte) ([]RawDoc, *Problem, error) {
	docs, p := decodeArray(ctx, file, data)
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return docs, p, nil
}

func decodeArray(ctx context.Context, file string, data []byte) ([]RawDoc, *Problem) {
	// A UTF-8 byte order mark (a file saved "UTF-8 with BOM") is not part of the JSON; RFC 8259
	// lets a reader ignore it, and an editor does not count it in a line's columns.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	fail := func(off int64, msg string) *Problem {
		line, col := lineCol(data, off)
		return &Problem{File: file, Index: -1, Kind: KindJSON, Message: fmt.Sprintf("line %d, column %d: %s", line, col, msg)}
	}
	// JSON is UTF-8; the decoder would read any other byte as U+FFFD, so a file saved in GBK
	// (a Chinese Windows editor's "ANSI") would lose every Chinese name without a word.
	if !utf8.Valid(data) {
		return nil, fail(notUTF8(data), "not UTF-8 text (a file saved in GBK or another encoding?): save it as UTF-8")
	}
	// One pass over the text finds nesting deeper than MaxDepth, refused before the decoder
	// (whose stack it would grow), and a key twice in one object, refused once the text is
	// known to be JSON (a syntax error says more).
	shape := scanJSON(data, MaxDepth)
	if shape.deep >= 0 {
		return nil, fail(shape.deep, fmt.Sprintf("JSON nested deeper than %d levels; no record is that deep", MaxDepth))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// The decoder counts a syntax error's offset from the start of the value it was decoding,
	// not of the file, so an error is located (and described) by checking the whole file again.
	locate := func(err error) (int64, string) {
		var se *json.SyntaxError
		if errors.As(json.Unmarshal(data, new(json.RawMessage)), &se) {
			return se.Offset - 1, se.Error()
		}
		return dec.InputOffset(), err.Error()
	}
	syntax := func(err error) *Problem {
		off, msg := locate(err)
		return fail(off, "invalid JSON: "+msg)
	}
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, fail(0, "empty file: expected a JSON array of documents")
	}
	if err != nil {
		return nil, syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fail(0, "expected a JSON array of documents")
	}
	var docs []RawDoc
	lines := lineCounter{data: data, line: 1}
	for i := 0; dec.More(); i++ {
		if ctx.Err() != nil {
			return nil, nil
		}
		start := dec.InputOffset()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, syntax(err)
		}
		docs = append(docs, RawDoc{File: file, Line: lines.at(skipSpace(data, start)), Index: i, Value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntax(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		off, _ := locate(errors.New("unexpected data after the array"))
		return nil, fail(off, "unexpected data after the array")
	}
	if shape.dup >= 0 {
		return nil, fail(shape.dup, fmt.Sprintf("the key %q appears twice in one object: a document names each field once", shape.key))
	}
	return docs, nil
}

// DuplicateKey finds the first key that appears twice in one object of data, valid JSON: the
// decoder keeps the last, so {"recorded": false, "recorded": true} would read as recorded and
// the first value be dropped unseen. It returns the offset of the second one. Keys compare as
// decoded ("\u0069d" is "id").
func DuplicateKey(data []byte) (int64, string, bool) {
	s := scanJSON(data, 0)
	return s.dup, s.key, s.dup >= 0
}

// jsonShape is what scanJSON finds: the offset where nesting first passes its limit (deep),
// and of the first key twice in one object (dup, the key); -1 for none.
type jsonShape struct {
	deep, dup int64
	key       string
}

// scanJSON is the one pass over JSON text outside its strings, in time linear in its size:
// nesting deeper than limit (0: none), and keys repeated in one object. The frames of the
// nesting and their lists of keys are reused from one object to the next. Text that is not
// JSON gives no error here; the decoder reports it.
func scanJSON(data []byte, limit int) jsonShape {
	out := jsonShape{deep: -1, dup: -1}
	type frame struct {
		object, wantKey bool
		keys            [][]byte        // the keys so far, while few
		set             map[string]bool // then all of them
	}
	var stack []frame
	push := func(object bool) {
		if len(stack) < cap(stack) {
			stack = stack[:len(stack)+1]
			f := &stack[len(stack)-1]
			f.object, f.wantKey, f.keys, f.set = object, object, f.keys[:0], nil
			return
		}
		stack = append(stack, frame{object: object, wantKey: object})
	}
	start, inString, escaped, hasEscape := 0, false, false, false
	for i, b := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped, hasEscape = true, true
			case b == '"':
				inString = false
				top := len(stack) - 1
				if out.dup >= 0 || top < 0 || !stack[top].object || !stack[top].wantKey {
					continue // after the first repeated key, only the depth is looked for
				}
				f := &stack[top]
				key := data[start+1 : i]
				if hasEscape {
					var k string
					if err := json.Unmarshal(data[start:i+1], &k); err != nil {
						continue // not valid JSON: the decoder has said so
					}
					key = []byte(k)
				}
				switch {
				case f.set != nil:
					if f.set[string(key)] {
						out.dup, out.key = int64(start), string(key)
					}
					f.set[string(key)] = true
				case slices.ContainsFunc(f.keys, func(k []byte) bool { return bytes.Equal(k, key) }):
					out.dup, out.key = int64(start), string(key)
				case len(f.keys) < 16:
					f.keys = append(f.keys, key)
				default:
					f.set = map[string]bool{string(key): true}
					for _, k := range f.keys {
						f.set[string(k)] = true
					}
				}
			}
		case b == '"':
			start, inString, hasEscape = i, true, false
		case b == '{' || b == '[':
			if limit > 0 && len(stack) >= limit {
				out.deep = int64(i)
				return out
			}
			push(b == '{')
		case b == '}' || b == ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case b == ':' && len(stack) > 0:
			stack[len(stack)-1].wantKey = false
		case b == ',' && len(stack) > 0:
			stack[len(stack)-1].wantKey = stack[len(stack)-1].object
		}
	}
	return out
}

// notUTF8 is the offset of the first byte of data that does not begin a UTF-8 character.
func notUTF8(data []byte) int64 {
	for off := 0; off < len(data); {
		r, n := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && n <= 1 {
			return int64(off)
		}
		off += n
	}
	return int64(len(data))
}

// MaxDepth is the deepest JSON nesting a dataset file or batch may have. The deepest record is
// four levels (array, record, tasks, task); the limit keeps hostile input from exhausting the
// decoder's stack.
const MaxDepth = 32

func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) && strings.ContainsRune(" \t\r\n,", rune(data[off])) {
		off++
	}
	return off
}

// lineCounter numbers lines for offsets that only grow: each call counts the line breaks
// between the previous offset and this one, so numbering a whole file costs one pass.
type lineCounter struct {
	data []byte
	off  int64 // offset counted up to
	line int   // line at off
}

func (c *lineCounter) at(off int64) int {
	off = min(max(off, c.off), int64(len(c.data)))
	c.line += bytes.Count(c.data[c.off:off], []byte{'\n'})
	c.off = off
	return c.line
}

func lineCol(data []byte, off int64) (int, int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// Tree is the department forest of a dataset: parents, children and each department's organ.
type Tree struct {
	depts    map[string]Doc
	children map[string][]string
	organ    map[string]string
	organs   []string // the roots, sorted: a tree never changes once made
}

// NewTree indexes departments. Departments in a cycle have no organ.
func NewTree(depts []Doc) *Tree {
	t := &Tree{depts: make(map[string]Doc, len(depts)), children: map[string][]string{}, organ: map[string]string{}}
	for _, d := range depts {
		t.depts[d.ID()] = d
		if p := d.Str("parent_id"); p != "" {
			t.children[p] = append(t.children[p], d.ID())
		}
	}
	for _, d := range depts {
		if d.Str("parent_id") == "" {
			t.walk(d.ID(), func(id string) { t.organ[id] = d.ID() })
		}
	}
	for id, d := range t.depts {
		if d.Str("parent_id") == "" {
			t.organs = append(t.organs, id)
		}
	}
	slices.Sort(t.organs)
	return t
}

func (t *Tree) walk(root string, fn func(id string)) {
	stack := []string{root}
	seen := map[string]bool{}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		fn(id)
		stack = append(stack, t.children[id]...)
	}
}

// Department returns the department with the id, or nil.
func (t *Tree) Department(id string) Doc { return t.depts[id] }

// Organ returns the id of the organ at the root of department id's tree, or "".
func (t *Tree) Organ(id string) string { return t.organ[id] }

// Organs returns the ids of the organs, sorted (found once, when the tree is made: the overview
// asks for them on every page, and at 1,000 organs walking 71,000 departments was half its CPU).
func (t *Tree) Organs() []string { return slices.Clone(t.organs) }

// Subtree returns the set of department ids at or under id.
func (t *Tree) Subtree(id string) map[string]bool {
	set := map[string]bool{}
	if _, ok := t.depts[id]; ok {
		t.walk(id, func(d string) { set[d] = true })
	}
	return set
}

// Covering lists the scopes whose scans and reports cover department: the whole store (""),
// the department and its ancestors, nearest first. It stops at a department the tree does
// not hold and at one already listed (a cycle).
func (t *Tree) Covering(department string) []string {
	scopes := []string{""}
	seen := map[string]bool{} // a long chain costs its length, not its square
	for cur := department; cur != "" && !seen[cur]; {
		d := t.depts[cur]
		if d == nil {
			break
		}
		seen[cur] = true
		scopes = append(scopes, cur)
		cur = d.Str("parent_id")
	}
	return scopes
}

// Cycles returns the ids of departments that are their own ancestors, sorted.
func (t *Tree) Cycles() []string {
	var ids []string
	for id, d := range t.depts {
		if t.organ[id] != "" || d.Str("parent_id") == "" {
			continue
		}
		// Not reachable from a root: either in a cycle or under one (or under a missing parent).
		for cur, steps := d.Str("parent_id"), 0; cur != "" && steps <= len(t.depts); steps++ {
			if cur == id {
				ids = append(ids, id)
				break
			}
			p, ok := t.depts[cur]
			if !ok {
				break
			}
			cur = p.Str("parent_id")
		}
	}
	slices.Sort(ids)
	return ids
}

// LatestDate returns the latest date by which a record of raw is dated (DOMAIN.md: an
// appointment by effective_on, a talk or meeting by held_on, a book or suggestion by issued_on,
// an entry or inspection by date, a major matter by event_on): the last day the dataset records
// anything, a fitting as-of date for a scan of a sample or an archive (serve --load). Deadlines
// (due_on) and planned departures (left_on) are not what a record is dated by and do not count.
// It returns "" when no record is dated; values that are not YYYY-MM-DD dates are skipped (the
// store's validation refuses them).
func LatestDate(raw map[string][]RawDoc) string {
	latest := ""
	see := func(v any) {
		if s, ok := v.(string); ok && s > latest && ValidDate(s) {
			latest = s
		}
	}
	for name, docs := range raw {
		c := Lookup(name)
		if c == nil {
			continue
		}
		for _, d := range docs {
			obj, ok := d.Value.(map[string]any)
			if !ok {
				continue
			}
			if c.DateField != "" {
				see(obj[c.DateField])
			}
			for array, field := range c.Nested {
				items, _ := obj[array].([]any)
				for _, it := range items {
					if m, ok := it.(map[string]any); ok {
						see(m[field])
					}
				}
			}
		}
	}
	return latest
}
