package ledger

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// DefaultWeights are the weights of the department standing (考核): points taken from 100 for
// each open violation by severity, each overdue case and each warning.
var DefaultWeights = map[string]float64{"high": 5, "medium": 3, "low": 1, "overdue": 2, "warning": 0.5}

// WeightKeys are the keys of the standing's weights, in the order the formula shows them.
var WeightKeys = []string{"high", "medium", "low", "overdue", "warning"}

// ParseWeights reads standing weights written "high=5,medium=3,low=1,overdue=2,warning=0.5";
// keys left out keep their default.
func ParseWeights(s string) (map[string]float64, error) {
	out := map[string]float64{}
	for k, v := range DefaultWeights {
		out[k] = v
	}
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if _, known := DefaultWeights[strings.TrimSpace(k)]; !ok || !known || err != nil || f < 0 || f > 100 || math.IsNaN(f) {
			return nil, fmt.Errorf("%q: expected name=weight (0 to 100) with name one of %s", part, strings.Join(WeightKeys, ", "))
		}
		out[strings.TrimSpace(k)] = f
	}
	return out, nil
}

// Standing is one department's compliance score (考核): 100 minus the weighted open violations
// by severity, overdue cases and warnings of its own records (not its subtree's, so that no
// finding counts twice), at least 0.
type Standing struct {
	Rank       int     `json:"rank"`
	Department string  `json:"department"`
	High       int     `json:"high"`
	Medium     int     `json:"medium"`
	Low        int     `json:"low"`
	Overdue    int     `json:"overdue"`
	Warnings   int     `json:"warnings"`
	Score      float64 `json:"score"`
}

// Findings counts one department's own open violations by severity and its warnings.
type Findings struct{ High, Medium, Low, Warnings int }

// FindingsOf counts a report's violations and warnings by department.
func FindingsOf(rep *duty.Report) map[string]Findings {
	out := map[string]Findings{}
	if rep == nil {
		return out
	}
	for _, v := range rep.Violations {
		f := out[v.Department]
		switch v.Severity {
		case "high":
			f.High++
		case "medium":
			f.Medium++
		default:
			f.Low++
		}
		out[v.Department] = f
	}
	for _, w := range rep.Warnings {
		f := out[w.Department]
		f.Warnings++
		out[w.Department] = f
	}
	return out
}

// Standings ranks the departments of organ's tree that the principal may see, best score
// first (ties by department id), from found (the organ's latest report's violations and
// warnings by department: FindingsOf, or the summaries stored at scan time) and the overdue
// cases of the ledger.
func (s *Service) Standings(ctx context.Context, p duty.Principal, organ string, found map[string]Findings) ([]Standing, error) {
	tree, err := s.tree(ctx)
	if err != nil {
		return nil, err
	}
	if tree.Department(organ) == nil || tree.Organ(organ) != organ {
		return nil, fmt.Errorf("organ %q: %w", organ, duty.ErrNotFound)
	}
	depts := tree.Subtree(organ)
	if p.Scope() != "" {
		if tree.Organ(p.Scope()) != organ {
			return nil, fmt.Errorf("organ %q: %w", organ, duty.ErrNotFound)
		}
		depts = tree.Subtree(p.Scope())
	}
	by := map[string]*Standing{}
	for d := range depts {
		f := found[d]
		by[d] = &Standing{Department: d, High: f.High, Medium: f.Medium, Low: f.Low, Warnings: f.Warnings}
	}
	cases, err := s.st.Cases(ctx, organ)
	if err != nil {
		return nil, err
	}
	for i := range cases {
		s.flag(&cases[i])
		if st := by[cases[i].Department]; st != nil && cases[i].Overdue {
			st.Overdue++
		}
	}
	w := s.cfg.Weights
	out := make([]Standing, 0, len(by))
	for _, st := range by {
		loss := w["high"]*float64(st.High) + w["medium"]*float64(st.Medium) + w["low"]*float64(st.Low) +
			w["overdue"]*float64(st.Overdue) + w["warning"]*float64(st.Warnings)
		st.Score = math.Round(max(0, 100-loss)*10) / 10
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b Standing) int {
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

// Formula is the standing's formula in words, with the weights in force, in Chinese (zh) or
// English.
func (s *Service) Formula(lang string) string {
	w := s.cfg.Weights
	f := func(k string) string { return strconv.FormatFloat(w[k], 'f', -1, 64) }
	if lang == "en" {
		return fmt.Sprintf("score = 100 − %s × high − %s × medium − %s × low open violations − %s × overdue cases − %s × warnings (at least 0)",
			f("high"), f("medium"), f("low"), f("overdue"), f("warning"))
	}
	return fmt.Sprintf("得分 = 100 − %s × 高风险问题数 − %s × 中风险问题数 − %s × 低风险问题数 − %s × 逾期未整改案件数 − %s × 预警数（最低为 0）",
		f("high"), f("medium"), f("low"), f("overdue"), f("warning"))
}
