package duty

import (
	"errors"
	"strings"
	"testing"
)

func TestLabelsCoverTheSchema(t *testing.T) {
	// The built-in catalogue parsed at start-up; ParseLabels checked it against the schema.
	if Names.Collection("talks").ZH != "廉政谈话" {
		t.Fatalf("talks label %+v", Names.Collection("talks"))
	}
	if got := Names.Field("record_books", "entries.date").ZH; got != "记录日期" {
		t.Errorf("nested field label %q", got)
	}
	if got := Names.Value("people", "rank", "bureau", "zh"); got != "厅级" {
		t.Errorf("rank label %q", got)
	}
	if got := Names.Value("people", "roles", []any{"party_group_member", "department_head"}, "zh"); got != "党组成员、处室（单位）主要负责人" {
		t.Errorf("roles label %q", got)
	}
	if got := Names.Value("letters", "signed_by_signer", true, "zh"); got != "是" {
		t.Errorf("bool label %q", got)
	}
	if got := Names.Value("letters", "signed_by_signer", false, "en"); got != "no" {
		t.Errorf("bool label %q", got)
	}
	if got := Names.Value("meetings", "kind", "party_day", "zh"); got != "party_day" {
		t.Errorf("free-text kind shown as %q", got)
	}
	if got := Names.Value("letters", "level", int64(2), "en"); !strings.HasPrefix(got, "level 2") {
		t.Errorf("letter level label %q", got)
	}
}

func TestParseLabelsRefusesGaps(t *testing.T) {
	raw, err := labelsRaw()
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string][2]string{
		"missing english":   {`"rank": {"zh": "职级", "en": "Rank", "enum": "rank"}`, `"rank": {"zh": "职级", "enum": "rank"}`},
		"enum value":        {`"section": {"zh": "科级", "en": "section level"},`, ``},
		"unknown field":     {`"left_on": {"zh": "离职日期", "en": "Left on"}`, `"left_on": {"zh": "离职日期", "en": "Left on"}, "age": {"zh": "年龄", "en": "Age"}`},
		"boolean not bool":  {`"active": {"zh": "在职", "en": "Active", "enum": "bool"}`, `"active": {"zh": "在职", "en": "Active"}`},
		"unknown attribute": {`"zh": "人员", "en": "People",`, `"zh": "人员", "en": "People", "fr": "Personnes",`},
	} {
		changed := strings.Replace(raw, edit[0], edit[1], 1)
		if changed == raw {
			t.Fatalf("%s: edit did not apply", name)
		}
		if _, err := ParseLabels([]byte(changed)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}
