package main

import (
	"context"
	"io"
	"os"
)

// readInput reads the text a command works on, byte for byte: the one FILE
// argument, or standard input when there is none or it is "-". It returns
// ctx's error as soon as ctx is done, even while the read blocks (a
// terminal, a FIFO).
func readInput(ctx context.Context, files []string, stdin io.Reader) ([]byte, error) {
	return interruptible(ctx, func() ([]byte, error) {
		if len(files) == 0 || files[0] == "-" {
			return io.ReadAll(stdin)
		}
		return os.ReadFile(files[0])
	}, nil)
}
