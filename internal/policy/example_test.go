package policy_test

import (
	"context"
	"fmt"
	"log"
	"testing/fstest"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
)

// A duty policy is a Rego module in package duty.<area>.<name> with a METADATA block and one
// `violation` rule; its parameters live in data.params.<area>.<name>. Compile once, then
// evaluate each organ as of a date: the engine adds policy, severity, accountable and
// department to what the policy returns.
func ExampleEngine_Evaluate() {
	bundle, err := policy.LoadFS(fstest.MapFS{
		"duty/branch/member.rego": {Data: []byte(`# METADATA
# title: 党支部纪检委员
# description: Every Party branch names a discipline member.
# custom:
#   id: branch.member
#   severity: medium
#   accountable: party_committee
#   reasons: [missing]
package duty.branch.member

violation contains v if {
	some b in input.departments
	b.kind == "branch"
	not b.discipline_member_id
	v := {
		"reason": "missing",
		"subject": {"collection": "departments", "id": b.id},
		"details": {},
		"message": {"zh": sprintf("%s 未设纪检委员", [b.name]), "en": sprintf("%s has no discipline member", [b.id])},
		"evidence": [],
	}
}
`)},
		"params/data.json": {Data: []byte(`{"branch": {"member": {"severity": "low"}}}`)},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	engine, err := policy.Compile(ctx, bundle)
	if err != nil {
		log.Fatal(err)
	}

	ds, err := duty.NewDataset(map[string][]duty.RawDoc{"departments": {
		{Index: 0, Value: map[string]any{"id": "ORG", "name": "省人大机关", "kind": "organ"}},
		{Index: 1, Value: map[string]any{"id": "BR-1", "name": "办公厅党支部", "kind": "branch", "parent_id": "ORG"}},
	}})
	if err != nil {
		log.Fatal(err)
	}
	organs, _ := duty.Split(ds)

	violations, err := engine.Evaluate(ctx, organs[0], "2025-06-30")
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range violations {
		fmt.Printf("%s %s %s %s/%s in %s, %s: %s\n", v.Policy, v.Severity, v.Reason,
			v.Subject.Collection, v.Subject.ID, v.Department, v.Accountable, v.Message.ZH)
	}
	// Output:
	// branch.member low missing departments/BR-1 in BR-1, party_committee: 办公厅党支部 未设纪检委员
}
