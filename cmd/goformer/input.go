package main

import (
	"context"
	"io"
	"os"
)

// openInput opens what readInput reads, to be read as a stream: each Read
// returns ctx's error as soon as ctx is done, even while it blocks.
func openInput(ctx context.Context, files []string, stdin io.Reader) (io.ReadCloser, error) {
	if len(files) == 0 || files[0] == "-" {
		return ctxReader{ctx, stdin, io.NopCloser(nil)}, nil
	}
	f, err := interruptible(ctx, func() (*os.File, error) { return os.Open(files[0]) }, func(f *os.File) { f.Close() })
	if err != nil {
		return nil, err
	}
	return ctxReader{ctx, f, f}, nil
}

// ctxReader is a reader whose reads end with ctx.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
	io.Closer
}

func (c ctxReader) Read(p []byte) (int, error) {
	// The read goes on in the background after ctx ends; the caller
	// then stops reading, so nothing reads p meanwhile.
	n, err := interruptible(c.ctx, func() (int, error) { return c.r.Read(p) }, nil)
	return n, err
}

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
