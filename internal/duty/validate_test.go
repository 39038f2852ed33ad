package duty_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// The enumerations as users read them in messages.
const (
	kindsList  = "organ, party_committee, discipline_committee, special_committee, office, division, unit, branch"
	ranksList  = "bureau, division, section, staff"
	rolesList  = "party_group_secretary, party_group_member, department_head, discipline_member"
	talksList  = "general, pre_appointment, reminder, petition_verification"
	levelsList = "party_group, party_group_secretary, leaders, party_committee, discipline_committee, department_heads, special_committee"
)

// decodeValue decodes one JSON value the way dataset files are decoded (numbers as json.Number).
func decodeValue(tb testing.TB, text string) any {
	tb.Helper()
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		tb.Fatalf("test document %s: %v", text, err)
	}
	return v
}

// normalize checks one document of collection against its schema.
func normalize(tb testing.TB, collection, text string) (duty.Doc, []duty.Problem) {
	tb.Helper()
	c := duty.Lookup(collection)
	if c == nil {
		tb.Fatalf("no collection %q", collection)
	}
	return duty.NormalizeRaw(c, decodeValue(tb, text))
}

// prob is a Problem with only the parts Normalize fills in.
func prob(field, message string) duty.Problem { return duty.Problem{Field: field, Message: message} }

func TestNormalizeFieldKinds(t *testing.T) {
	const (
		dept   = `"id": "D1", "name": "处室", "kind": "division", "parent_id": "ORG"`
		person = `"id": "P1", "name": "张三", "department_id": "D1", "rank": "division", "active": true`
		talk   = `"id": "T1", "kind": "general", "person_id": "P1"`
		letter = `"id": "L1", "issuer_id": "P1", "signer_id": "P2", "signed_by_issuer": true, "signed_by_signer": true`
		book   = `"id": "B1", "year": 2025, "holder_id": "P1", "issued_on": "2025-01-05", "entries": [], "inspections": []`
		sugg   = `"id": "S1", "department_id": "D1", "issued_on": "2025-01-05"`
		list   = `"id": "R1", "year": 2025, "level": "party_group", "department_id": "ORG"`
		file   = `"id": "F1", "person_id": "P1", "updated_on": "2025-01-05"`
		item   = `"id": "I1", "text": "整改", "due_on": "2025-03-01"`
	)
	tests := []struct {
		name       string
		collection string
		doc        string
		want       []duty.Problem
	}{
		// Missing required fields, one per kind, with what was expected.
		{name: "missing id", collection: "departments", doc: `{"name": "机关", "kind": "organ"}`,
			want: []duty.Problem{prob("id", "is required (a non-empty string)")}},
		{name: "missing string", collection: "departments", doc: `{"id": "ORG", "kind": "organ"}`,
			want: []duty.Problem{prob("name", "is required (a non-empty string)")}},
		{name: "missing enum", collection: "departments", doc: `{"id": "ORG", "name": "机关"}`,
			want: []duty.Problem{prob("kind", "is required (one of "+kindsList+")")}},
		{name: "missing reference", collection: "people", doc: `{"id": "P1", "name": "张三", "rank": "staff", "roles": [], "active": true}`,
			want: []duty.Problem{prob("department_id", "is required (the id of a record in departments)")}},
		{name: "missing date", collection: "appointments", doc: `{"id": "A1", "person_id": "P1", "department_id": "D1", "position": "处长", "rank": "division"}`,
			want: []duty.Problem{prob("effective_on", "is required (a date YYYY-MM-DD)")}},
		{name: "missing bool", collection: "people", doc: `{"id": "P1", "name": "张三", "department_id": "D1", "rank": "staff", "roles": []}`,
			want: []duty.Problem{prob("active", "is required (true or false)")}},
		{name: "missing integer", collection: "letters", doc: `{"year": 2025, ` + letter + `}`,
			want: []duty.Problem{prob("level", "is required (an integer from 1 to 3)")}},
		{name: "missing enum array", collection: "people", doc: `{` + person + `}`,
			want: []duty.Problem{prob("roles", "is required (an array of: "+rolesList+")")}},
		{name: "missing string array", collection: "responsibility_lists", doc: `{` + list + `}`,
			want: []duty.Problem{prob("items", "is required (an array of strings)")}},
		{name: "missing object array", collection: "record_books", doc: `{` + book + `}`,
			want: []duty.Problem{prob("tasks", "is required (an array of objects)")}},
		{name: "null required field counts as missing", collection: "talks", doc: `{` + talk + `, "held_on": null}`,
			want: []duty.Problem{prob("held_on", "is required (a date YYYY-MM-DD)")}},
		{name: "every missing field at once", collection: "meetings", doc: `{}`,
			want: []duty.Problem{
				prob("id", "is required (a non-empty string)"),
				prob("kind", "is required (a non-empty string)"),
				prob("department_id", "is required (the id of a record in departments)"),
				prob("held_on", "is required (a date YYYY-MM-DD)"),
			}},

		// Control characters: none in a string, only tabs and line breaks in a text.
		{name: "NUL in a name", collection: "departments", doc: `{"id": "D1", "name": "处\u0000室", "kind": "division", "parent_id": "ORG"}`,
			want: []duty.Problem{prob("name", "must not contain control characters, got U+0000 at byte 3")}},
		{name: "bell in a list item", collection: "responsibility_lists", doc: `{` + list + `, "items": ["好", "\u0007"]}`,
			want: []duty.Problem{prob("items[1]", "must not contain control characters, got U+0007 at byte 0")}},
		{name: "C1 control in a text", collection: "suggestions", doc: `{` + sugg + `, "items": [{"id": "I1", "text": "整改\u0085", "due_on": "2025-03-01", "status": "open"}]}`,
			want: []duty.Problem{prob("items[0].text", "must not contain control characters, got U+0085 at byte 6")}},
		{name: "lines and tabs in a text", collection: "suggestions", doc: `{` + sugg + `, "items": [{"id": "I1", "text": "一、整改\n\t二、\r\n", "due_on": "2025-03-01", "status": "open"}]}`},
		{name: "a line break in a name", collection: "departments", doc: `{"id": "D1", "name": "处\n室", "kind": "division", "parent_id": "ORG"}`,
			want: []duty.Problem{prob("name", "must not contain control characters, got U+000A at byte 3")}},

		// Optional fields may be absent or null.
		{name: "optional fields absent", collection: "talks", doc: `{` + talk + `, "held_on": "2025-01-05"}`},
		{name: "optional fields null", collection: "talks", doc: `{` + talk + `, "held_on": "2025-01-05", "conducted_by": null, "recorded": null}`},
		{name: "organ without parent", collection: "departments", doc: `{"id": "ORG", "name": "机关", "kind": "organ"}`},

		// Wrong JSON types.
		{name: "number for string", collection: "departments", doc: `{"id": "D1", "name": 5, "kind": "division", "parent_id": "ORG"}`,
			want: []duty.Problem{prob("name", "must be a non-empty string, got a number")}},
		{name: "number for id", collection: "departments", doc: `{"id": 7, "name": "处室", "kind": "division", "parent_id": "ORG"}`,
			want: []duty.Problem{prob("id", "must be a non-empty string, got a number")}},
		{name: "boolean for reference", collection: "talks", doc: `{` + talk + `, "held_on": "2025-01-05", "conducted_by": true}`,
			want: []duty.Problem{prob("conducted_by", "must be the id of a record in people, got a boolean")}},
		{name: "string for bool", collection: "people", doc: `{"id": "P1", "name": "张三", "department_id": "D1", "rank": "staff", "roles": [], "active": "yes"}`,
			want: []duty.Problem{prob("active", "must be true or false, got a string")}},
		{name: "string for integer", collection: "letters", doc: `{"year": 2025, "level": "2", ` + letter + `}`,
			want: []duty.Problem{prob("level", "must be an integer from 1 to 3, got a string")}},
		{name: "number for date", collection: "talks", doc: `{` + talk + `, "held_on": 20250105}`,
			want: []duty.Problem{prob("held_on", "must be a date YYYY-MM-DD, got a number")}},
		{name: "string for enum array", collection: "people", doc: `{` + person + `, "roles": "department_head"}`,
			want: []duty.Problem{prob("roles", "must be an array of: "+rolesList+", got a string")}},
		{name: "object for reference array", collection: "people", doc: `{` + person + `, "roles": [], "supervises": {"id": "D1"}}`,
			want: []duty.Problem{prob("supervises", "must be an array of ids of records in departments, got an object")}},
		{name: "number in reference array", collection: "people", doc: `{` + person + `, "roles": [], "supervises": ["D1", 2]}`,
			want: []duty.Problem{prob("supervises[1]", "must be a string, got a number")}},
		{name: "object for object array", collection: "suggestions", doc: `{` + sugg + `, "items": {"id": "I1"}}`,
			want: []duty.Problem{prob("items", "must be an array of objects, got an object")}},
		{name: "array for text", collection: "record_books", doc: `{` + book + `, "tasks": [{"id": "T1", "title": ["a"], "due_on": "2025-03-01"}]}`,
			want: []duty.Problem{prob("tasks[0].title", "must be a string, got an array")}},
		{name: "string for string array", collection: "responsibility_lists", doc: `{` + list + `, "items": "一项"}`,
			want: []duty.Problem{prob("items", "must be an array of strings, got a string")}},

		// Empty strings.
		{name: "empty string", collection: "departments", doc: `{"id": "D1", "name": "", "kind": "division", "parent_id": "ORG"}`,
			want: []duty.Problem{prob("name", "must be a non-empty string, got an empty string")}},
		{name: "blank string", collection: "departments", doc: `{"id": "D1", "name": "  ", "kind": "division", "parent_id": "ORG"}`,
			want: []duty.Problem{prob("name", "must be a non-empty string, got an empty string")}},
		{name: "empty id", collection: "meetings", doc: `{"id": "", "kind": "joint", "department_id": "D1", "held_on": "2025-01-05"}`,
			want: []duty.Problem{prob("id", "must be a non-empty string, got an empty string")}},
		{name: "empty reference", collection: "talks", doc: `{"id": "T1", "kind": "general", "person_id": "", "held_on": "2025-01-05"}`,
			want: []duty.Problem{prob("person_id", "must be the id of a record in people, got an empty string")}},
		{name: "empty enum", collection: "talks", doc: `{"id": "T1", "kind": "", "person_id": "P1", "held_on": "2025-01-05"}`,
			want: []duty.Problem{prob("kind", "must be one of "+talksList+", got an empty string")}},
		{name: "empty date", collection: "talks", doc: `{` + talk + `, "held_on": ""}`,
			want: []duty.Problem{prob("held_on", `must be a date YYYY-MM-DD, got ""`)}},
		{name: "empty element of string array", collection: "responsibility_lists", doc: `{` + list + `, "items": ["一项", ""]}`,
			want: []duty.Problem{prob("items[1]", "must be a non-empty string")}},
		{name: "empty text is allowed", collection: "suggestions", doc: `{` + sugg + `, "items": [{"id": "I1", "text": "", "due_on": "2025-03-01", "status": "closed", "closed_on": "2025-02-01", "evidence": ""}]}`},
		{name: "empty arrays are allowed", collection: "record_books", doc: `{` + book + `, "tasks": []}`},

		// Dates.
		{name: "date that does not exist", collection: "talks", doc: `{` + talk + `, "held_on": "2025-02-30"}`,
			want: []duty.Problem{prob("held_on", `must be a date YYYY-MM-DD, got "2025-02-30"`)}},
		{name: "date without leading zeros", collection: "talks", doc: `{` + talk + `, "held_on": "2025-2-3"}`,
			want: []duty.Problem{prob("held_on", `must be a date YYYY-MM-DD, got "2025-2-3"`)}},
		{name: "date with slashes", collection: "talks", doc: `{` + talk + `, "held_on": "2025/02/03"}`,
			want: []duty.Problem{prob("held_on", `must be a date YYYY-MM-DD, got "2025/02/03"`)}},
		{name: "date with time", collection: "talks", doc: `{` + talk + `, "held_on": "2025-02-03T09:00:00Z"}`,
			want: []duty.Problem{prob("held_on", `must be a date YYYY-MM-DD, got "2025-02-03T09:00:00Z"`)}},
		{name: "month 13", collection: "people", doc: `{` + person + `, "roles": [], "left_on": "2025-13-01"}`,
			want: []duty.Problem{prob("left_on", `must be a date YYYY-MM-DD, got "2025-13-01"`)}},
		{name: "29 February outside a leap year", collection: "integrity_files", doc: `{` + file + `, "major_matters": [{"id": "M1", "kind": "婚姻", "event_on": "2025-02-29"}]}`,
			want: []duty.Problem{prob("major_matters[0].event_on", `must be a date YYYY-MM-DD, got "2025-02-29"`)}},
		{name: "29 February in a leap year", collection: "integrity_files", doc: `{` + file + `, "major_matters": [{"id": "M1", "kind": "婚姻", "event_on": "2024-02-29"}]}`},

		// The accepted range, 1900-01-01 to 2199-12-31: every date the policies can count (issue 12).
		{name: "updated_on before 1900", collection: "integrity_files", doc: `{"id": "F1", "person_id": "P1", "updated_on": "1025-06-01", "major_matters": []}`,
			want: []duty.Problem{prob("updated_on", `must be a date from 1900-01-01 to 2199-12-31 (out of range), got "1025-06-01"`)}},
		{name: "reported_on after 2199", collection: "integrity_files", doc: `{` + file + `, "major_matters": [{"id": "M1", "kind": "婚姻", "event_on": "2025-01-01", "reported_on": "2925-01-01"}]}`,
			want: []duty.Problem{prob("major_matters[0].reported_on", `must be a date from 1900-01-01 to 2199-12-31 (out of range), got "2925-01-01"`)}},
		{name: "the day before the range", collection: "talks", doc: `{` + talk + `, "held_on": "1899-12-31"}`,
			want: []duty.Problem{prob("held_on", `must be a date from 1900-01-01 to 2199-12-31 (out of range), got "1899-12-31"`)}},
		{name: "the day after the range", collection: "people", doc: `{` + person + `, "roles": [], "left_on": "2200-01-01"}`,
			want: []duty.Problem{prob("left_on", `must be a date from 1900-01-01 to 2199-12-31 (out of range), got "2200-01-01"`)}},
		{name: "first day of the range", collection: "talks", doc: `{` + talk + `, "held_on": "1900-01-01"}`},
		{name: "last day of the range", collection: "integrity_files", doc: `{` + file + `, "major_matters": [{"id": "M1", "kind": "婚姻", "event_on": "2199-12-31", "reported_on": "2199-12-31"}]}`},
		{name: "year after the range", collection: "letters", doc: `{"year": 2200, "level": 2, ` + letter + `}`,
			want: []duty.Problem{prob("year", "must be an integer from 1900 to 2199, got 2200")}},

		// Enumerations.
		{name: "unknown department kind", collection: "departments", doc: `{"id": "D1", "name": "处室", "kind": "bureau", "parent_id": "ORG"}`,
			want: []duty.Problem{prob("kind", `must be one of `+kindsList+`, got "bureau"`)}},
		{name: "unknown rank", collection: "appointments", doc: `{"id": "A1", "person_id": "P1", "department_id": "D1", "position": "处长", "rank": "minister", "effective_on": "2025-01-05"}`,
			want: []duty.Problem{prob("rank", `must be one of `+ranksList+`, got "minister"`)}},
		{name: "unknown role", collection: "people", doc: `{` + person + `, "roles": ["department_head", "boss"]}`,
			want: []duty.Problem{prob("roles[1]", `must be one of `+rolesList+`, got "boss"`)}},
		{name: "unknown talk kind", collection: "talks", doc: `{"id": "T1", "kind": "formal", "person_id": "P1", "held_on": "2025-01-05"}`,
			want: []duty.Problem{prob("kind", `must be one of `+talksList+`, got "formal"`)}},
		{name: "unknown list level", collection: "responsibility_lists", doc: `{"id": "R1", "year": 2025, "level": "organ", "department_id": "ORG", "items": []}`,
			want: []duty.Problem{prob("level", `must be one of `+levelsList+`, got "organ"`)}},
		{name: "unknown item status", collection: "suggestions", doc: `{` + sugg + `, "items": [{` + item + `, "status": "pending"}]}`,
			want: []duty.Problem{prob("items[0].status", `must be one of open, closed, got "pending"`)}},
		{name: "enum is case sensitive", collection: "people", doc: `{"id": "P1", "name": "张三", "department_id": "D1", "rank": "Bureau", "roles": [], "active": true}`,
			want: []duty.Problem{prob("rank", `must be one of `+ranksList+`, got "Bureau"`)}},
		{name: "meeting kinds are free text", collection: "meetings", doc: `{"id": "M1", "kind": "专题民主生活会", "department_id": "D1", "held_on": "2025-01-05"}`},

		// Unknown fields.
		{name: "unknown field", collection: "departments", doc: `{` + dept + `, "parent": "ORG"}`,
			want: []duty.Problem{prob("parent", "is not a field of this record (expected one of id, name, kind, parent_id, discipline_member_id)")}},
		{name: "unknown fields sorted", collection: "meetings", doc: `{"id": "M1", "kind": "joint", "department_id": "D1", "held_on": "2025-01-05", "zz": 1, "aa": 2}`,
			want: []duty.Problem{
				prob("aa", "is not a field of this record (expected one of id, kind, department_id, held_on)"),
				prob("zz", "is not a field of this record (expected one of id, kind, department_id, held_on)"),
			}},
		{name: "store field is unknown", collection: "meetings", doc: `{"id": "M1", "kind": "joint", "department_id": "D1", "held_on": "2025-01-05", "_organ": "ORG"}`,
			want: []duty.Problem{prob("_organ", "is not a field of this record (expected one of id, kind, department_id, held_on)")}},
		{name: "unknown nested field", collection: "record_books", doc: `{` + book + `, "tasks": [{"id": "T1", "title": "学习", "due_on": "2025-03-01", "owner": "P1"}]}`,
			want: []duty.Problem{prob("tasks[0].owner", "is not a field of this record (expected one of id, title, due_on)")}},

		// Integers.
		{name: "integer below range", collection: "letters", doc: `{"year": 2025, "level": 0, ` + letter + `}`,
			want: []duty.Problem{prob("level", "must be an integer from 1 to 3, got 0")}},
		{name: "integer above range", collection: "letters", doc: `{"year": 2025, "level": 4, ` + letter + `}`,
			want: []duty.Problem{prob("level", "must be an integer from 1 to 3, got 4")}},
		{name: "negative integer", collection: "letters", doc: `{"year": 2025, "level": -1, ` + letter + `}`,
			want: []duty.Problem{prob("level", "must be an integer from 1 to 3, got -1")}},
		{name: "year out of range", collection: "responsibility_lists", doc: `{"id": "R1", "year": 25, "level": "party_group", "department_id": "ORG", "items": []}`,
			want: []duty.Problem{prob("year", "must be an integer from 1900 to 2199, got 25")}},
		{name: "non-integer number", collection: "letters", doc: `{"year": 2025, "level": 2.5, ` + letter + `}`,
			want: []duty.Problem{prob("level", "must be an integer from 1 to 3, got a number")}},
		{name: "huge number", collection: "letters", doc: `{"year": 1e30, "level": 2, ` + letter + `}`,
			want: []duty.Problem{prob("year", "must be an integer from 1900 to 2199, got a number")}},
		{name: "integral float is an integer", collection: "letters", doc: `{"year": 2025.0, "level": 2, ` + letter + `}`},

		// Nested object arrays.
		{name: "duplicate task ids", collection: "record_books", doc: `{` + book + `, "tasks": [{"id": "T1", "title": "a", "due_on": "2025-03-01"}, {"id": "T2", "title": "b", "due_on": "2025-03-01"}, {"id": "T1", "title": "c", "due_on": "2025-04-01"}]}`,
			want: []duty.Problem{prob("tasks[2].id", `duplicates the id "T1" of tasks[0]`)}},
		{name: "duplicate item ids", collection: "suggestions", doc: `{` + sugg + `, "items": [{` + item + `, "status": "open"}, {` + item + `, "status": "open"}]}`,
			want: []duty.Problem{prob("items[1].id", `duplicates the id "I1" of items[0]`)}},
		{name: "duplicate major matter ids", collection: "integrity_files", doc: `{` + file + `, "major_matters": [{"id": "M1", "kind": "a", "event_on": "2025-01-01"}, {"id": "M1", "kind": "b", "event_on": "2025-01-02"}]}`,
			want: []duty.Problem{prob("major_matters[1].id", `duplicates the id "M1" of major_matters[0]`)}},
		{name: "bad nested fields", collection: "record_books", doc: `{` + book + `, "tasks": [{"title": "a", "due_on": "2025-3-1"}], "entries": [{"date": "2025-01-10", "task_id": "", "content": 3}], "inspections": [{"date": "2025-02-01", "inspector_id": "", "findings": null}]}`,
			want: []duty.Problem{
				prob("tasks[0].id", "is required (a non-empty string)"),
				prob("tasks[0].due_on", `must be a date YYYY-MM-DD, got "2025-3-1"`),
				prob("entries[0].task_id", "must be a non-empty string, got an empty string"),
				prob("entries[0].content", "must be a string, got a number"),
				prob("inspections[0].inspector_id", "must be the id of a record in people, got an empty string"),
			}},
		{name: "nested element not an object", collection: "record_books", doc: `{` + book + `, "tasks": ["学习", 3]}`,
			want: []duty.Problem{
				prob("tasks[0]", "must be an object, got a string"),
				prob("tasks[1]", "must be an object, got a number"),
			}},
		{name: "nested element null", collection: "suggestions", doc: `{` + sugg + `, "items": [null]}`,
			want: []duty.Problem{prob("items[0]", "must be an object, got null")}},
		{name: "entries without ids are fine", collection: "record_books", doc: `{` + book + `, "tasks": [], "entries": [{"date": "2025-01-10", "content": "a"}, {"date": "2025-01-10", "content": "a"}]}`},

		// Lengths: a name of 12 MB made every later scan fail (its violations' messages carry it).
		{name: "name of 201 characters", collection: "people", doc: `{"id": "P1", "name": "` + strings.Repeat("长", 201) + `", "department_id": "D1", "rank": "staff", "roles": [], "active": true}`,
			want: []duty.Problem{prob("name", "must be at most 200 characters long, got 201")}},
		{name: "name of 200 characters", collection: "people", doc: `{"id": "P1", "name": "` + strings.Repeat("长", 200) + `", "department_id": "D1", "rank": "staff", "roles": [], "active": true}`},
		{name: "name of 4 million characters", collection: "people", doc: `{"id": "P1", "name": "` + strings.Repeat("长", 4<<20) + `", "department_id": "D1", "rank": "staff", "roles": [], "active": true}`,
			want: []duty.Problem{prob("name", "must be at most 200 characters long, got 4194304")}},
		{name: "text of 2001 characters", collection: "suggestions", doc: `{` + sugg + `, "items": [{"id": "I1", "text": "` + strings.Repeat("改", 2001) + `", "due_on": "2025-03-01", "status": "open"}]}`,
			want: []duty.Problem{prob("items[0].text", "must be at most 2000 characters long, got 2001")}},
		{name: "a role of 201 characters", collection: "people", doc: `{` + person + `, "roles": ["` + strings.Repeat("r", 201) + `"]}`,
			want: []duty.Problem{prob("roles[0]", "must be at most 200 characters long, got 201")}},
		{name: "1001 entries", collection: "record_books", doc: `{` + book + `, "tasks": [], "entries": [` + strings.TrimSuffix(strings.Repeat(`{"date": "2025-01-10", "content": "a"},`, 1001), ",") + `]}`,
			want: []duty.Problem{prob("entries", "must have at most 1000 elements, got 1001")}},

		// Not an object at all.
		{name: "string document", collection: "talks", doc: `"T1"`,
			want: []duty.Problem{{Message: "must be a JSON object, got a string"}}},
		{name: "array document", collection: "talks", doc: `[{"id": "T1"}]`,
			want: []duty.Problem{{Message: "must be a JSON object, got an array"}}},
		{name: "null document", collection: "talks", doc: `null`,
			want: []duty.Problem{{Message: "must be a JSON object, got null"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, got := normalize(t, tc.collection, tc.doc)
			if diff := cmp.Diff(tc.want, got, noKind); diff != "" {
				t.Errorf("problems of %s %s (-want +got):\n%s", tc.collection, tc.doc, diff)
			}
		})
	}
}

func TestNormalizeResult(t *testing.T) {
	doc, probs := normalize(t, "record_books", `{
		"id": "B1", "year": 2025, "holder_id": "P1", "issued_on": "2025-01-05",
		"tasks": [{"id": "T1", "title": "学习", "due_on": "2025-03-01"}],
		"entries": [{"date": "2025-01-10", "task_id": "T1", "content": "已学习"}],
		"inspections": [{"date": "2025-02-01", "inspector_id": "P2", "findings": null}]
	}`)
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	want := duty.Doc{
		"id": "B1", "year": int64(2025), "holder_id": "P1", "issued_on": "2025-01-05",
		"tasks":       []any{map[string]any{"id": "T1", "title": "学习", "due_on": "2025-03-01"}},
		"entries":     []any{map[string]any{"date": "2025-01-10", "task_id": "T1", "content": "已学习"}},
		"inspections": []any{map[string]any{"date": "2025-02-01", "inspector_id": "P2"}}, // null is absent
	}
	if diff := cmp.Diff(want, doc); diff != "" {
		t.Errorf("normalized document (-want +got):\n%s", diff)
	}
	if doc.ID() != "B1" || doc.Str("holder_id") != "P1" || doc.Str("year") != "" || doc.Str("missing") != "" {
		t.Errorf("ID/Str = %q %q %q %q", doc.ID(), doc.Str("holder_id"), doc.Str("year"), doc.Str("missing"))
	}

	// Values from BSON or Go code, not only JSON, are accepted.
	doc, probs = duty.Lookup("letters").Normalize(map[string]any{
		"id": "L1", "year": int32(2025), "level": 2.0, "issuer_id": "P1", "signer_id": "P2",
		"signed_by_issuer": true, "signed_by_signer": false,
	})
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	if doc["year"] != int64(2025) || doc["level"] != int64(2) {
		t.Errorf("year, level = %#v, %#v; want int64 2025, 2", doc["year"], doc["level"])
	}
}

func TestValidDate(t *testing.T) {
	tests := []struct {
		date string
		want bool
	}{
		{"2025-06-30", true},
		{"2024-02-29", true},
		{"1999-12-31", true},
		{"1900-01-01", true},
		{"2199-12-31", true},
		{"1900-02-29", false}, // 1900 is not a leap year
		{"2000-02-29", true},
		{"1899-12-31", false},
		{"2200-01-01", false},
		{"2262-04-12", false},
		{"1677-09-21", false},
		{"1025-01-01", false},
		{"2925-01-01", false},
		{"0000-01-01", false},
		{"9999-12-31", false},
		{"2025-02-29", false},
		{"2025-02-30", false},
		{"2025-04-31", false},
		{"2025-2-3", false},
		{"2025-02-3", false},
		{"25-02-03", false},
		{"2025-00-10", false},
		{"2025-01-00", false},
		{" 2025-01-01", false},
		{"2025-01-01 ", false},
		{"2025-01-01T00:00:00Z", false},
		{"", false},
	}
	for _, tc := range tests {
		t.Run(tc.date, func(t *testing.T) {
			if got := duty.ValidDate(tc.date); got != tc.want {
				t.Errorf("ValidDate(%q) = %v, want %v", tc.date, got, tc.want)
			}
		})
	}
}

func TestCheckDate(t *testing.T) {
	tests := []struct {
		note, field, value string
		want               string // "" for no error
	}{
		{note: "in range", field: "as_of", value: "2025-12-31"},
		{note: "first day", field: "as_of", value: "1900-01-01"},
		{note: "last day", field: "as_of", value: "2199-12-31"},
		{note: "past the policies' nanoseconds", field: "as_of", value: "2262-04-12",
			want: `as_of "2262-04-12": invalid input: expected a date from 1900-01-01 to 2199-12-31 (out of range)`},
		{note: "before the range", field: "as_of", value: "1899-12-31",
			want: `as_of "1899-12-31": invalid input: expected a date from 1900-01-01 to 2199-12-31 (out of range)`},
		{note: "no such day", field: "as_of", value: "2025-02-29",
			want: `as_of "2025-02-29": invalid input: expected a date YYYY-MM-DD`},
		{note: "not a date", field: "as_of", value: "31.12.2025",
			want: `as_of "31.12.2025": invalid input: expected a date YYYY-MM-DD`},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			err := duty.CheckDate(tc.field, tc.value)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckDate(%q) = %v, want nil", tc.value, err)
				}
				return
			}
			if err == nil || err.Error() != tc.want || !errors.Is(err, duty.ErrInvalid) {
				t.Errorf("CheckDate(%q) = %v, want %q matching ErrInvalid", tc.value, err, tc.want)
			}
		})
	}
}

func TestCheckDepartment(t *testing.T) {
	tests := []struct {
		name string
		doc  duty.Doc
		want []duty.Problem
	}{
		{name: "organ without parent", doc: duty.Doc{"id": "ORG", "kind": "organ"}},
		{name: "division with parent", doc: duty.Doc{"id": "D", "kind": "division", "parent_id": "ORG"}},
		{name: "organ with parent", doc: duty.Doc{"id": "ORG", "kind": "organ", "parent_id": "X"},
			want: []duty.Problem{prob("parent_id", `must be absent on an organ (kind "organ" is the root of its organisation)`)}},
		{name: "branch without parent", doc: duty.Doc{"id": "BR", "kind": "branch"},
			want: []duty.Problem{prob("parent_id", "is required on a department of kind branch (only an organ has no parent)")}},
		{name: "own parent", doc: duty.Doc{"id": "D", "kind": "division", "parent_id": "D"},
			want: []duty.Problem{prob("parent_id", "names the department itself")}},
		{name: "no kind (already reported)", doc: duty.Doc{"id": "D"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, duty.CheckDepartment(tc.doc), noKind); diff != "" {
				t.Errorf("CheckDepartment(%v) (-want +got):\n%s", tc.doc, diff)
			}
		})
	}
}

func TestRefs(t *testing.T) {
	type ref struct{ Field, Collection, ID string }
	tests := []struct {
		name       string
		collection string
		doc        string
		want       []ref
	}{
		{name: "department", collection: "departments",
			doc:  `{"id": "BR", "name": "支部", "kind": "branch", "parent_id": "D1", "discipline_member_id": "P2"}`,
			want: []ref{{"parent_id", "departments", "D1"}, {"discipline_member_id", "people", "P2"}}},
		{name: "person", collection: "people",
			doc:  `{"id": "P1", "name": "张三", "department_id": "D1", "rank": "bureau", "roles": ["party_group_member"], "supervises": ["D2", "D3"], "active": true}`,
			want: []ref{{"department_id", "departments", "D1"}, {"supervises[0]", "departments", "D2"}, {"supervises[1]", "departments", "D3"}}},
		{name: "talk", collection: "talks",
			doc:  `{"id": "T1", "kind": "reminder", "person_id": "P1", "conducted_by": "P2", "held_on": "2025-01-01"}`,
			want: []ref{{"person_id", "people", "P1"}, {"conducted_by", "people", "P2"}}},
		{name: "letter", collection: "letters",
			doc:  `{"id": "L1", "year": 2025, "level": 1, "issuer_id": "P1", "signer_id": "P2", "signed_by_issuer": true, "signed_by_signer": true}`,
			want: []ref{{"issuer_id", "people", "P1"}, {"signer_id", "people", "P2"}}},
		{name: "record book inspectors", collection: "record_books",
			doc: `{"id": "B1", "year": 2025, "holder_id": "P1", "issued_on": "2025-01-05", "tasks": [{"id": "T1", "title": "a", "due_on": "2025-02-01"}],
				"entries": [{"date": "2025-01-10", "task_id": "T1", "content": "a"}],
				"inspections": [{"date": "2025-02-01", "inspector_id": "P2"}, {"date": "2025-03-01", "inspector_id": "P3"}]}`,
			want: []ref{{"holder_id", "people", "P1"}, {"inspections[0].inspector_id", "people", "P2"}, {"inspections[1].inspector_id", "people", "P3"}}},
		{name: "list", collection: "responsibility_lists",
			doc:  `{"id": "R1", "year": 2025, "level": "leaders", "department_id": "ORG", "holder_id": "P1", "items": ["a"]}`,
			want: []ref{{"department_id", "departments", "ORG"}, {"holder_id", "people", "P1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := duty.Lookup(tc.collection)
			doc, probs := normalize(t, tc.collection, tc.doc)
			if len(probs) > 0 {
				t.Fatalf("problems: %v", probs)
			}
			var got []ref
			c.Refs(doc, func(field, coll, id string) { got = append(got, ref{field, coll, id}) })
			if diff := cmp.Diff(tc.want, got, noKind); diff != "" {
				t.Errorf("Refs (-want +got):\n%s", diff)
			}
		})
	}
}

// A base dataset that validates: an organ with an office and its branch, and two people.
const (
	baseDepartments = `[
{"id": "ORG", "name": "省人大机关", "kind": "organ"},
{"id": "DIV", "name": "办公厅", "kind": "office", "parent_id": "ORG"},
{"id": "BR", "name": "办公厅党支部", "kind": "branch", "parent_id": "DIV", "discipline_member_id": "P2"}
]`
	basePeople = `[
{"id": "P1", "name": "张三", "department_id": "DIV", "rank": "division", "roles": ["department_head"], "supervises": ["DIV"], "active": true},
{"id": "P2", "name": "李四", "department_id": "DIV", "rank": "staff", "roles": ["discipline_member"], "active": true}
]`
)

// withBase returns the base dataset's files with files laid over them.
func withBase(files map[string]string) map[string]string {
	out := map[string]string{"departments.json": baseDepartments, "people.json": basePeople}
	for k, v := range files {
		out[k] = v
	}
	return out
}

func TestNewDatasetProblems(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []duty.Problem
	}{
		{name: "base is valid", files: withBase(nil)},
		{name: "empty dataset is valid", files: map[string]string{}},
		{name: "invalid field carries file, line, index and id",
			files: withBase(map[string]string{"talks.json": "[\n" +
				`{"id": "T1", "kind": "general", "person_id": "P1", "held_on": "2025-01-05"},` + "\n" +
				`{"id": "T2", "kind": "formal", "person_id": "P1", "held_on": "2025-02-30"}` + "\n]"}),
			want: []duty.Problem{
				{File: "talks.json", Line: 3, Index: 1, ID: "T2", Field: "kind", Message: `must be one of ` + talksList + `, got "formal"`},
				{File: "talks.json", Line: 3, Index: 1, ID: "T2", Field: "held_on", Message: `must be a date YYYY-MM-DD, got "2025-02-30"`},
			}},
		{name: "document without id",
			files: withBase(map[string]string{"meetings.json": `[{"kind": "joint", "department_id": "DIV", "held_on": "2025-01-05"}]`}),
			want:  []duty.Problem{{File: "meetings.json", Line: 1, Index: 0, Field: "id", Message: "is required (a non-empty string)"}}},
		{name: "document not an object",
			files: withBase(map[string]string{"meetings.json": `[{"id": "M1", "kind": "joint", "department_id": "DIV", "held_on": "2025-01-05"}, "M2", null]`}),
			want: []duty.Problem{
				{File: "meetings.json", Line: 1, Index: 1, Message: "must be a JSON object, got a string"},
				{File: "meetings.json", Line: 1, Index: 2, Message: "must be a JSON object, got null"},
			}},
		{name: "duplicate ids",
			files: withBase(map[string]string{"meetings.json": "[\n" +
				`{"id": "M1", "kind": "joint", "department_id": "DIV", "held_on": "2025-01-05"},` + "\n" +
				`{"id": "M2", "kind": "joint", "department_id": "DIV", "held_on": "2025-02-05"},` + "\n" +
				`{"id": "M1", "kind": "joint", "department_id": "DIV", "held_on": "2025-03-05"}` + "\n]"}),
			want: []duty.Problem{{File: "meetings.json", Line: 4, Index: 2, ID: "M1", Field: "id", Message: "duplicates the id of document 0 (meetings.json line 2)"}}},
		{name: "unknown person",
			files: withBase(map[string]string{"talks.json": `[{"id": "T1", "kind": "general", "person_id": "P9", "held_on": "2025-01-05"}]`}),
			want:  []duty.Problem{{File: "talks.json", Line: 1, Index: 0, ID: "T1", Field: "person_id", Message: `names "P9", which is not a record in people`}}},
		{name: "unknown department of a person",
			files: withBase(map[string]string{"people.json": "[\n" +
				`{"id": "P1", "name": "张三", "department_id": "NOPE", "rank": "staff", "roles": [], "active": true},` + "\n" +
				`{"id": "P2", "name": "李四", "department_id": "DIV", "rank": "staff", "roles": [], "active": true}` + "\n]"}),
			want: []duty.Problem{{File: "people.json", Line: 2, Index: 0, ID: "P1", Field: "department_id", Message: `names "NOPE", which is not a record in departments`}}},
		{name: "unknown supervised department",
			files: withBase(map[string]string{"people.json": "[\n" +
				`{"id": "P1", "name": "张三", "department_id": "DIV", "rank": "bureau", "roles": [], "supervises": ["DIV", "X"], "active": true},` + "\n" +
				`{"id": "P2", "name": "李四", "department_id": "DIV", "rank": "staff", "roles": [], "active": true}` + "\n]"}),
			want: []duty.Problem{{File: "people.json", Line: 2, Index: 0, ID: "P1", Field: "supervises[1]", Message: `names "X", which is not a record in departments`}}},
		{name: "unknown inspector",
			files: withBase(map[string]string{"record_books.json": `[{"id": "B1", "year": 2025, "holder_id": "P1", "issued_on": "2025-01-05", "tasks": [], "entries": [],
				"inspections": [{"date": "2025-02-01", "inspector_id": "P2"}, {"date": "2025-03-01", "inspector_id": "P7"}]}]`}),
			want: []duty.Problem{{File: "record_books.json", Line: 1, Index: 0, ID: "B1", Field: "inspections[1].inspector_id", Message: `names "P7", which is not a record in people`}}},
		{name: "unknown discipline member",
			files: withBase(map[string]string{"departments.json": `[
{"id": "ORG", "name": "省人大机关", "kind": "organ"},
{"id": "DIV", "name": "办公厅", "kind": "office", "parent_id": "ORG"},
{"id": "BR", "name": "办公厅党支部", "kind": "branch", "parent_id": "DIV", "discipline_member_id": "P5"}
]`}),
			want: []duty.Problem{{File: "departments.json", Line: 4, Index: 2, ID: "BR", Field: "discipline_member_id", Message: `names "P5", which is not a record in people`}}},
		{name: "reference to the wrong collection",
			files: withBase(map[string]string{"meetings.json": `[{"id": "M1", "kind": "joint", "department_id": "P1", "held_on": "2025-01-05"}]`}),
			want:  []duty.Problem{{File: "meetings.json", Line: 1, Index: 0, ID: "M1", Field: "department_id", Message: `names "P1", which is not a record in departments`}}},
		{name: "every reference of letters, talks and lists",
			files: withBase(map[string]string{
				"letters.json":              `[{"id": "L1", "year": 2025, "level": 2, "issuer_id": "X1", "signer_id": "X2", "signed_by_issuer": true, "signed_by_signer": true}]`,
				"talks.json":                `[{"id": "T1", "kind": "general", "person_id": "P1", "conducted_by": "X3", "held_on": "2025-01-05"}]`,
				"responsibility_lists.json": `[{"id": "R1", "year": 2025, "level": "leaders", "department_id": "X4", "holder_id": "X5", "items": []}]`,
				"appointments.json":         `[{"id": "A1", "person_id": "X6", "department_id": "X7", "position": "处长", "rank": "division", "effective_on": "2025-01-05"}]`,
				"suggestions.json":          `[{"id": "S1", "department_id": "X8", "issued_on": "2025-01-05", "items": []}]`,
				"integrity_files.json":      `[{"id": "F1", "person_id": "X9", "updated_on": "2025-01-05", "major_matters": []}]`,
			}),
			want: []duty.Problem{
				{File: "appointments.json", Line: 1, Index: 0, ID: "A1", Field: "person_id", Message: `names "X6", which is not a record in people`},
				{File: "appointments.json", Line: 1, Index: 0, ID: "A1", Field: "department_id", Message: `names "X7", which is not a record in departments`},
				{File: "talks.json", Line: 1, Index: 0, ID: "T1", Field: "conducted_by", Message: `names "X3", which is not a record in people`},
				{File: "letters.json", Line: 1, Index: 0, ID: "L1", Field: "issuer_id", Message: `names "X1", which is not a record in people`},
				{File: "letters.json", Line: 1, Index: 0, ID: "L1", Field: "signer_id", Message: `names "X2", which is not a record in people`},
				{File: "suggestions.json", Line: 1, Index: 0, ID: "S1", Field: "department_id", Message: `names "X8", which is not a record in departments`},
				{File: "responsibility_lists.json", Line: 1, Index: 0, ID: "R1", Field: "department_id", Message: `names "X4", which is not a record in departments`},
				{File: "responsibility_lists.json", Line: 1, Index: 0, ID: "R1", Field: "holder_id", Message: `names "X5", which is not a record in people`},
				{File: "integrity_files.json", Line: 1, Index: 0, ID: "F1", Field: "person_id", Message: `names "X9", which is not a record in people`},
			}},
		{name: "a record with problems can still be referred to",
			files: withBase(map[string]string{
				"people.json": "[\n" +
					`{"id": "P1", "name": "张三", "department_id": "DIV", "rank": "chief", "roles": [], "active": true},` + "\n" +
					`{"id": "P2", "name": "李四", "department_id": "DIV", "rank": "staff", "roles": [], "active": true}` + "\n]",
				"talks.json": `[{"id": "T1", "kind": "general", "person_id": "P1", "held_on": "2025-01-05"}]`,
			}),
			want: []duty.Problem{{File: "people.json", Line: 2, Index: 0, ID: "P1", Field: "rank", Message: `must be one of ` + ranksList + `, got "chief"`}}},
		{name: "organ with a parent",
			files: withBase(map[string]string{"departments.json": `[
{"id": "ORG", "name": "省人大机关", "kind": "organ"},
{"id": "DIV", "name": "办公厅", "kind": "organ", "parent_id": "ORG"},
{"id": "BR", "name": "办公厅党支部", "kind": "branch", "parent_id": "DIV", "discipline_member_id": "P2"}
]`}),
			want: []duty.Problem{{File: "departments.json", Line: 3, Index: 1, ID: "DIV", Field: "parent_id", Message: `must be absent on an organ (kind "organ" is the root of its organisation)`}}},
		{name: "non-organ without a parent",
			files: withBase(map[string]string{"departments.json": `[
{"id": "ORG", "name": "省人大机关", "kind": "organ"},
{"id": "DIV", "name": "办公厅", "kind": "office"},
{"id": "BR", "name": "办公厅党支部", "kind": "branch", "parent_id": "DIV", "discipline_member_id": "P2"}
]`}),
			want: []duty.Problem{{File: "departments.json", Line: 3, Index: 1, ID: "DIV", Field: "parent_id", Message: "is required on a department of kind office (only an organ has no parent)"}}},
		{name: "own parent",
			files: withBase(map[string]string{"departments.json": `[
{"id": "ORG", "name": "省人大机关", "kind": "organ"},
{"id": "DIV", "name": "办公厅", "kind": "office", "parent_id": "DIV"},
{"id": "BR", "name": "办公厅党支部", "kind": "branch", "parent_id": "DIV", "discipline_member_id": "P2"}
]`}),
			want: []duty.Problem{
				{File: "departments.json", Line: 3, Index: 1, ID: "DIV", Field: "parent_id", Message: "names the department itself"},
				{File: "departments.json", Line: 3, Index: 1, ID: "DIV", Field: "parent_id", Message: "makes a cycle in the department tree (the department is its own ancestor)"},
			}},
		{name: "cycle",
			files: withBase(map[string]string{"departments.json": `[
{"id": "ORG", "name": "省人大机关", "kind": "organ"},
{"id": "DIV", "name": "办公厅", "kind": "office", "parent_id": "BR"},
{"id": "BR", "name": "办公厅党支部", "kind": "branch", "parent_id": "DIV", "discipline_member_id": "P2"}
]`}),
			want: []duty.Problem{
				{File: "departments.json", Line: 4, Index: 2, ID: "BR", Field: "parent_id", Message: "makes a cycle in the department tree (the department is its own ancestor)"},
				{File: "departments.json", Line: 3, Index: 1, ID: "DIV", Field: "parent_id", Message: "makes a cycle in the department tree (the department is its own ancestor)"},
			}},
		{name: "all problems at once",
			files: withBase(map[string]string{
				"departments.json": `[
{"id": "ORG", "name": "省人大机关", "kind": "organ"},
{"id": "DIV", "name": "办公厅", "kind": "office", "parent_id": "ORG", "head": "P1"},
{"id": "BR", "name": "办公厅党支部", "kind": "branch", "parent_id": "DIV", "discipline_member_id": "P2"}
]`,
				"talks.json":    `[{"id": "T1", "kind": "general", "person_id": "P1", "held_on": "2025-2-3"}]`,
				"meetings.json": `[{"id": "M1", "kind": "joint", "department_id": "GONE", "held_on": "2025-01-05"}]`,
			}),
			want: []duty.Problem{
				{File: "departments.json", Line: 3, Index: 1, ID: "DIV", Field: "head", Message: "is not a field of this record (expected one of id, name, kind, parent_id, discipline_member_id)"},
				{File: "talks.json", Line: 1, Index: 0, ID: "T1", Field: "held_on", Message: `must be a date YYYY-MM-DD, got "2025-2-3"`},
				{File: "meetings.json", Line: 1, Index: 0, ID: "M1", Field: "department_id", Message: `names "GONE", which is not a record in departments`},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, got := load(t, tc.files)
			if diff := cmp.Diff(tc.want, got, noKind); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewDatasetBatchWithoutFile(t *testing.T) {
	// The HTTP API validates batches that come from no file: problems name index and id only.
	raw := map[string][]duty.RawDoc{"departments": {
		{Index: 0, Value: decodeValue(t, `{"id": "ORG", "name": "机关", "kind": "organ"}`)},
		{Index: 1, Value: decodeValue(t, `{"id": "ORG", "name": "机关", "kind": "organ"}`)},
	}}
	_, err := duty.NewDataset(raw)
	var ve *duty.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("NewDataset: %v, want a *ValidationError", err)
	}
	want := []duty.Problem{{Index: 1, ID: "ORG", Field: "id", Message: "duplicates the id of document 0"}}
	if diff := cmp.Diff(want, ve.Problems, noKind); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if got, want := err.Error(), `document 1 (id "ORG"), field id: duplicates the id of document 0`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		name string
		p    duty.Problem
		want string
	}{
		{name: "document field", p: duty.Problem{File: "talks.json", Line: 3, Index: 1, ID: "T2", Field: "held_on", Message: "must be a date"},
			want: `talks.json:3: document 1 (id "T2"), field held_on: must be a date`},
		{name: "document without id", p: duty.Problem{File: "talks.json", Line: 2, Index: 0, Field: "id", Message: "is required"},
			want: `talks.json:2: document 0, field id: is required`},
		{name: "whole document", p: duty.Problem{File: "talks.json", Line: 2, Index: 4, Message: "must be a JSON object"},
			want: `talks.json:2: document 4: must be a JSON object`},
		{name: "whole file", p: duty.Problem{File: "staff.json", Index: -1, Message: "is not a collection"},
			want: `staff.json: is not a collection`},
		{name: "no file", p: duty.Problem{Index: 0, ID: "P1", Field: "rank", Message: "must be one of"},
			want: `document 0 (id "P1"), field rank: must be one of`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestValidationErrorMessages(t *testing.T) {
	// What a user reads on stderr: every line names the file, line, document index and id, the
	// field and what was expected.
	dir := writeDir(t, withBase(map[string]string{
		"people.json": "[\n" +
			`{"id": "P1", "name": "张三", "department_id": "DIV", "rank": "division", "roles": ["department_head"], "active": true},` + "\n" +
			`{"id": "P2", "name": "李四", "department_id": "DIV", "rank": "minister", "roles": [], "active": "yes"}` + "\n]",
		"letters.json": `[{"id": "L1", "year": 2025, "level": 4, "issuer_id": "P1", "signer_id": "P3", "signed_by_issuer": true, "signed_by_signer": true}]`,
	}))
	_, err := duty.LoadDir(dir)
	if !errors.Is(err, duty.ErrInvalid) {
		t.Fatalf("LoadDir: %v, want ErrInvalid", err)
	}
	want := `4 problems:
  people.json:3: document 1 (id "P2"), field rank: must be one of bureau, division, section, staff, got "minister"
  people.json:3: document 1 (id "P2"), field active: must be true or false, got a string
  letters.json:1: document 0 (id "L1"), field level: must be an integer from 1 to 3, got 4
  letters.json:1: document 0 (id "L1"), field signer_id: names "P3", which is not a record in people`
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("error message (-want +got):\n%s", diff)
	}

	// One problem reads as one line.
	dir = writeDir(t, withBase(map[string]string{"talks.json": `[{"id": "T1", "kind": "general", "person_id": "P1", "held_on": "2025-02-30"}]`}))
	_, err = duty.LoadDir(dir)
	if got, want := errString(err), `talks.json:1: document 0 (id "T1"), field held_on: must be a date YYYY-MM-DD, got "2025-02-30"`; got != want {
		t.Errorf("error message = %q, want %q", got, want)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestDecodeArray(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		lines []int // of the documents, when the file decodes
		want  string
	}{
		{name: "empty array", data: `[]`, lines: nil},
		{name: "one line", data: `[{"id": "a"}, {"id": "b"}]`, lines: []int{1, 1}},
		{name: "lines of documents", data: "[\n  {\"id\": \"a\"},\n\n  {\n    \"id\": \"b\"\n  }\n]\n", lines: []int{2, 4}},
		{name: "CRLF", data: "[\r\n  {\"id\": \"a\"},\r\n  {\"id\": \"b\"}\r\n]\r\n", lines: []int{2, 3}},
		{name: "bad character", data: `[x]`,
			want: "f.json: line 1, column 2: invalid JSON: invalid character 'x' looking for beginning of value"},
		{name: "bad character in a later document", data: "[\n  {\"id\": \"a\"},\n  {\"id\": \"b\",, \"x\": 1}\n]",
			want: "f.json: line 3, column 14: invalid JSON: invalid character ',' looking for beginning of object key string"},
		{name: "missing colon", data: "[\n  {\"id\": \"a\"},\n  {\"id\" \"b\"}\n]",
			want: "f.json: line 3, column 9: invalid JSON: invalid character '\"' after object key"},
		{name: "bad literal", data: "[\n  {\"id\": \"a\"},\n  {\"id\": tru}\n]",
			want: "f.json: line 3, column 13: invalid JSON: invalid character '}' in literal true (expecting 'e')"},
		{name: "missing comma between documents", data: "[\n  {\"id\": \"a\"}\n  {\"id\": \"b\"}\n]",
			want: "f.json: line 3, column 3: invalid JSON: invalid character '{' after array element"},
		{name: "trailing comma", data: "[\n  {\"id\": \"a\"},\n]",
			want: "f.json: line 3, column 1: invalid JSON: invalid character ']' looking for beginning of value"},
		{name: "truncated", data: "[\n  {\"id\": \"a\"},\n  {\"id\": \"b\"}\n",
			want: "f.json: line 3, column 14: invalid JSON: unexpected end of JSON input"},
		{name: "truncated inside a document", data: "[\n  {\"id\": \"a\"",
			want: "f.json: line 2, column 12: invalid JSON: unexpected end of JSON input"},
		{name: "object, not array", data: `{"id": "a"}`,
			want: "f.json: line 1, column 1: expected a JSON array of documents"},
		{name: "string, not array", data: `"a"`,
			want: "f.json: line 1, column 1: expected a JSON array of documents"},
		{name: "empty file", data: ``,
			want: "f.json: line 1, column 1: empty file: expected a JSON array of documents"},
		{name: "blank file", data: "  \n",
			want: "f.json: line 1, column 1: empty file: expected a JSON array of documents"},
		{name: "data after the array", data: "[]\n[]",
			want: "f.json: line 2, column 1: unexpected data after the array"},
		{name: "garbage after the array", data: "[]\n  x",
			want: "f.json: line 2, column 3: unexpected data after the array"},
		{name: "bracket after the array", data: "[{\"id\": \"a\"}]]",
			want: "f.json: line 1, column 14: unexpected data after the array"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs, p := duty.DecodeArray("f.json", []byte(tc.data))
			got := ""
			if p != nil {
				got = p.String()
				if p.File != "f.json" || p.Index != -1 {
					t.Errorf("problem file %q, index %d; want f.json, -1", p.File, p.Index)
				}
			}
			if got != tc.want {
				t.Errorf("problem = %q\nwant      %q", got, tc.want)
			}
			if tc.want != "" {
				return
			}
			var lines []int
			for i, d := range docs {
				if d.Index != i || d.File != "f.json" {
					t.Errorf("document %d: index %d, file %q", i, d.Index, d.File)
				}
				lines = append(lines, d.Line)
			}
			if diff := cmp.Diff(tc.lines, lines); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeArrayKeepsNumbersExact(t *testing.T) {
	docs, p := duty.DecodeArray("letters.json", []byte(`[{"year": 2025, "level": 2.5}]`))
	if p != nil {
		t.Fatal(p)
	}
	want := []duty.RawDoc{{File: "letters.json", Line: 1, Index: 0, Value: map[string]any{"year": json.Number("2025"), "level": json.Number("2.5")}}}
	if diff := cmp.Diff(want, docs); diff != "" {
		t.Errorf("documents (-want +got):\n%s", diff)
	}
}
