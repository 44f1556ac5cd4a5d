package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/runtime"
)

const scoreUsage = "goformer score [-m MODEL] [--weights f32|int8] [--embeddings int8|f32] [--threads N] [--json] [FILE | --lines FILE [--batch N]]"

// runScore prints the log-likelihood and perplexity of a text: FILE, or
// standard input, read byte for byte.
func runScore(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("score", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs, stderr)
	asJSON := fs.Bool("json", false, `print {"tokens":N,"log_likelihood":..,"perplexity":..}`)
	lines := fs.String("lines", "", "score every text of FILE (one JSON string per line; - is standard input) in batches, one result per line in input order; exit status 1 if any failed")
	sequences := fs.Int("batch", 8, "with --lines, the most texts in one batch")
	files, err := parseFlags(fs, args, scoreUsage, stdout)
	if err != nil {
		return err
	}
	switch {
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
	text, err := readInput(ctx, files, stdin)
	if err != nil {
		return err
	}
	m, err := mf.load(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	ids := m.Tokenizer().Encode(string(text))
	s, err := m.NewSession(runtime.SessionOptions{})
	if err != nil {
		return err
	}
	where := "standard input"
	if len(files) == 1 && files[0] != "-" {
		where = files[0]
	}
	sc, err := s.Score(ctx, ids)
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
		fmt.Fprintf(w, "tokens %d  log-likelihood %.6f  perplexity %.4f\n", sc.Tokens, sc.LogLikelihood, sc.Perplexity)
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
	b, err := m.NewBatch(runtime.BatchOptions{Sequences: max(1, min(sequences, len(texts)))})
	if err != nil {
		return usageError("--batch %d: %v", sequences, err)
	}
	ids := make([][]int, len(texts))
	for i, text := range texts {
		ids[i] = m.Tokenizer().Encode(text)
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
		fmt.Fprintf(w, "tokens %d  log-likelihood %.6f  perplexity %.4f\n", r.Tokens, r.LogLikelihood, r.Perplexity)
		return true
	}
	return false
}
