package duty_test

import (
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
)

func TestValidID(t *testing.T) {
	tests := []struct {
		note string
		id   string
		want bool
	}{
		{"ascii with separators", "ORG-1-DIV-04", true},
		{"colon, dot and underscore", "talk:2025.pre_1", true},
		{"Chinese", "省人大-办公厅", true},
		{"one character", "x", true},
		{"128 characters", strings.Repeat("a", 128), true},
		{"128 Chinese characters", strings.Repeat("机", 128), true},
		{"empty", "", false},
		{"129 characters", strings.Repeat("a", 129), false},
		{"two megabytes", strings.Repeat("a", 2<<20), false},
		{"slash", "ORG-1/DIV", false},
		{"backslash", `ORG-1\DIV`, false},
		{"space", "ORG 1", false},
		{"full-width space", "ORG\u30001", false},
		{"tab", "ORG\t1", false},
		{"newline", "ORG\n1", false},
		{"NUL", "ORG\x001", false},
		{"DEL", "ORG\x7f1", false},
		{"right-to-left override", "ORG\u202e1", false},
		{"zero-width space", "ORG\u200b1", false},
		{"formula", "=cmd|' /C calc'!A0", false},
		{"at", "@SUM(A1)", false},
		{"plus", "+1", false},
		{"quote", `a"b`, false},
		{"percent", "a%2Fb", false},
		{"question mark", "a?b", false},
		{"hash", "a#b", false},
		{"dot", ".", false},
		{"dot dot", "..", false},
		{"leading dash", "-DIV", false},
		{"leading underscore", "_x", false},
		{"leading colon", ":x", false},
		{"full-width digit first", "１号", true},
		{"Hangul filler alone (a letter that shows nothing)", "\u3164", false},
		{"Hangul filler after a letter", "x\u3164", false},
		{"Hangul choseong filler", "x\u115f", false},
		{"Hangul jungseong filler", "x\u1160", false},
		{"half-width Hangul filler", "x\uffa0", false},
		{"Hangul syllable", "한글", true},
		{"invalid UTF-8", "a\xffb", false},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			if got := duty.ValidID(tc.id); got != tc.want {
				t.Errorf("ValidID(%.60q) = %v, want %v", tc.id, got, tc.want)
			}
		})
	}
}

// TestNormalizeRefusesBadIDs: every id field, top-level and nested, goes through ValidID, and the
// message does not echo a huge id back.
func TestNormalizeRefusesBadIDs(t *testing.T) {
	tests := []struct {
		note, collection, doc, field string
	}{
		{"slash in a department id", "departments", `{"id": "ORG-1/DIV", "name": "x", "kind": "organ"}`, "id"},
		{"control character", "departments", `{"id": "ORG\u0001", "name": "x", "kind": "organ"}`, "id"},
		{"whitespace", "meetings", `{"id": "M 1", "kind": "joint", "department_id": "D", "held_on": "2025-01-01"}`, "id"},
		{"nested task id", "record_books", `{"id": "B-1", "year": 2025, "holder_id": "P", "issued_on": "2025-01-01",
			"tasks": [{"id": "T/1", "title": "t", "due_on": "2025-02-01"}], "entries": [], "inspections": []}`, "tasks[0].id"},
		{"long id", "departments", `{"id": "` + strings.Repeat("长", 200) + `", "name": "x", "kind": "organ"}`, "id"},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			_, probs := normalize(t, tc.collection, tc.doc)
			found := false
			for _, p := range probs {
				if p.Field == tc.field {
					found = true
					if !strings.Contains(p.Message, "1 to 128 characters") || len(p.Message) > 600 {
						t.Errorf("message %q: want the rule, and short", p.Message)
					}
				}
			}
			if !found {
				t.Errorf("no problem on field %s; got %v", tc.field, probs)
			}
		})
	}
	if _, probs := normalize(t, "departments", `{"id": "省人大机关", "name": "x", "kind": "organ"}`); len(probs) > 0 {
		t.Errorf("a Chinese id was refused: %v", probs)
	}
}
