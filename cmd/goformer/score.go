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

const scoreUsage = "goformer score [-m MODEL] [--embeddings int8|f32] [--json] [FILE]"

// runScore prints the log-likelihood and perplexity of a text: FILE, or
// standard input, read byte for byte.
func runScore(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("score", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	asJSON := fs.Bool("json", false, `print {"tokens":N,"log_likelihood":..,"perplexity":..}`)
	files, err := parseFlags(fs, args, scoreUsage, stderr)
	if err != nil {
		return err
	}
	if len(files) > 1 {
		return usageError("one FILE at most, got %d (usage: %s)", len(files), scoreUsage)
	}
	if err := kernels.EnvError(); err != nil {
		return err
	}
	var text []byte
	if len(files) == 0 || files[0] == "-" {
		text, err = io.ReadAll(stdin)
	} else {
		text, err = os.ReadFile(files[0])
	}
	if err != nil {
		return err
	}
	m, err := mf.load()
	if err != nil {
		return err
	}
	defer m.Close()
	ids := m.Tokenizer().Encode(string(text))
	s, err := m.NewSession(runtime.SessionOptions{})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sc, err := s.Score(ctx, ids)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	if *asJSON {
		out, err := json.Marshal(sc)
		if err != nil {
			return err
		}
		w.Write(append(out, '\n'))
	} else {
		fmt.Fprintf(w, "tokens %d  log-likelihood %.6f  perplexity %.4f\n", sc.Tokens, sc.LogLikelihood, sc.Perplexity)
	}
	return w.Flush()
}
