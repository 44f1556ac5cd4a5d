package main

import (
	"io"
	"os"
)

// readInput reads the text a command works on, byte for byte: the one FILE
// argument, or standard input when there is none or it is "-".
func readInput(files []string, stdin io.Reader) ([]byte, error) {
	if len(files) == 0 || files[0] == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(files[0])
}
