package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/policy"
	"github.com/dutycheck/dutycheck/internal/scan"
)

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	input := fs.String("input", "", "dataset folder: one <collection>.json array per collection (required)")
	asOf := fs.String("as-of", "", "scan date YYYY-MM-DD (default today)")
	dept := fs.String("department", "", "report only this department's subtree")
	policies := fs.String("policies", "", "policy bundle folder (default: the built-in bundle)")
	format := fs.String("format", "json", "output format: json, csv or table")
	lang := fs.String("lang", "zh", "table language: zh or en")
	header := fs.String("header", "codes", "CSV header row: codes (the column names of docs/report.md) or zh (their Chinese titles)")
	noWarnings := fs.Bool("no-warnings", false, "leave out the warnings (checks due to fail within their duty's warn_days)")
	if err := fs.Parse(args); err != nil {
		return exitBadInput, errUsage
	}
	if fs.NArg() > 0 {
		return exitBadInput, fmt.Errorf("scan: unexpected argument %q", fs.Arg(0))
	}
	if *input == "" {
		return exitBadInput, fmt.Errorf("scan: --input DIR is required")
	}
	if *format != "json" && *format != "csv" && *format != "table" {
		return exitBadInput, fmt.Errorf("scan: --format must be json, csv or table, got %q", *format)
	}
	if *lang != "zh" && *lang != "en" {
		return exitBadInput, fmt.Errorf("scan: --lang must be zh or en, got %q", *lang)
	}
	if *header != "codes" && *header != "zh" {
		return exitBadInput, fmt.Errorf("scan: --header must be codes or zh, got %q", *header)
	}
	eng, err := loadEngine(ctx, *policies)
	if err != nil {
		return exitBadInput, err
	}
	ds, err := duty.LoadDir(*input)
	if err != nil {
		return exitBadInput, fmt.Errorf("dataset %s: %w", *input, err)
	}
	rep, err := scan.Dataset(ctx, ds, scan.Options{AsOf: *asOf, Department: *dept, Engine: eng})
	if err != nil {
		return exitBadInput, err
	}
	if *noWarnings {
		scan.SetWarnings(rep, nil)
	}
	switch *format {
	case "csv":
		names := map[string]map[string]string{"departments": {}, "people": {}}
		for c, m := range names {
			for _, d := range ds.Docs[c] {
				m[d.ID()] = d.Str("name")
			}
		}
		err = duty.WriteCSV(stdout, rep, eng, duty.CSVOptions{Chinese: *header == "zh",
			Names: func(c, id string) string { return names[c][id] }})
	case "table":
		tree := duty.NewTree(ds.Docs["departments"])
		err = duty.WriteTable(stdout, rep, *lang, eng, func(id string) string { return tree.Department(id).Str("name") })
	default:
		err = duty.WriteJSON(stdout, rep)
	}
	if err != nil {
		return exitBadInput, err
	}
	// Warnings never change the exit status: it is about violations only.
	if len(rep.Violations) > 0 {
		return exitViolations, nil
	}
	return exitOK, nil
}

// loadEngine compiles the bundle in dir, or the built-in bundle when dir is "".
func loadEngine(ctx context.Context, dir string) (*policy.Engine, error) {
	b := policy.Builtin()
	if dir != "" {
		var err error
		if b, err = policy.LoadDir(dir); err != nil {
			return nil, err
		}
	}
	return policy.Compile(ctx, b)
}
