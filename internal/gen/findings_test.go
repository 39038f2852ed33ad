package gen_test

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/dutycheck/dutycheck/internal/conformance"
	"github.com/dutycheck/dutycheck/internal/gen"
)

// The tests read the generated datasets with the one independent oracle of the duties,
// internal/conformance (a plain-Go reading of DOMAIN.md, written independently of the
// generators and of the policies), to show that a dataset generated without violations has
// none, and that the deliberate ones are where the generator says: every reason of every duty.

// finding is one failing check.
type finding struct {
	Organ   string
	Policy  string
	Reason  string
	Subject string // id of the subject document (or person)
	Detail  string // level and issuer, task, item or matter; level for lists
}

// kind names the policy and reason, and the level for lists, whose reasons DOMAIN.md asks for
// "at each kind of level".
func (f finding) kind() string {
	if f.Policy == conformance.PolicyList {
		return f.Policy + "/" + f.Reason + "/" + f.Detail
	}
	return f.Policy + "/" + f.Reason
}

// check evaluates every duty on ds as of asOf with the oracle: the failing checks, and how many
// checks were made (the opportunities a violation could take).
func check(ds gen.Dataset, asOf string) (findings []finding, checks int) {
	keys, checks := conformance.Count(ds, asOf)
	parent := map[string]string{}
	for _, d := range ds["departments"] {
		id, _ := d["id"].(string)
		parent[id], _ = d["parent_id"].(string)
	}
	organOf := func(dept string) string {
		for parent[dept] != "" {
			dept = parent[dept]
		}
		return dept
	}
	for _, k := range keys {
		f := finding{Organ: organOf(k.Department), Policy: k.Policy, Reason: k.Reason, Subject: k.Subject.ID}
		switch d := k.Details; {
		case d["issuer"] != nil:
			f.Detail = fmt.Sprintf("level %v issuer %v", d["level"], d["issuer"])
		case d["level"] != nil:
			f.Detail = fmt.Sprint(d["level"])
		default:
			for _, field := range []string{"item", "matter", "task"} {
				if v, ok := d[field]; ok {
					f.Detail = fmt.Sprint(v)
				}
			}
		}
		findings = append(findings, f)
	}
	slices.SortFunc(findings, func(a, b finding) int {
		return cmp.Or(cmp.Compare(a.Policy, b.Policy), cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Detail, b.Detail))
	})
	return findings, checks
}
