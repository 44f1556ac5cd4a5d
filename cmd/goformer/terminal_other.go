//go:build !linux

package main

import (
	"os"
)

// isTerminal reports whether f, a standard input or output, is a
// character device, most likely a terminal (on Linux it asks the terminal
// driver).
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	info, err := file.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
