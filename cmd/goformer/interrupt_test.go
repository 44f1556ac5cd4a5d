//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/runtime"
)

// runInterrupted runs the command line with ctx, failing the test instead
// of hanging when the command never returns.
func runInterrupted(t *testing.T, ctx context.Context, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, stdin, &out, &errOut) }()
	select {
	case code = <-done:
		return code, out.String(), errOut.String()
	case <-time.After(20 * time.Second):
		t.Fatalf("%v did not return 20 s after the interrupt", args)
		return 0, "", ""
	}
}

// fifo makes a named pipe that blocks whoever opens it to read until the
// test ends.
func fifo(t *testing.T, path string) {
	require.NoError(t, syscall.Mkfifo(path, 0o600))
	t.Cleanup(func() {
		// Opening the write end lets a blocked open return, and closing
		// it gives the reader end of file.
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
}

// TestRunInterruptedReadingStdin: Ctrl-C while run waits for its prompt on
// standard input (a terminal, here a pipe nobody writes) ends it at once
// with status 130 and one line.
func TestRunInterruptedReadingStdin(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	code, out, errOut := runInterrupted(t, ctx, r, "run", "-n", "4")
	assert.Equal(t, 130, code)
	assert.Equal(t, "goformer run: interrupted\n", errOut)
	assert.Empty(t, out)
}

// TestRunInterruptedLoading: Ctrl-C while the model loads (here a load
// that blocks until the test ends) ends run at once with status 130 and one
// line; so does it for score and for run --prompts.
func TestRunInterruptedLoading(t *testing.T) {
	dir := t.TempDir()
	unblock := make(chan struct{})
	loadPath = func(string, runtime.Options) (*runtime.Model, error) {
		<-unblock
		return nil, errors.New("the test ended")
	}
	t.Cleanup(func() { close(unblock); loadPath = runtime.Load })
	for _, args := range [][]string{
		{"run", "-m", dir, "-n", "4", "Hello"},
		{"run", "-m", dir, "--json", "--prompts", writeLines(t, "Hello")},
		{"score", "-m", dir, writeLines(t, "Hello world")},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		code, out, errOut := runInterrupted(t, ctx, strings.NewReader(""), args...)
		assert.Equal(t, 130, code, args)
		assert.Equal(t, "goformer "+args[0]+": interrupted\n", errOut, args)
		assert.Empty(t, out, args)
	}
}
