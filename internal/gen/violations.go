package gen

import (
	"slices"
	"strings"
)

// A deliberate violation is decided once per duty check ("opportunity"): one appointment, one
// required letter pair, one record-book holder, one suggestion item, one organ's annual
// meeting, one discipline committee's joint meetings, one required list, one integrity file,
// one major matter, one branch. decide returns "" for a compliant record, or the variant to
// build. A variant is "reason" or "reason:how" (for example "missing:early", a pre-appointment
// talk held too early, whose policy reason is missing).

// forcedViolation makes the opportunity numbered at or after at (counting from 0, per key)
// fail with variant, the first time that variant is allowed there.
type forcedViolation struct {
	at      int
	variant string
}

// firstOrganPlan gives the first organ at least one violation of every reason of every duty
// (and each way of reaching some of them), whatever the random draws; the indexes spread them
// over the organisation instead of piling them on its first records.
var firstOrganPlan = map[string][]forcedViolation{
	"talk": {
		{20, "missing:unrecorded"}, {40, "missing:early"}, {60, "missing:after"}, {80, "missing:wrong_kind"},
	},
	"talk.year": {{1, "missing:none"}},
	"letter.1":  {{3, "late"}},
	"letter.2":  {{4, "missing"}, {12, "unsigned:issuer"}},
	"letter.3":  {{2, "unsigned:undated"}, {9, "missing"}, {15, "unsigned:signer"}, {20, "late"}},
	"book": {
		{4, "missing"}, {10, "gap"}, {16, "task_without_entry"}, {22, "not_inspected"},
	},
	"item": {
		{1, "overdue"}, {3, "closed_without_evidence:absent"},
		{6, "closed_without_evidence:undated"}, {8, "closed_without_evidence:empty"},
	},
	"annual":                     {{0, "missing:late"}},
	"joint":                      {{0, "gap"}},
	"list.party_group":           {{0, "missing"}},
	"list.party_group_secretary": {{0, "missing"}},
	"list.leaders":               {{5, "missing"}},
	"list.party_committee":       {{0, "missing"}},
	"list.discipline_committee":  {{0, "missing"}},
	"list.department_heads":      {{10, "missing"}},
	"list.special_committee":     {{3, "missing"}},
	"file":                       {{7, "missing"}, {30, "stale"}},
	"matter":                     {{2, "late"}, {6, "unreported"}},
	"branch":                     {{2, "missing:absent"}, {8, "missing:off_roster"}},
}

// decide returns the violation to build at this opportunity of key, among variants, or "" for
// none. A forced violation due here wins; otherwise the check fails with probability
// ViolationRate, with a reason drawn uniformly and then one of its variants.
func (b *builder) decide(key string, variants ...string) string {
	k := b.seen[key]
	b.seen[key] = k + 1
	if q := b.forced[key]; len(q) > 0 {
		for i, f := range q {
			if f.at <= k && slices.Contains(variants, f.variant) {
				b.forced[key] = slices.Delete(q, i, i+1)
				return f.variant
			}
		}
	}
	if b.opts.ViolationRate <= 0 || b.rng.Float64() >= b.opts.ViolationRate {
		return ""
	}
	var reasons []string
	for _, v := range variants {
		r, _, _ := strings.Cut(v, ":")
		if !slices.Contains(reasons, r) {
			reasons = append(reasons, r)
		}
	}
	r := pick(b, reasons)
	var ofReason []string
	for _, v := range variants {
		if v == r || strings.HasPrefix(v, r+":") {
			ofReason = append(ofReason, v)
		}
	}
	return pick(b, ofReason)
}
