// Package policy is dutycheck's only importer of OPA: it loads and compiles a bundle of Rego
// duties and their parameters, runs the bundle's Rego tests, and evaluates one organ's records
// against the duties, returning violations in the report shape.
package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/policies"
)

// Bundle is the files of a policy bundle: Rego modules (*.rego) and parameter data (data.json,
// placed at its folder's path under data), keyed by slash-separated path relative to the
// bundle root.
type Bundle struct {
	Files map[string]string
}

// LoadFS reads the *.rego and data.json files of fsys.
func LoadFS(fsys fs.FS) (*Bundle, error) {
	b := &Bundle{Files: map[string]string{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if !isBundleFile(p) {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		b.Files[p] = string(data)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read policy bundle: %w", err)
	}
	if len(b.Files) == 0 {
		return nil, fmt.Errorf("read policy bundle: %w: no .rego or data.json files", duty.ErrInvalid)
	}
	return b, nil
}

// LoadDir reads the bundle in folder dir.
func LoadDir(dir string) (*Bundle, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("policy folder %q: %w: not a readable folder", dir, duty.ErrInvalid)
	}
	return LoadFS(os.DirFS(dir))
}

func isBundleFile(p string) bool {
	return strings.HasSuffix(p, ".rego") || path.Base(p) == "data.json" || p == OverridesFile || p == SwitchedOffFile
}

// IsBundleFile reports whether a bundle path names a file the bundle reads: a .rego module, a
// data.json, OverridesFile or SwitchedOffFile.
func IsBundleFile(p string) bool { return isBundleFile(p) }

// IsTest reports whether the file is a Rego test module.
func IsTest(p string) bool { return strings.HasSuffix(p, "_test.rego") }

// Revision is a content hash of the bundle: equal files give equal revisions.
func (b *Bundle) Revision() string {
	names := make([]string, 0, len(b.Files))
	for n := range b.Files {
		names = append(names, n)
	}
	slices.Sort(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00%s\x00", n, len(b.Files[n]), b.Files[n])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Clone returns a copy whose files can be changed without touching b.
func (b *Bundle) Clone() *Bundle {
	c := &Bundle{Files: make(map[string]string, len(b.Files))}
	for k, v := range b.Files {
		c.Files[k] = v
	}
	return c
}

// data merges the data.json files into one document, each at its folder's path.
func (b *Bundle) data() (map[string]any, []duty.BundleProblem) {
	root := map[string]any{}
	var probs []duty.BundleProblem
	names := make([]string, 0)
	for n := range b.Files {
		if path.Base(n) == "data.json" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		var v any
		// Check the whole file first: it also refuses data after the object, and a syntax
		// error's offset counts the bad byte itself.
		var se *json.SyntaxError
		if err := json.Unmarshal([]byte(b.Files[n]), new(json.RawMessage)); errors.As(err, &se) {
			line, col := lineCol(b.Files[n], se.Offset-1)
			probs = append(probs, duty.BundleProblem{File: n, Row: line, Col: col, Kind: duty.BundleJSON, Message: "invalid JSON: " + se.Error()})
			continue
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(b.Files[n])))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			probs = append(probs, duty.BundleProblem{File: n, Row: 1, Col: 1, Kind: duty.BundleJSON, Message: "invalid JSON: " + err.Error()})
			continue
		}
		obj, ok := v.(map[string]any)
		if !ok {
			probs = append(probs, duty.BundleProblem{File: n, Row: 1, Col: 1, Kind: duty.BundleData, Message: "a data.json file must hold a JSON object"})
			continue
		}
		target := root
		if dir := path.Dir(n); dir != "." {
			for _, seg := range strings.Split(dir, "/") {
				next, ok := target[seg].(map[string]any)
				if !ok {
					next = map[string]any{}
					target[seg] = next
				}
				target = next
			}
		}
		merge(target, obj)
	}
	return root, probs
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

func lineCol(s string, off int64) (int, int) {
	off = min(max(off, 0), int64(len(s)))
	before := s[:off]
	return strings.Count(before, "\n") + 1, int(off) - strings.LastIndexByte(before, '\n')
}

// Builtin returns the bundle embedded in the binary (package policies).
func Builtin() *Bundle {
	b, err := LoadFS(policies.FS)
	if err != nil {
		panic("embedded policy bundle: " + err.Error()) // the build embeds it; this cannot fail
	}
	return b
}
