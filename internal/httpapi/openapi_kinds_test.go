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
// the store make (duty.ProblemKinds), and exactly the kinds of problem of a refused policy
// bundle (duty.BundleProblemKinds), so that a client knows every code it may get.
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
	var records, bundles []string
	for _, k := range duty.ProblemKinds() {
		records = append(records, string(k))
	}
	for _, k := range duty.BundleProblemKinds() {
		bundles = append(bundles, string(k))
	}
	for _, tc := range []struct {
		schema string
		want   []string
	}{
		{"Problem", records},
		{"PolicyProblem", bundles},
	} {
		got := slices.Sorted(slices.Values(doc.Components.Schemas[tc.schema].Properties["kind"].Enum))
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s.kind's enum (-want +got):\n%s", tc.schema, diff)
		}
	}
}
