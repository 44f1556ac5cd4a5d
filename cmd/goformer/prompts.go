package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

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
// run PROMPT does; a prompt that fails (too long, past the context, a
// result that cannot be printed) gets its error, naming its input line, in
// its own output line and the others complete, and then the error returned
// counts the failures. Only ctx and a failed write end it early.
func runPrompts(ctx context.Context, mf *modelFlags, br batchRun, opts runtime.GenerateOptions, stdin io.Reader, stdout io.Writer) error {
	in, err := readJSONLines(ctx, br.file, stdin)
	if err != nil {
		return err
	}
	texts := in.texts
	where := func(i int) string { return fmt.Sprintf("%s:%d", br.file, in.lines[i]) }
	m, err := mf.load(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	// More slots than prompts would only cost memory.
	bopts := runtime.BatchOptions{Sequences: max(1, min(br.sequences, len(texts))), Capacity: br.ctx, Keep: br.keep}
	if err := checkBatchMemory(m, bopts, availableMemory(), "--batch", true); err != nil {
		return err
	}
	b, err := m.NewBatch(bopts)
	if err != nil {
		return usageError("--batch %d --ctx %d --keep %d: %v", br.sequences, br.ctx, br.keep, err)
	}
	tok := m.Tokenizer()
	limit := promptBytes(b.Room(), tok.LongestToken())
	reqs := make([]runtime.BatchRequest, len(texts))
	results := make([]runResult, len(texts))
	for i, text := range texts {
		if limit.bytes > 0 && len(text) > limit.bytes {
			// Tokenize no more than shows it cannot fit: this prefix is
			// already more tokens than the context holds, and the batch
			// refuses it in its own line.
			text = text[:limit.bytes+1]
		}
		reqs[i] = runtime.BatchRequest{Prompt: m.EncodePrompt(text), GenerateOptions: opts}
		if br.randSeed {
			reqs[i].Seed = runtime.RandomSeed()
		}
		results[i] = runResult{PromptTokens: append([]int{}, reqs[i].Prompt...), Tokens: []int{}, Logprobs: []float64{}, Seed: reqs[i].Seed}
		results[i].WeightTypes, results[i].WeightBytesPerToken = weightTypes(m)
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
				res.TopLogprobs = append(res.TopLogprobs, withText(tok, ev.Token.TopLogprobs))
			}
			continue
		}
		finishResult(res, tok, ev, where(ev.Seq))
		res.FinishReason = finishReason(ev.Err, len(res.Tokens), opts.MaxTokens)
		done[ev.Seq] = true
		for ; printed < len(texts) && done[printed]; printed++ {
			line, ok := promptLine(&results[printed], where(printed))
			if !ok {
				failed++
			}
			w.Write(line)
			results[printed] = runResult{} // printed: let it go
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return failedLines(failed, len(texts), "prompts", `their "error" fields`)
}

// checkBatchMemory refuses a batch whose estimated memory is more than
// avail bytes (0: unknown, nothing is refused), before allocating it: the
// runtime would otherwise die out of memory with a stack trace. flag is
// the option that set the number of sequences (--batch, --slots); hasCtx
// says whether the command also has --ctx to suggest (score --lines has
// not).
func checkBatchMemory(m *runtime.Model, opts runtime.BatchOptions, avail int64, flag string, hasCtx bool) error {
	need, err := m.BatchMemory(opts)
	if err != nil || avail == 0 || need <= avail {
		return nil // NewBatch reports bad options itself
	}
	lower := flag
	if hasCtx {
		lower += " or --ctx"
	}
	return usageError("%s %d: %d sequences need an estimated %s (mostly their KV caches), more than the %s of memory available: lower %s",
		flag, opts.Sequences, opts.Sequences, gib(need), gib(avail), lower)
}

// finishResult fills in a sequence's text, speeds and error when it ends;
// where names its input line in the error.
func finishResult(res *runResult, tok *tokenizer.Tokenizer, ev runtime.BatchEvent, where string) {
	res.ISA = kernels.ISA()
	res.PrefillTokensPerS = finite(ev.Stats.PrefillTokensPerSecond())
	res.DecodeTokensPerS = finite(ev.Stats.DecodeTokensPerSecond())
	if ev.Err != nil {
		res.Error = fmt.Sprintf("%s: %v", where, ev.Err)
	}
	dec := tok.NewStreamDecoder()
	var text []byte
	for _, id := range res.Tokens {
		piece, err := dec.Add(id)
		if err != nil {
			if res.Error == "" {
				res.Error = fmt.Sprintf("%s: %v", where, err)
			}
			break
		}
		text = append(text, piece...)
	}
	res.Text = string(append(text, dec.Flush()...))
}

// promptLine is res as one line of JSON, and whether the prompt succeeded.
// A result JSON cannot carry (a NaN log-probability) becomes a line of its
// prompt tokens and the error, named by where, so that one bad sequence
// never costs the lines after it.
func promptLine(res *runResult, where string) ([]byte, bool) {
	out, err := json.Marshal(res)
	if err != nil {
		// Ids and a string always marshal.
		out, _ = json.Marshal(runResult{PromptTokens: res.PromptTokens, Tokens: []int{}, Logprobs: []float64{},
			ISA: res.ISA, Error: fmt.Sprintf("%s: %v", where, err)})
		return append(out, '\n'), false
	}
	return append(out, '\n'), res.Error == ""
}
