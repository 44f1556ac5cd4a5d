package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/runtime"
)

const scoreUsage = "goformer score [-m MODEL] [--weights f32|int8] [--embeddings int8|f32] [--activations int8|int8x2] [--threads N] [--json] [--ctx N [--stride S]] [FILE | -p TEXT | --lines FILE [--batch N]]"

// runScore prints the log-likelihood and perplexity of a text: FILE, or
// standard input, read byte for byte.
func runScore(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("score", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs, stderr)
	asJSON := fs.Bool("json", false, `print {"tokens":N,"log_likelihood":..,"perplexity":..}`)
	lines := fs.String("lines", "", "score every text of FILE (one JSON string per line; - is standard input) in batches, one result per line in input order; exit status 1 if any failed")
	sequences := fs.Int("batch", 8, "with --lines, the most texts in one batch")
	chunk := fs.Int("ctx", 0, "score a text of any length as llama-perplexity -c N does: chunks of `N` tokens, each from an empty cache, the second half of each predicted")
	alias(fs, "c", "ctx")
	stride := fs.Int("stride", 0, "with --ctx N, slide windows of N tokens by `S`, each predicting the tokens it adds (Hugging Face's sliding-window perplexity)")
	textFlag := fs.String("prompt", "", "the text, instead of FILE")
	alias(fs, "p", "prompt")
	files, err := parseFlags(fs, args, scoreUsage, stdout)
	if err != nil {
		return err
	}
	textSet := flagSet(fs, "prompt")
	switch {
	case textSet && (len(files) > 0 || *lines != ""):
		return usageError("give one of FILE, -p TEXT and --lines FILE")
	case *chunk < 0 || *stride < 0:
		return usageError("--ctx and --stride must be ≥ 0")
	case *stride > 0 && *chunk == 0:
		return usageError("--stride needs --ctx N")
	case *chunk > 0 && *lines != "":
		return usageError("--ctx is for one long text, not --lines")
	case len(files) > 1:
		return usageError("one FILE at most, got %d (usage: %s)", len(files), scoreUsage)
	case *lines != "" && len(files) > 0:
		return usageError("give a FILE or --lines FILE, not both")
	case *sequences < 1:
		return usageError("--batch must be at least 1, got %d", *sequences)
	}
	if err := kernels.EnvError(); err != nil {
		return err
	}
	// Ctrl-C ends whatever score is doing: reading the text, loading the
	// model or scoring.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	if *lines != "" {
		return scoreLines(ctx, &mf, *lines, *sequences, *asJSON, stdin, stdout)
	}
	text := []byte(*textFlag)
	if !textSet {
		if text, err = readInput(ctx, files, stdin); err != nil {
			return err
		}
	}
	m, err := mf.load(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	// BOS first where the tokenizer adds one; with --ctx every chunk then
	// starts from BOS, as llama-perplexity's do.
	ids := m.Tokenizer().EncodePrompt(string(text))
	if *chunk > 0 {
		_, bos := m.Tokenizer().AddsBOS()
		return scoreChunks(ctx, m, ids, runtime.PerplexityOptions{Context: *chunk, Stride: *stride, BOS: bos}, *asJSON, stdout, stderr)
	}
	s, err := m.NewSession(runtime.SessionOptions{})
	if err != nil {
		return err
	}
	where := "standard input"
	if len(files) == 1 && files[0] != "-" {
		where = files[0]
	}
	sc, err := s.Score(ctx, ids)
	if errors.Is(err, runtime.ErrContextFull) {
		return fmt.Errorf("%w; --ctx N scores a longer text in chunks of N", err)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	w := bufio.NewWriter(stdout)
	if *asJSON {
		out, err := json.Marshal(sc)
		if err != nil {
			// A perplexity past float64's range: exp of a mean log-probability below −709.
			return fmt.Errorf("%s: log-likelihood %g, perplexity %g: the score cannot be written as JSON: %w", where, sc.LogLikelihood, sc.Perplexity, err)
		}
		w.Write(append(out, '\n'))
	} else {
		writeScore(w, &sc)
	}
	return w.Flush()
}

// writeScore prints a score in plain text: N tokens give N−1 predictions,
// the first token being given.
func writeScore(w io.Writer, sc *runtime.Score) {
	fmt.Fprintf(w, "tokens %d (%d predicted: the first is given)  log-likelihood %.6f  perplexity %.4f\n",
		sc.Tokens, sc.Tokens-1, sc.LogLikelihood, sc.Perplexity)
}

// chunkScore is what score --ctx --json prints.
type chunkScore struct {
	Tokens          int     `json:"tokens"`
	Chunks          int     `json:"chunks"`
	Scored          int     `json:"scored"`
	LogLikelihood   float64 `json:"log_likelihood"`
	Perplexity      float64 `json:"perplexity"`
	PerplexityError float64 `json:"perplexity_error"`
	TokensPerS      float64 `json:"tokens_per_s"`
}

// scoreChunks prints the perplexity of ids in chunks or windows (see
// runtime.PerplexityOptions): the running figure after each chunk on
// stderr, as llama-perplexity prints it ("[1]12.3456,[2]..."), then the
// estimate with the number of predicted tokens and the tokens evaluated
// per second.
func scoreChunks(ctx context.Context, m *runtime.Model, ids []int, opts runtime.PerplexityOptions, asJSON bool, stdout, stderr io.Writer) error {
	s, err := m.NewSession(runtime.SessionOptions{Capacity: opts.Context})
	if err != nil {
		return usageError("--ctx %d: %v", opts.Context, err)
	}
	method := fmt.Sprintf("%d chunks of %d tokens, the second half of each predicted", len(ids)/opts.Context, opts.Context)
	if opts.Stride > 0 {
		method = fmt.Sprintf("windows of %d tokens moved by %d", opts.Context, opts.Stride)
	}
	fmt.Fprintf(stderr, "perplexity: %d tokens, %s\n", len(ids), method)
	start := time.Now()
	var last runtime.PerplexityProgress
	evaluated := 0
	for p, err := range s.Perplexity(ctx, ids, opts) {
		if err != nil {
			if last.Chunk > 0 {
				fmt.Fprintln(stderr)
			}
			if errors.Is(err, runtime.ErrBadOptions) {
				return usageError("%v", err)
			}
			return err
		}
		fmt.Fprintf(stderr, "[%d]%.4f,", p.Chunk, p.Perplexity)
		last = p
	}
	fmt.Fprintln(stderr)
	// Tokens/s counts every token run through the model, context included.
	if opts.Stride == 0 {
		evaluated = last.Chunks * opts.Context
	} else {
		for begin := 0; ; begin += opts.Stride {
			evaluated += min(begin+opts.Context, len(ids)) - begin
			if begin+opts.Context >= len(ids) {
				break
			}
		}
	}
	res := chunkScore{Tokens: len(ids), Chunks: last.Chunks, Scored: last.Scored, LogLikelihood: last.LogLikelihood,
		Perplexity: last.Perplexity, PerplexityError: last.PerplexityError, TokensPerS: finite(float64(evaluated) / time.Since(start).Seconds())}
	w := bufio.NewWriter(stdout)
	if asJSON {
		out, err := json.Marshal(res)
		if err != nil {
			return err
		}
		w.Write(append(out, '\n'))
	} else {
		fmt.Fprintf(w, "Final estimate: PPL = %.4f +/- %.5f  (%d tokens predicted of %d, %d chunks; %.1f tokens/s)\n",
			res.Perplexity, res.PerplexityError, res.Scored, res.Tokens, res.Chunks, res.TokensPerS)
	}
	return w.Flush()
}

// scoreLine is one line of score --lines --json: the score, or the error.
type scoreLine struct {
	*runtime.Score
	Error string `json:"error,omitempty"`
}

// scoreLines scores every text of a file of JSON strings, packing several
// into each forward pass, and prints one result per line in input order,
// each batch's as it ends. A text that cannot be scored gets its error in
// its line, and then the error returned counts the failures.
func scoreLines(ctx context.Context, mf *modelFlags, file string, sequences int, asJSON bool, stdin io.Reader, stdout io.Writer) error {
	in, err := readJSONLines(ctx, file, stdin)
	if err != nil {
		return err
	}
	texts := in.texts
	m, err := mf.load(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	bopts := runtime.BatchOptions{Sequences: max(1, min(sequences, len(texts)))}
	if err := checkBatchMemory(m, bopts, availableMemory(), "--batch", false); err != nil {
		return err
	}
	b, err := m.NewBatch(bopts)
	if err != nil {
		return usageError("--batch %d: %v", sequences, err)
	}
	ids := make([][]int, len(texts))
	for i, text := range texts {
		ids[i] = m.Tokenizer().EncodePrompt(text)
	}
	// The texts are scored a batch's worth at a time and each batch's
	// results printed as it ends, so that Ctrl-C keeps those already
	// scored on standard output.
	w := bufio.NewWriter(stdout)
	failed := 0
	for start := 0; start < len(ids); start += sequences {
		res, err := b.Score(ctx, ids[start:min(start+sequences, len(ids))])
		if err != nil {
			return err
		}
		for k := range res {
			if !writeScoreLine(w, &res[k], asJSON, fmt.Sprintf("%s:%d", file, in.lines[start+k])) {
				failed++
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	where := `their "error:" lines`
	if asJSON {
		where = `their "error" fields`
	}
	return failedLines(failed, len(texts), "texts", where)
}

// writeScoreLine writes one text's result of score --lines and reports
// whether it was scored. An error names where the text came from (FILE:LINE),
// and a score JSON cannot carry (a NaN) becomes such an error.
func writeScoreLine(w io.Writer, r *runtime.BatchScore, asJSON bool, where string) bool {
	switch {
	case asJSON && r.Err == nil:
		out, err := json.Marshal(scoreLine{Score: &r.Score})
		if err == nil {
			w.Write(append(out, '\n'))
			return true
		}
		out, _ = json.Marshal(scoreLine{Error: fmt.Sprintf("%s: %v", where, err)})
		w.Write(append(out, '\n'))
	case asJSON:
		out, _ := json.Marshal(scoreLine{Error: fmt.Sprintf("%s: %v", where, r.Err)}) // a string always marshals
		w.Write(append(out, '\n'))
	case r.Err != nil:
		fmt.Fprintf(w, "error: %s: %v\n", where, r.Err)
	default:
		writeScore(w, &r.Score)
		return true
	}
	return false
}
