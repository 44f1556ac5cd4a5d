package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endless is a standard input that never ends, like /dev/zero.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.read += int64(len(p))
	return len(p), nil
}

// TestRunStopsReadingAPromptThatCannotFit: a prompt on standard input is
// read only as far as could fit the context (its positions times the
// longest token's bytes): an endless input ends at once with the context's
// error instead of growing until the process runs out of memory; a long
// PROMPT argument is refused before it is tokenized.
func TestRunStopsReadingAPromptThatCannotFit(t *testing.T) {
	in := &endless{}
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(context.Background(), []string{"run", "-n", "1"}, in, &out, &errOut) }()
	select {
	case code := <-done:
		assert.Equal(t, 1, code)
	case <-time.After(30 * time.Second):
		t.Fatal("run kept reading an endless prompt")
	}
	assert.Empty(t, out.String())
	assert.Regexp(t, `^goformer run: the prompt is over \d+ bytes: at most \d+ bytes a token, it cannot fit the 256 positions left in the context \(--ctx, --context-shift\): context full\n$`, errOut.String())
	assert.Less(t, in.read, int64(1<<20), "read no further than the limit")

	code, stdout, stderr := runCLI("", "run", "-n", "1", "--ctx", "16", strings.Repeat("word ", 100_000))
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Regexp(t, `^goformer run: the prompt is 500000 bytes: at most \d+ bytes a token, it cannot fit the 16 positions left`, stderr)
}

// TestRunPromptsRefusesALongLineItself: a --prompts line longer than the
// context could hold fails in its own line without being tokenized whole;
// the others complete.
func TestRunPromptsRefusesALongLineItself(t *testing.T) {
	file := writeLines(t, "Hello", strings.Repeat("word ", 200_000), "Once upon")
	code, out, errOut := runCLI("", "run", "--json", "-n", "2", "--temp", "0", "--prompts", file)
	assert.Equal(t, 1, code, errOut)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 3)
	var res []runResult
	for _, l := range lines {
		var r runResult
		require.NoError(t, json.Unmarshal([]byte(l), &r))
		res = append(res, r)
	}
	assert.Empty(t, res[0].Error)
	assert.Contains(t, res[1].Error, file+":2: prompt of ")
	assert.Contains(t, res[1].Error, "context full")
	assert.Empty(t, res[2].Error)
}

// TestRunPromptsBatchBoundByMemory: --batch asking for more memory than
// the machine has is refused before anything is allocated, naming the
// estimate, instead of dying out of memory with a stack trace.
func TestRunPromptsBatchBoundByMemory(t *testing.T) {
	if availableMemory() == 0 {
		t.Skip("no MemAvailable on this platform")
	}
	file := filepath.Join(t.TempDir(), "many.jsonl")
	require.NoError(t, os.WriteFile(file, bytes.Repeat([]byte("\"a\"\n"), 100_000), 0o644))
	code, out, errOut := runCLI("", "run", "--json", "--batch", "100000", "--prompts", file)
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.Regexp(t, `^goformer run: usage: --batch 100000: 100000 sequences need an estimated \d+\.\d GiB \(mostly their KV caches\), more than the \d+\.\d GiB of memory available: lower --batch or --ctx\n$`, errOut)
}

// TestScoreLinesBatchBoundByMemory: score --lines --batch is bounded the
// same way: a batch larger than the machine's memory is refused naming the
// estimate (it used to allocate the KV caches and die with "fatal error:
// out of memory" and a goroutine trace).
func TestScoreLinesBatchBoundByMemory(t *testing.T) {
	if availableMemory() == 0 {
		t.Skip("no MemAvailable on this platform")
	}
	file := filepath.Join(t.TempDir(), "many.jsonl")
	require.NoError(t, os.WriteFile(file, bytes.Repeat([]byte("\"a b\"\n"), 100_000), 0o644))
	code, out, errOut := runCLI("", "score", "--batch", "100000", "--lines", file)
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.Regexp(t, `^goformer score: usage: --batch 100000: 100000 sequences need an estimated \d+\.\d GiB \(mostly their KV caches\), more than the \d+\.\d GiB of memory available: lower --batch\n$`, errOut)
}
