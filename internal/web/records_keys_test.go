package web

import (
	"os"
	"regexp"
	"testing"
)

// TestRecordTextsExist: every text the record pages ask for (a key in their templates and Go
// files) is in the catalogue of texts in both languages, so that no page shows a key.
func TestRecordTextsExist(t *testing.T) {
	t.Parallel()
	keys := regexp.MustCompile(`(?:\.T|text\(rq\.lang,|text\(lang,)\s+"([a-z][a-z0-9_.]*)"|"((?:rec|form|del|person)\.[a-z0-9_.]+)"`)
	files := []string{"browse.go", "forms.go", "people.go", "records.go", "templates/_records.html", "templates/record.html",
		"templates/record_list.html", "templates/record_form.html", "templates/record_delete.html", "templates/person.html"}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keys.FindAllStringSubmatch(string(src), -1) {
			key := m[1] + m[2]
			if key == "" {
				continue
			}
			got, ok := messages[key]
			if !ok {
				if got, ok = codes[key]; !ok {
					t.Errorf("%s: the text %q is missing", f, key)
					continue
				}
			}
			if got[0] == "" || got[1] == "" {
				t.Errorf("%s: the text %q lacks a language", f, key)
			}
		}
	}
}
