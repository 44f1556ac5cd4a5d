//go:build !linux

package main

import (
	"io"
	"os"
)

// isTerminal reports whether r is a character device, most likely a
// terminal (on Linux it asks the terminal driver).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
