package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// isTerminal reports whether f, a standard input or output, is a terminal
// (not a pipe, a file or /dev/null): one a person types into or reads.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(file.Fd()), unix.TCGETS)
	return err == nil
}
