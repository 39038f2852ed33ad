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
		// The service's gate: capabilities, a test for every policy, then the tests (a failing
		// test is reported below, with the others).
		_, results, err := policy.Check(ctx, b)
		if err != nil && results == nil {
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
	case "push":
		return policyPush(ctx, args[1:], stdout, stderr)
	case "revisions":
		return policyRevisions(ctx, args[1:], stdout, stderr)
	case "activate":
		return policyActivate(ctx, args[1:], stdout, stderr)
	}
	return exitBadInput, fmt.Errorf("policy: unknown subcommand %q (expected test, push, revisions or activate)", args[0])
}

// policyPush sends a whole policy folder to the service as a new revision: it passes the same
// gate as any change (compile and Rego tests) and becomes active at once.
func policyPush(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("policy push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := clientFlags(fs)
	message := fs.String("m", "", "why: kept with the revision")
	if err := fs.Parse(args); err != nil {
		return exitBadInput, errUsage
	}
	if fs.NArg() != 1 {
		return exitBadInput, fmt.Errorf("policy push: expected one policy folder")
	}
	b, err := policy.LoadDir(fs.Arg(0))
	if err != nil {
		return exitBadInput, err
	}
	files := map[string]*string{}
	for p, content := range b.Files {
		files[p] = &content
	}
	msg := *message
	if msg == "" {
		msg = "pushed from " + fs.Arg(0)
	}
	var out struct {
		Revision struct {
			ID, Hash string
		} `json:"revision"`
	}
	if err := c.call(ctx, "POST", "/api/v1/policies/revisions", map[string]any{"files": files, "replace": true, "message": msg}, &out); err != nil {
		return exitBadInput, fmt.Errorf("policy push: %w", err)
	}
	fmt.Fprintf(stdout, "revision %s (%s) is active\n", out.Revision.ID, out.Revision.Hash)
	return exitOK, nil
}

func policyRevisions(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("policy revisions", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := clientFlags(fs)
	if err := fs.Parse(args); err != nil {
		return exitBadInput, errUsage
	}
	var out struct {
		Active    string `json:"active"`
		Revisions []struct {
			ID, Hash, Author, Message string
			CreatedAt                 string `json:"created_at"`
		} `json:"revisions"`
	}
	if err := c.call(ctx, "GET", "/api/v1/policies/revisions", nil, &out); err != nil {
		return exitBadInput, fmt.Errorf("policy revisions: %w", err)
	}
	for _, r := range out.Revisions {
		mark := " "
		if r.ID == out.Active {
			mark = "*"
		}
		fmt.Fprintf(stdout, "%s %-5s %s  %s  %-20s %s\n", mark, r.ID, r.Hash, r.CreatedAt, r.Author, r.Message)
	}
	return exitOK, nil
}

func policyActivate(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("policy activate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := clientFlags(fs)
	if err := fs.Parse(args); err != nil {
		return exitBadInput, errUsage
	}
	if fs.NArg() != 1 {
		return exitBadInput, fmt.Errorf("policy activate: expected one revision id, e.g. r3")
	}
	if err := c.call(ctx, "POST", "/api/v1/policies/revisions/"+fs.Arg(0)+"/activate", nil, nil); err != nil {
		return exitBadInput, fmt.Errorf("policy activate: %w", err)
	}
	fmt.Fprintf(stdout, "revision %s is active\n", fs.Arg(0))
	return exitOK, nil
}
