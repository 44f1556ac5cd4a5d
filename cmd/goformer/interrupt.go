package main

import (
	"context"
	"errors"
)

// errInterrupted is how a command ended by Ctrl-C reports it; main exits
// with status 130 (128 + SIGINT), as a shell does for a process the signal
// ended.
var errInterrupted = errors.New("interrupted")

// interruptible returns what f returns, or ctx's error as soon as ctx is
// done: reading a terminal, a pipe or a FIFO, or loading a model, watches no
// context itself. f then runs on in the background, and discard, when not
// nil, releases what it returns.
func interruptible[T any](ctx context.Context, f func() (T, error), discard func(T)) (T, error) {
	type result struct {
		v   T
		err error
	}
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		if discard != nil {
			go func() {
				if r := <-done; r.err == nil {
					discard(r.v)
				}
			}()
		}
		return zero, ctx.Err()
	}
}
