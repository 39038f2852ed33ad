package ledger

import (
	"maps"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
)

// SettingsID names the ledger's settings in the policy bundle: the module
// policies/settings/ledger.rego (package settings.ledger) declares the parameters' schema,
// labels and units in its METADATA, params/data.json holds their values under
// data.params.ledger, and they change like a duty's parameters (PUT
// /api/v1/policies/ledger/params, the page /policies/ledger), as a new policy revision, audited.
const SettingsID = "ledger"

// DefaultParams are the values of the built-in bundle's params/data.json, which apply to any
// parameter a bundle does not set (a --policies folder without settings/ledger.rego, or a store
// whose revision in force predates it). TestDefaultParams keeps the two equal.
func DefaultParams() duty.LedgerParams {
	return duty.LedgerParams{Periods: map[string]int{"high": 15, "medium": 30, "low": 60}, MaxWaiverDays: 365,
		Weights: map[string]float64{"high": 5, "medium": 3, "low": 1, "overdue": 2, "warning": 0.5}}
}

// WeightKeys are the keys of the standing's weights, in the order the formula shows them.
var WeightKeys = []string{"high", "medium", "low", "overdue", "warning"}

// Params returns the parameters of the bundle in force now: a change applies to the next scan
// and the next request. The gate has checked the values against their schema (integers of 1 to
// 3650 days, weights of 0 to 100).
func (s *Service) Params() duty.LedgerParams {
	var values map[string]any
	if s.engine != nil {
		if e := s.engine(); e != nil {
			values = e.Params(SettingsID)
		}
	}
	return paramsOf(values)
}

// paramsOf reads the ledger's parameters from data.params.ledger, the defaults where unset.
func paramsOf(values map[string]any) duty.LedgerParams {
	p := DefaultParams()
	p.Periods, p.Weights = maps.Clone(p.Periods), maps.Clone(p.Weights)
	for sev := range p.Periods {
		if n, ok := policy.Number(values["rectify_days_"+sev]); ok && n >= 1 {
			p.Periods[sev] = int(n)
		}
	}
	if n, ok := policy.Number(values["waiver_max_days"]); ok && n >= 1 {
		p.MaxWaiverDays = int(n)
	}
	for _, k := range WeightKeys {
		if f, ok := policy.Number(values["weight_"+k]); ok && f >= 0 {
			p.Weights[k] = f
		}
	}
	return p
}
