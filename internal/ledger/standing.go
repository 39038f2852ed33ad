package ledger

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/store"
)

// Standings ranks the departments of organ's tree that the principal may see, best score
// first (ties by department id), from found (the organ's latest report's violations and
// warnings by department: FindingsOf, or the summaries stored at scan time) and the overdue
// cases of the ledger.
func (s *Service) Standings(ctx context.Context, p duty.Principal, organ string, found map[string]duty.Findings) ([]duty.Standing, error) {
	tree, err := s.tree(ctx)
	if err != nil {
		return nil, err
	}
	if tree.Department(organ) == nil || tree.Organ(organ) != organ {
		return nil, fmt.Errorf("organ %q: %w", organ, duty.ErrNotFound)
	}
	reach := duty.ReachOf(p, tree)
	if !slices.Contains(reach.Organs(), organ) {
		return nil, fmt.Errorf("organ %q: %w", organ, duty.ErrNotFound)
	}
	by := map[string]*duty.Standing{}
	for d := range tree.Subtree(organ) {
		if !reach.Department(d) {
			continue
		}
		f := found[d]
		by[d] = &duty.Standing{Department: d, High: f.High, Medium: f.Medium, Low: f.Low, Warnings: f.Warnings}
	}
	due, err := s.dueCounts(ctx, organ)
	if err != nil {
		return nil, err
	}
	today := s.cfg.Today()
	for _, d := range due {
		if st := by[d.Department]; st != nil && d.DueOn < today {
			st.Overdue += d.N
		}
	}
	w := s.Params().Weights
	out := make([]duty.Standing, 0, len(by))
	for _, st := range by {
		loss := w["high"]*float64(st.High) + w["medium"]*float64(st.Medium) + w["low"]*float64(st.Low) +
			w["overdue"]*float64(st.Overdue) + w["warning"]*float64(st.Warnings)
		st.Score = math.Round(max(0, 100-loss)*10) / 10
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b duty.Standing) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Department, b.Department)
	})
	for i := range out {
		out[i].Rank = i + 1
		if i > 0 && out[i].Score == out[i-1].Score {
			out[i].Rank = out[i-1].Rank
		}
	}
	return out, nil
}

// dueCounts returns the due counts of an organ's cases, which every sync stores (so that the
// standing does not read the cases); an organ whose counts were never stored (its cases were
// last brought up to date before there were counts) gets them now, once.
func (s *Service) dueCounts(ctx context.Context, organ string) ([]store.DueCount, error) {
	due, found, err := s.st.LedgerDue(ctx, organ)
	if err != nil || found {
		return due, err
	}
	unlock, err := s.st.LockLedger(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	marks, err := s.st.CaseMarks(ctx, organ)
	if err != nil {
		return nil, err
	}
	due = dueCountsOf(marks)
	return due, s.st.SetLedgerDue(ctx, organ, due)
}

// dueCountsOf counts the cases still to be worked (neither done nor waived) by department and
// due date.
func dueCountsOf(marks []store.CaseMark) []store.DueCount {
	type key struct{ dept, due string }
	n := map[key]int{}
	for _, m := range marks {
		switch m.State {
		case duty.CaseClosed, duty.CaseResolvedByData, duty.CaseWaived:
			continue
		}
		n[key{m.Department, m.DueOn}]++
	}
	out := make([]store.DueCount, 0, len(n))
	for k, c := range n {
		out = append(out, store.DueCount{Department: k.dept, DueOn: k.due, N: c})
	}
	slices.SortFunc(out, func(a, b store.DueCount) int {
		return cmp.Or(strings.Compare(a.Department, b.Department), strings.Compare(a.DueOn, b.DueOn))
	})
	return out
}

// Formula is the standing's formula in words, with the weights in force, in Chinese (zh) or
// English.
func (s *Service) Formula(lang string) string {
	w := s.Params().Weights
	f := func(k string) string { return strconv.FormatFloat(w[k], 'f', -1, 64) }
	if lang == "en" {
		return fmt.Sprintf("score = 100 − %s × high − %s × medium − %s × low open violations − %s × overdue cases − %s × warnings (at least 0)",
			f("high"), f("medium"), f("low"), f("overdue"), f("warning"))
	}
	return fmt.Sprintf("得分 = 100 − %s × 高风险问题数 − %s × 中风险问题数 − %s × 低风险问题数 − %s × 逾期未整改案件数 − %s × 预警数（最低为 0）",
		f("high"), f("medium"), f("low"), f("overdue"), f("warning"))
}
