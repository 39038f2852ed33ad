package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/dutycheck/dutycheck/internal/gen"
)

// genConfig is what `dutycheck gen` needs.
type genConfig struct {
	Organs int
	Seed   int64
	Year   int
	Rate   float64
	Out    string
}

func runGen(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg genConfig
	fs.IntVar(&cfg.Organs, "organs", 1, "number of organs (each about 300 people and 1,400 records)")
	fs.Int64Var(&cfg.Seed, "seed", 1, "random seed: the same options give byte-identical files")
	fs.IntVar(&cfg.Year, "year", 2025, "scan year Y: records are complete as of Y-12-31")
	fs.Float64Var(&cfg.Rate, "rate", 0.05, "share of duty checks deliberately failed, 0 to 1")
	fs.StringVar(&cfg.Out, "out", "", "dataset folder to write (required): one <collection>.json per collection")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("gen: unexpected argument %q", fs.Arg(0))
	case cfg.Out == "":
		return fmt.Errorf("gen: --out DIR is required")
	case cfg.Organs < 1:
		return fmt.Errorf("gen: --organs must be at least 1, got %d", cfg.Organs)
	case cfg.Year < 1901 || cfg.Year > 9998:
		return fmt.Errorf("gen: --year must be between 1901 and 9998, got %d", cfg.Year)
	case cfg.Rate < 0 || cfg.Rate > 1:
		return fmt.Errorf("gen: --rate must be between 0 and 1, got %g", cfg.Rate)
	}
	ds := gen.Generate(gen.Options{Organs: cfg.Organs, Seed: cfg.Seed, Year: cfg.Year, ViolationRate: cfg.Rate})
	if err := ds.WriteDir(cfg.Out); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %d organs, %d records to %s\n", cfg.Organs, ds.Count(), cfg.Out)
	return nil
}
