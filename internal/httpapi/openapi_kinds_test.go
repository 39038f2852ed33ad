package httpapi_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/httpapi"
)

// TestOpenAPIProblemKinds: the document lists exactly the kinds of problem the validator and
// the store make (duty.ProblemKinds), so that a client knows every code it may get.
func TestOpenAPIProblemKinds(t *testing.T) {
	t.Parallel()
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(httpapi.OpenAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(slices.Values(doc.Components.Schemas["Problem"].Properties["kind"].Enum))
	var want []string
	for _, k := range duty.ProblemKinds() {
		want = append(want, string(k))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Problem.kind's enum (-want +got):\n%s", diff)
	}
}
