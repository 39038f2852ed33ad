package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/dutycheck/dutycheck/internal/policy"
)

func runPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) == 0 {
		return exitBadInput, fmt.Errorf("policy: expected a subcommand: test")
	}
	switch args[0] {
	case "test":
		fs := flag.NewFlagSet("policy test", flag.ContinueOnError)
		fs.SetOutput(stderr)
		verbose := fs.Bool("v", false, "print every test, not only failures")
		if err := fs.Parse(args[1:]); err != nil {
			return exitBadInput, errUsage
		}
		b := policy.Builtin()
		if dir := fs.Arg(0); dir != "" {
			var err error
			if b, err = policy.LoadDir(dir); err != nil {
				return exitBadInput, err
			}
		}
		if _, err := policy.Compile(ctx, b); err != nil {
			return exitBadInput, err
		}
		results, err := policy.Test(ctx, b)
		if err != nil {
			return exitBadInput, err
		}
		pass, fail := 0, 0
		for _, r := range results {
			if r.Pass || r.Skip {
				pass++
			} else {
				fail++
			}
			if *verbose || (!r.Pass && !r.Skip) {
				fmt.Fprintln(stdout, r)
			}
		}
		fmt.Fprintf(stdout, "%d passed, %d failed\n", pass, fail)
		if fail > 0 {
			return exitViolations, nil
		}
		return exitOK, nil
	}
	return exitBadInput, fmt.Errorf("policy: unknown subcommand %q", args[0])
}
