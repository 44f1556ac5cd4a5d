package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/goformer/goformer/runtime"
)

// job is one generation request between its handler and the scheduler. The
// scheduler feeds its tokens through out and publishes the chunks; the
// handler takes them and writes them to the client.
type job struct {
	ctx     context.Context // the request's: done when its client goes away
	req     runtime.BatchRequest
	out     *output // the scheduler's alone
	arrived time.Time

	ready chan struct{} // a buffer of one: something new to take

	mu       sync.Mutex
	chunks   []chunk
	ended    bool
	finish   string // "stop" or "length", once ended without err
	err      error
	firstAt  time.Time // when the first token came: time to first token
	lastAt   time.Time
	usage    usage
	admitted bool // the job got a slot
}

func newJob(ctx context.Context, req runtime.BatchRequest, out *output) *job {
	return &job{ctx: ctx, req: req, out: out, arrived: time.Now(), ready: make(chan struct{}, 1),
		usage: usage{PromptTokens: len(req.Prompt)}}
}

// publish hands c to the handler, if it holds anything.
func (j *job) publish(c chunk) {
	if c.text == "" && len(c.tokens) == 0 {
		return
	}
	j.mu.Lock()
	j.chunks = append(j.chunks, c)
	j.mu.Unlock()
	j.signal()
}

// end closes the job: finish says why it ended, or err why it failed.
func (j *job) end(finish string, err error) {
	j.mu.Lock()
	if !j.ended {
		j.ended, j.finish, j.err = true, finish, err
		j.usage.CompletionTokens = j.out.tokens
		j.usage.TotalTokens = j.usage.PromptTokens + j.usage.CompletionTokens
	}
	j.mu.Unlock()
	j.signal()
}

func (j *job) signal() {
	select {
	case j.ready <- struct{}{}:
	default:
	}
}

// take returns the chunks published since the last take, and whether the
// job has ended (then nothing more comes).
func (j *job) take() ([]chunk, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	cs := j.chunks
	j.chunks = nil
	return cs, j.ended
}

// result is how the job ended, once take has reported it.
func (j *job) result() (finish string, err error, u usage) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.finish, j.err, j.usage
}

// timing is when the first token came, zero before.
func (j *job) timing() (first time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.firstAt
}

// wait blocks until something is new or ctx is done; it reports false for
// ctx.
func (j *job) wait(ctx context.Context) bool {
	select {
	case <-j.ready:
		return true
	case <-ctx.Done():
		return false
	}
}

// finishReason is OpenAI's finish_reason for a sequence that ended with
// err (nil at the end-of-text token or MaxTokens) after tokens tokens: a
// full context is a "length" too.
func finishReason(err error, tokens, maxTokens int) (string, error) {
	switch {
	case errors.Is(err, runtime.ErrContextFull):
		return "length", nil
	case err != nil:
		return "", err
	case maxTokens > 0 && tokens >= maxTokens:
		return "length", nil
	}
	return "stop", nil
}
