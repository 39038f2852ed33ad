// Package duty is the domain of dutycheck: the ten collections of duty records, their schema and
// validation, datasets and organs, and the violations and reports a scan produces; and the
// services the edges use (services.go, ledgerservice.go, policies.go), with their requests,
// answers and errors.
//
// It imports no database, no HTTP framework and no policy engine; every other package talks in
// these types.
package duty

import (
	"errors"
	"fmt"
	"strings"
)

// Doc is one validated record: a JSON-like object whose values are string, bool, int64,
// []any and map[string]any. Every Doc has a string "id".
type Doc map[string]any

// ID returns the document's id.
func (d Doc) ID() string { s, _ := d["id"].(string); return s }

// Str returns the string field f, or "" when it is absent or not a string.
func (d Doc) Str(f string) string { s, _ := d[f].(string); return s }

// Error kinds. Callers test them with errors.Is; the HTTP layer maps them to status codes.
var (
	ErrInvalid     = errors.New("invalid input")
	ErrNotFound    = errors.New("not found")
	ErrConflict    = errors.New("conflict")
	ErrUnavailable = errors.New("unavailable")
	// ErrBusy is a request refused because the service is at a limit it keeps (concurrent
	// scans); the same request succeeds later.
	ErrBusy = errors.New("busy")
	// ErrTooLarge is an upload over the size the service accepts (HTTP 413).
	ErrTooLarge = errors.New("too large")
	// ErrCompletedAnyway marks the error of a write that failed after its journal entry was
	// written and was then completed from the journal: every record of it is written, audited.
	ErrCompletedAnyway = errors.New("the write was completed from its journal")
	// ErrUndone marks the error of a batch of new records that failed after its journal entry
	// was written, before its first audit entry, and was then undone: nothing of it is stored.
	ErrUndone = errors.New("the write was undone from its journal")
	// ErrCompletedLater marks the error of a write that failed after its journal entry was
	// written and could not be completed at once: the store completes it at its next start (or
	// another process sharing it does), so it is neither lost nor half-visible for long.
	ErrCompletedLater = errors.New("the write is completed from its journal at the next start")
	// ErrEmptyStore is a scan of the whole store while it holds no department: it would check
	// nothing, and its clean report would read as compliance. It is an ErrConflict (409).
	ErrEmptyStore = fmt.Errorf("the store holds no department, so a scan would check nothing: %w", ErrConflict)
)

// Problem is one thing wrong with one document of a dataset or a batch.
type Problem struct {
	File  string `json:"file,omitempty"`
	Line  int    `json:"line,omitempty"`
	Index int    `json:"index"`
	// ID and Field are always in the JSON (INTERFACES.md: {index, id, field, message}), empty
	// where the document has no usable id or the problem is the whole document's.
	ID    string `json:"id"`
	Field string `json:"field"`
	// Kind is what sort of problem it is, for clients that word it themselves (the pages and
	// the spreadsheet import word it in Chinese from here, see Chinese); Message is the English.
	Kind    ProblemKind `json:"kind,omitempty"`
	Message string      `json:"message"`
	// Args are the values the kind's Chinese names (the range of an integer, the id a
	// reference names).
	Args []string `json:"-"`
}

func (p Problem) String() string {
	s := ""
	if p.File != "" {
		s = p.File
		if p.Line > 0 {
			s += fmt.Sprintf(":%d", p.Line)
		}
		s += ": "
	}
	if p.Index < 0 {
		return s + p.Message
	}
	s += fmt.Sprintf("document %d", p.Index)
	if p.ID != "" {
		s += fmt.Sprintf(" (id %q)", p.ID)
	}
	if p.Field != "" {
		s += ", field " + p.Field
	}
	return s + ": " + p.Message
}

// ValidationError lists every problem found in a dataset or batch. It matches ErrInvalid.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0].String()
	}
	// A builder, not +=: a refused 30 MiB batch has hundreds of thousands of problems, and
	// concatenating them one by one copied the message again for each (quadratic).
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }
