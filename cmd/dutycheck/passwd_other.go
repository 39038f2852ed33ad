//go:build !linux

package main

import "os"

// isTerminal is false outside Linux: the password is read as the first line of standard input
// (pipe it in, e.g. from a password manager), never echoed by this program.
func isTerminal(*os.File) bool { return false }

func readHidden(f *os.File) (string, error) { return readLine(f) }
