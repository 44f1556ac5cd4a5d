package main

import (
	"context"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goformer/goformer/model/tokenizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// signalWriter collects what is written and closes first at the first write.
type signalWriter struct {
	mu    sync.Mutex
	b     strings.Builder
	first chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.b.Len() == 0 {
		close(w.first)
	}
	return w.b.Write(p)
}

// TestTokenizeStreams: tokenize writes the ids of a large input while it is
// still reading it (in bounded memory: one chunk at a time), and what it
// writes is the whole text's ids, in both output forms.
func TestTokenizeStreams(t *testing.T) {
	line := "It was the best of times, it was the worst of times 1859\n"
	text := strings.Repeat(line, (5<<18)/len(line))
	head := tokenizer.ChunkSize + 64<<10 // more than a chunk
	tok, err := tokenizer.LoadDir(gpt2Dir)
	require.NoError(t, err)
	want := tok.Encode(text)
	ids := make([]string, len(want))
	for i, id := range want {
		ids[i] = strconv.Itoa(id)
	}

	for _, asJSON := range []bool{false, true} {
		in, feed := io.Pipe()
		out := &signalWriter{first: make(chan struct{})}
		args := []string{"tokenize", "-m", gpt2Dir}
		if asJSON {
			args = append(args, "--json")
		}
		done := make(chan int)
		go func() {
			var errOut strings.Builder
			done <- run(context.Background(), args, in, out, &errOut)
		}()
		// A chunk and a bit, then wait for output before the rest.
		_, err = io.WriteString(feed, text[:head])
		require.NoError(t, err)
		select {
		case <-out.first:
		case <-time.After(10 * time.Second):
			t.Fatal("no output before the input ended")
		}
		_, err = io.WriteString(feed, text[head:])
		require.NoError(t, err)
		feed.Close()
		require.Equal(t, 0, <-done)
		if asJSON {
			assert.Equal(t, `{"tokens":[`+strings.Join(ids, ",")+`],"tokenizer":"bpe/gpt-2"}`+"\n", out.b.String())
		} else {
			assert.Equal(t, strings.Join(ids, " ")+"\n", out.b.String())
		}
	}
}
