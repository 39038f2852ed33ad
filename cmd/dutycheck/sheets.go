package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/sheet"
	"github.com/dutycheck/dutycheck/internal/store"
)

// isSheetFile reports whether an import argument is a workbook or a CSV file rather than a
// dataset folder.
func isSheetFile(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".xlsx" || ext == ".csv"
}

// importSheet imports a workbook (or a CSV file of collection) as the system, through the same
// reading and validation as POST /api/v1/imports; a refused workbook's problems are printed,
// one a line, in Chinese and English, and nothing is written.
func importSheet(ctx context.Context, st *store.Store, path, collection string, stderr io.Writer) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("import %s: %w", path, err)
	}
	res, err := sheet.Import(ctx, sheet.Input{Name: filepath.Base(path), Data: data, Collection: collection}, duty.System("cli"), st, sheet.Limits{}, nil)
	if re, ok := err.(*sheet.RefusedError); ok {
		for _, p := range re.Problems {
			fmt.Fprintf(stderr, "%s\n  %s\n", p.In("zh"), p.In("en"))
		}
		return 0, fmt.Errorf("import %s: %d problems; nothing was written: %w", path, len(re.Problems), duty.ErrInvalid)
	}
	if err != nil {
		return 0, fmt.Errorf("import %s: %w", path, err)
	}
	return res.Written, nil
}
