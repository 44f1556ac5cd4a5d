package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model/tokenizer"
	"github.com/goformer/goformer/runtime"
)

// batchRun is what run --prompts needs besides the sampling options.
type batchRun struct {
	file      string
	sequences int
	ctx       int
	keep      int
	topLogs   int
	randSeed  bool
}

// runPrompts generates from every prompt of the file as one batch and
// prints one runResult per line, in input order, each as soon as it and
// those before it are done. An empty prompt generates unconditionally, as
// run PROMPT does; a prompt that fails (too long, past the context) gets
// its error in its line and the others complete, and then the error
// returned counts the failures.
func runPrompts(ctx context.Context, mf *modelFlags, br batchRun, opts runtime.GenerateOptions, stdin io.Reader, stdout io.Writer) error {
	texts, err := readJSONLines(ctx, br.file, stdin)
	if err != nil {
		return err
	}
	m, err := mf.load(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	// More slots than prompts would only cost memory.
	b, err := m.NewBatch(runtime.BatchOptions{Sequences: max(1, min(br.sequences, len(texts))), Capacity: br.ctx, Keep: br.keep})
	if err != nil {
		return usageError("--batch %d --ctx %d --keep %d: %v", br.sequences, br.ctx, br.keep, err)
	}
	tok := m.Tokenizer()
	reqs := make([]runtime.BatchRequest, len(texts))
	results := make([]runResult, len(texts))
	for i, text := range texts {
		reqs[i] = runtime.BatchRequest{Prompt: promptIDs(m, text), GenerateOptions: opts}
		if br.randSeed {
			reqs[i].Seed = rand.Uint64()
		}
		results[i] = runResult{PromptTokens: append([]int{}, reqs[i].Prompt...), Tokens: []int{}, Logprobs: []float64{}}
	}

	w := bufio.NewWriter(stdout)
	defer w.Flush()
	done := make([]bool, len(texts))
	printed, failed := 0, 0
	for ev, err := range b.Generate(ctx, reqs) {
		if err != nil {
			return err
		}
		res := &results[ev.Seq]
		if !ev.Done {
			res.Tokens = append(res.Tokens, ev.Token.ID)
			res.Logprobs = append(res.Logprobs, ev.Token.Logprob)
			if br.topLogs > 0 {
				res.TopLogprobs = append(res.TopLogprobs, append([]runtime.TokenLogprob(nil), ev.Token.TopLogprobs...))
			}
			continue
		}
		if err := finishResult(res, tok, ev); err != nil {
			return err
		}
		if ev.Err != nil {
			failed++
		}
		done[ev.Seq] = true
		for ; printed < len(texts) && done[printed]; printed++ {
			out, err := json.Marshal(results[printed])
			if err != nil {
				return err
			}
			w.Write(append(out, '\n'))
			results[printed] = runResult{} // printed: let it go
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return failedLines(failed, len(texts), "prompts", `their "error" fields`)
}

// finishResult fills in a sequence's text, speeds and error when it ends.
func finishResult(res *runResult, tok *tokenizer.Tokenizer, ev runtime.BatchEvent) error {
	dec := tok.NewStreamDecoder()
	var text []byte
	for _, id := range res.Tokens {
		piece, err := dec.Add(id)
		if err != nil {
			return err
		}
		text = append(text, piece...)
	}
	res.Text = string(append(text, dec.Flush()...))
	res.ISA = kernels.ISA()
	res.PrefillTokensPerS = finite(ev.Stats.PrefillTokensPerSecond())
	res.DecodeTokensPerS = finite(ev.Stats.DecodeTokensPerSecond())
	if ev.Err != nil {
		res.Error = ev.Err.Error()
	}
	return nil
}
