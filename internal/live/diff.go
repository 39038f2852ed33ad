package live

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Diff compares the files of two stored revisions.
func (m *Manager) Diff(ctx context.Context, from, to string) ([]duty.FileDiff, error) {
	a, err := m.cfg.Store.Revision(ctx, from)
	if err != nil {
		return nil, err
	}
	b, err := m.cfg.Store.Revision(ctx, to)
	if err != nil {
		return nil, err
	}
	return DiffFiles(a.Files, b.Files), nil
}

// DiffFiles compares two bundles' files, path by path.
func DiffFiles(a, b map[string]string) []duty.FileDiff {
	paths := map[string]bool{}
	for p := range a {
		paths[p] = true
	}
	for p := range b {
		paths[p] = true
	}
	var out []duty.FileDiff
	for p := range paths {
		x, inA := a[p]
		y, inB := b[p]
		switch {
		case inA && inB && x == y:
			continue
		case !inA:
			out = append(out, duty.FileDiff{Path: p, Status: "added", Unified: Unified(p, "", y)})
		case !inB:
			out = append(out, duty.FileDiff{Path: p, Status: "removed", Unified: Unified(p, x, "")})
		default:
			out = append(out, duty.FileDiff{Path: p, Status: "changed", Unified: Unified(p, x, y)})
		}
	}
	slices.SortFunc(out, func(x, y duty.FileDiff) int { return strings.Compare(x.Path, y.Path) })
	return out
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// Unified returns a unified diff of two texts (longest common subsequence of lines, hunks with
// three lines of context). Bundle files are small, so the quadratic table is fine.
func Unified(name, a, b string) string {
	x, y := splitLines(a), splitLines(b)
	n, m := len(x), len(y)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type op struct {
		kind byte // ' ', '-', '+'
		text string
		ai   int
		bi   int
	}
	var ops []op
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			ops = append(ops, op{' ', x[i], i, j})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', x[i], i, j})
			i++
		default:
			ops = append(ops, op{'+', y[j], i, j})
			j++
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- a/%s\n+++ b/%s\n", name, name)
	const ctx = 3
	for k := 0; k < len(ops); {
		if ops[k].kind == ' ' {
			k++
			continue
		}
		start := max(k-ctx, 0)
		end := k
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run-end > 2*ctx || run == len(ops) {
				end = min(end+ctx, len(ops))
				break
			}
			end = run
		}
		aLen, bLen := 0, 0
		for _, o := range ops[start:end] {
			if o.kind != '+' {
				aLen++
			}
			if o.kind != '-' {
				bLen++
			}
		}
		fmt.Fprintf(&sb, "@@ -%d,%d +%d,%d @@\n", ops[start].ai+1, aLen, ops[start].bi+1, bLen)
		for _, o := range ops[start:end] {
			sb.WriteByte(o.kind)
			sb.WriteString(o.text)
			if !strings.HasSuffix(o.text, "\n") {
				sb.WriteString("\n")
			}
		}
		k = end
	}
	return sb.String()
}
