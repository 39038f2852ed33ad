package duty_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// batch returns a JSON array of about size bytes of people, one document over three lines, so
// that every document has its own line number to find.
func batch(size int) []byte {
	var b strings.Builder
	b.WriteString("[\n")
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "{\"id\": \"P-%d\", \"name\": \"张三%d\",\n \"department_id\": \"D-1\", \"rank\": \"staff\",\n \"roles\": [], \"active\": true}", i, i)
	}
	b.WriteString("\n]\n")
	return []byte(b.String())
}

func TestDecodeArrayLines(t *testing.T) {
	docs, p := duty.DecodeArray("people.json", batch(64<<10))
	if p != nil {
		t.Fatal(p)
	}
	for i, d := range docs {
		if want := 2 + 3*i; d.Line != want || d.Index != i {
			t.Fatalf("document %d: line %d index %d, want line %d", i, d.Line, d.Index, want)
		}
	}
}

// countdown is a context whose Err turns to Canceled after n calls: it shows that the decoder
// looks at its context between documents, without a clock.
type countdown struct {
	context.Context
	n atomic.Int64
}

func (c *countdown) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

func (c *countdown) Done() <-chan struct{} { return nil }

func (c *countdown) Deadline() (time.Time, bool) { return time.Time{}, false }

func TestDecodeArrayContextCancelled(t *testing.T) {
	data := batch(4 << 20)
	ctx := &countdown{Context: context.Background()}
	ctx.n.Store(10)
	docs, p, err := duty.DecodeArrayContext(ctx, "body", data)
	if !errors.Is(err, context.Canceled) || docs != nil || p != nil {
		t.Fatalf("cancelled after 10 documents: %d docs, problem %v, err %v; want context.Canceled", len(docs), p, err)
	}
	if left := ctx.n.Load(); left < -2 {
		t.Errorf("the decoder went on after the cancellation (%d more checks)", -left)
	}
	docs, p, err = duty.DecodeArrayContext(context.Background(), "body", data)
	if err != nil || p != nil || len(docs) == 0 {
		t.Fatalf("not cancelled: %d docs, %v, %v", len(docs), p, err)
	}
}

// BenchmarkDecodeArray shows that decoding is linear in the size of the batch: ns/op of the
// 4 and 16 MiB batches are about 4 and 16 times that of 1 MiB (it was quadratic: every document
// counted the lines from the start of the body again).
func BenchmarkDecodeArray(b *testing.B) {
	for _, mib := range []int{1, 4, 16} {
		data := batch(mib << 20)
		b.Run(fmt.Sprintf("%dMiB", mib), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, p := duty.DecodeArray("body", data); p != nil {
					b.Fatal(p)
				}
			}
		})
	}
}

// TestDecodeArrayDuplicateKeys: a key twice in one object makes the document ambiguous (the
// decoder would keep the last: {"recorded": false, "recorded": true} reads as recorded), so it
// is malformed JSON, located, and nothing is read; the same key in two objects is not.
func TestDecodeArrayDuplicateKeys(t *testing.T) {
	for _, tc := range []struct {
		note, data string
		want       string // "" for no problem
	}{
		{"in a document", "[\n{\"id\": \"T-1\", \"recorded\": false, \"recorded\": true}\n]", `line 2, column 34: the key "recorded" appears twice in one object`},
		{"spelt with an escape", `[{"id": "T-1", "\u0069d": "T-2"}]`, `line 1, column 16: the key "id" appears twice in one object`},
		{"in a nested object", `[{"id": "B-1", "tasks": [{"id": "a", "title": "x", "title": "y"}]}]`, `line 1, column 52: the key "title" appears twice in one object`},
		{"in two documents", `[{"id": "T-1", "kind": "general"}, {"id": "T-2", "kind": "general"}]`, ""},
		{"in two nested objects", `[{"id": "B-1", "tasks": [{"id": "a"}, {"id": "b"}], "entries": [{"id": "a"}]}]`, ""},
		{"as a value", `[{"id": "id", "name": "\"id\": \"x\""}]`, ""},
		{"after a closed object", `[{"a": {"b": 1}, "b": 2, "c": {"a": 1}}]`, ""},
	} {
		t.Run(tc.note, func(t *testing.T) {
			docs, p := duty.DecodeArray("talks.json", []byte(tc.data))
			switch {
			case tc.want == "" && p != nil:
				t.Errorf("DecodeArray: %v, want no problem", p)
			case tc.want != "" && p == nil:
				t.Errorf("DecodeArray: %d documents and no problem, want %q", len(docs), tc.want)
			case tc.want != "" && (!strings.Contains(p.String(), tc.want) || docs != nil || p.Kind != duty.KindJSON):
				t.Errorf("DecodeArray: %d documents, problem %v (%s), want only %q", len(docs), p, p.Kind, tc.want)
			}
		})
	}
}

// TestDecodeArrayDepth: nesting up to MaxDepth is read (and then judged by the schema), one
// level more is refused where it passes the limit, before anything is decoded, also after a
// repeated key; brackets inside strings do not count.
func TestDecodeArrayDepth(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	deep := fmt.Sprintf("line 1, column %d: JSON nested deeper than %d levels", duty.MaxDepth+1, duty.MaxDepth)
	for _, tc := range []struct {
		note, data, want string
	}{
		{"at the limit", nest(duty.MaxDepth), ""},
		{"one over", nest(duty.MaxDepth + 1), deep},
		{"one over after a repeated key", `[{"a": 1, "a": 2}, ` + nest(duty.MaxDepth) + "]", fmt.Sprintf("JSON nested deeper than %d levels", duty.MaxDepth)},
		{"brackets in a string", `[{"id": "` + strings.Repeat("[{", 100) + `"}]`, ""},
	} {
		t.Run(tc.note, func(t *testing.T) {
			_, p := duty.DecodeArray("talks.json", []byte(tc.data))
			switch {
			case tc.want == "" && p != nil && strings.Contains(p.String(), "nested deeper"):
				t.Errorf("DecodeArray: %v, want no depth problem", p)
			case tc.want != "" && (p == nil || !strings.Contains(p.String(), tc.want)):
				t.Errorf("DecodeArray: %v, want %q", p, tc.want)
			}
		})
	}
}

// TestDecodeArrayByteOrderMark: a file saved "UTF-8 with BOM" (Notepad's old default) reads as
// without it, as RFC 8259 lets a reader do, and its problems are located as an editor shows
// them, the mark not counted.
func TestDecodeArrayByteOrderMark(t *testing.T) {
	docs, p := duty.DecodeArray("talks.json", []byte("\xef\xbb\xbf[{\"id\": \"T-1\"}]"))
	if p != nil || len(docs) != 1 {
		t.Errorf("DecodeArray with a byte order mark: %d documents, %v; want the one document", len(docs), p)
	}
	_, p = duty.DecodeArray("talks.json", []byte("\xef\xbb\xbf[{\"id\" \"T-1\"}]"))
	_, without := duty.DecodeArray("talks.json", []byte("[{\"id\" \"T-1\"}]"))
	if p == nil || without == nil || !strings.Contains(p.String(), "line 1, column 8:") || p.String() != without.String() {
		t.Errorf("DecodeArray of a malformed file with a byte order mark: %v; want line 1, column 8, as without the mark (%v)", p, without)
	}
}

// TestDecodeArrayNotUTF8: a file saved in GBK (a Chinese Windows editor's "ANSI") or another
// encoding is refused, located at its first byte that is not UTF-8, instead of read with each
// such name turned into U+FFFD (and stored so by an import).
func TestDecodeArrayNotUTF8(t *testing.T) {
	gbk := []byte("[{\"id\": \"P-1\",\n \"name\": \"\xd5\xc5\xc8\xfd\"}]") // 张三 in GBK
	docs, p := duty.DecodeArray("people.json", gbk)
	if p == nil || docs != nil || p.Kind != duty.KindJSON || !strings.Contains(p.String(), "line 2, column 11: not UTF-8") {
		t.Errorf("DecodeArray of GBK text: %d documents, %v; want a problem at line 2, column 11", len(docs), p)
	}
	if _, p := duty.DecodeArray("people.json", []byte("[{\"id\": \"P-1\", \"name\": \"张三\"}]")); p != nil {
		t.Errorf("DecodeArray of UTF-8 text: %v", p)
	}
}
