package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/signal"
	"strconv"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model/tokenizer"
	"github.com/goformer/goformer/runtime"
)

const runUsage = "goformer run [-m MODEL] [-p PROMPT] [-n N] [--temp T] [--top-k K] [--top-p P] [--seed S] [--weights f32|int8] [--embeddings int8|f32] [--activations int8|int8x2] [--threads N] [--top-logprobs K] [--ignore-eos] [--ctx N] [--context-shift] [--keep N] [--json] [PROMPT | --prompts FILE --json [--batch N]]"

// runResult is what run --json prints.
type runResult struct {
	PromptTokens []int          `json:"prompt_tokens"`
	Tokens       []int          `json:"tokens"`
	Text         string         `json:"text"`
	Logprobs     []float64      `json:"logprobs"`
	TopLogprobs  [][]topLogprob `json:"top_logprobs,omitempty"`
	// Seed is the seed sampling used, given or random: --seed repeats the run.
	Seed uint64 `json:"seed"`
	// FinishReason is why generation ended: "stop" (an end-of-text token),
	// "length" (-n tokens) or "context" (the context is full); "" after
	// another error.
	FinishReason      string  `json:"finish_reason,omitempty"`
	ISA               string  `json:"isa"`
	PrefillTokensPerS float64 `json:"prefill_tokens_per_s"`
	DecodeTokensPerS  float64 `json:"decode_tokens_per_s"`
	ContextShifts     int     `json:"context_shifts"`
	// WeightTypes counts the model's matrices by the type they run as
	// (GGUF's names: F32, Q8_0, Q4_K, …), and WeightBytesPerToken is what
	// a decode step reads of them (runtime.Footprint).
	WeightTypes         map[string]int `json:"weight_types,omitempty"`
	WeightBytesPerToken int            `json:"weight_bytes_per_token,omitempty"`
	// Error is why a prompt of run --prompts failed; the others go on.
	Error string `json:"error,omitempty"`
}

// weightTypes is what run --json says of m's weights: every matrix by
// the type it runs as, and the bytes a decode step reads.
func weightTypes(m *runtime.Model) (map[string]int, int) {
	fp := m.Footprint()
	types := maps.Clone(fp.Layers)
	types[fp.TokenTable]++
	if fp.Output != "" {
		types[fp.Output]++
	}
	return types, fp.BytesPerToken
}

// runRun generates text from PROMPT (or standard input) and streams it.
func runRun(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs, stderr)
	n := fs.Int("n", 64, "tokens to generate")
	var sf sampleFlags
	sf.register(fs)
	promptFlag := fs.String("prompt", "", "the prompt, instead of the PROMPT argument")
	alias(fs, "p", "prompt")
	topLogprobs := fs.Int("top-logprobs", 0, "list the K most likely tokens at each step: in the JSON with --json, else one line per token on stderr")
	ignoreEOS := fs.Bool("ignore-eos", false, "keep generating past the end-of-text token")
	ctxLen := fs.Int("ctx", 0, "session capacity in positions: the KV cache's fixed size (0: the model's n_positions)")
	alias(fs, "c", "ctx")
	contextShift := fs.Bool("context-shift", false, "when a model with absolute positions fills the context, keep the first --keep tokens and the most recent half, re-encode them and go on")
	keep := fs.Int("keep", 0, "tokens at the start that a full context never drops (with --context-shift, or RoPE's attention sinks)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of streaming text")
	prompts := fs.String("prompts", "", "run every prompt of FILE (one JSON string per line; - is standard input) as one batch; with --json, print one object per line in input order; exit status 1 if any failed")
	sequences := fs.Int("batch", 8, "with --prompts, the most sequences decoded together")
	rest, err := parseFlags(fs, args, runUsage, stdout)
	if err != nil {
		return err
	}
	promptSet := flagSet(fs, "prompt") // --prompt "" is an empty prompt, not none
	switch {
	case promptSet && len(rest) > 0:
		return usageError("give a PROMPT or --prompt, not both")
	case promptSet && *prompts != "":
		return usageError("give --prompt or --prompts FILE, not both")
	case promptSet:
		rest = []string{*promptFlag}
	}
	switch {
	case *n < 1:
		return usageError("-n must be at least 1, got %d", *n)
	case sf.check() != nil:
		return sf.check()
	case *topLogprobs < 0:
		return usageError("--top-logprobs must be ≥ 0, got %d", *topLogprobs)
	case *ctxLen < 0:
		return usageError("--ctx must be ≥ 0, got %d", *ctxLen)
	case *keep < 0:
		return usageError("--keep must be ≥ 0, got %d", *keep)
	case len(rest) > 1:
		return usageError("one PROMPT at most, got %d arguments (quote the prompt)", len(rest))
	case *prompts != "" && len(rest) > 0:
		return usageError("give a PROMPT or --prompts FILE, not both")
	case *prompts != "" && !*asJSON:
		return usageError("--prompts prints one JSON object per prompt: add --json")
	case *prompts != "" && *contextShift:
		return usageError("--context-shift is for a single prompt: a batch has none")
	case *sequences < 1:
		return usageError("--batch must be at least 1, got %d", *sequences)
	}
	if err := kernels.EnvError(); err != nil {
		return err
	}
	opts := runtime.GenerateOptions{
		SampleOptions: sf.options(),
		MaxTokens:     *n,
		IgnoreEOS:     *ignoreEOS,
		TopLogprobs:   *topLogprobs,
	}
	// Ctrl-C ends whatever run is doing: reading the prompt, loading the
	// model or generating.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	if *prompts != "" {
		br := batchRun{file: *prompts, sequences: *sequences, ctx: *ctxLen, keep: *keep, topLogs: *topLogprobs, randSeed: sf.seed.random}
		return runPrompts(ctx, &mf, br, opts, stdin, stdout)
	}

	// The model comes first: its context says how much of the prompt can
	// be worth reading.
	m, err := mf.load(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	tok := m.Tokenizer()
	s, err := m.NewSession(runtime.SessionOptions{Capacity: *ctxLen, Keep: *keep, ContextShift: *contextShift})
	if err != nil {
		return usageError("--ctx %d --keep %d: %v", *ctxLen, *keep, err)
	}
	if len(rest) == 0 && isTerminal(stdin) {
		fmt.Fprintln(stderr, "goformer run: reading the prompt from standard input (end it with Ctrl-D, or give PROMPT or -p)")
	}
	prompt, err := promptText(ctx, rest, stdin, promptBytes(s.Room(), tok.LongestToken()))
	if err != nil {
		return err
	}
	ids := m.EncodePrompt(prompt)
	// Every write goes through w and is checked at its Flush: output that
	// cannot be written (a full disk, a closed pipe) stops the generation
	// and is the error run reports.
	w := bufio.NewWriter(stdout)
	// Streaming prints each piece and keeps nothing; only --json keeps the
	// tokens, log-probabilities and text it prints at the end.
	res := runResult{PromptTokens: ids, Tokens: []int{}, Logprobs: []float64{}, Seed: opts.Seed}
	res.WeightTypes, res.WeightBytesPerToken = weightTypes(m)
	var top *bufio.Writer // --top-logprobs without --json: a line per token on stderr
	if !*asJSON && *topLogprobs > 0 {
		top = bufio.NewWriter(stderr)
	}
	var line []byte
	dec := tok.NewStreamDecoder()
	var text []byte
	var genErr error
	generated := 0
	for t, err := range s.Generate(ctx, ids, opts) {
		if err != nil {
			genErr = err
			break
		}
		piece, err := dec.Add(t.ID)
		if err != nil {
			return err
		}
		generated++
		if *asJSON {
			res.Tokens = append(res.Tokens, t.ID)
			res.Logprobs = append(res.Logprobs, t.Logprob)
			if *topLogprobs > 0 {
				res.TopLogprobs = append(res.TopLogprobs, withText(tok, t.TopLogprobs))
			}
			text = append(text, piece...)
			continue
		}
		if top != nil {
			line = appendTopLogprobs(line[:0], tok, generated, t)
			top.Write(line)
			if err := top.Flush(); err != nil {
				return err
			}
		}
		if generated == 1 {
			// The prompt is echoed once the model has accepted it.
			w.WriteString(prompt)
		}
		w.WriteString(piece)
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if errors.Is(genErr, runtime.ErrContextFull) {
		genErr = fmt.Errorf("%w; --context-shift keeps generating past it", genErr)
	}
	if genErr != nil && generated == 0 {
		return genErr // the prompt was refused: nothing to print
	}
	tail := dec.Flush()
	if *asJSON {
		st := s.Stats()
		res.Text = string(append(text, tail...))
		res.ISA = kernels.ISA()
		res.PrefillTokensPerS = finite(st.PrefillTokensPerSecond())
		res.DecodeTokensPerS = finite(st.DecodeTokensPerSecond())
		res.ContextShifts = st.ContextShifts
		res.FinishReason = finishReason(genErr, generated, opts.MaxTokens)
		out, err := json.Marshal(res)
		if err != nil {
			return fmt.Errorf("the result of %d generated tokens cannot be written as JSON: %w", generated, err)
		}
		w.Write(out)
		w.WriteByte('\n')
	} else {
		if generated == 0 {
			w.WriteString(prompt) // the end of text came first
		}
		w.WriteString(tail)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return genErr
}

// promptLimit is the most bytes of a prompt that can fit a session: room
// positions of at most longest bytes each; 0 when the session takes any
// length (it slides or shifts).
type promptLimit struct{ bytes, room, longest int }

func promptBytes(room, longest int) promptLimit {
	if room == math.MaxInt || longest <= 0 {
		return promptLimit{}
	}
	return promptLimit{bytes: room * longest, room: room, longest: longest}
}

// check refuses a prompt of n bytes (more than n when over) that cannot fit,
// before it is tokenized.
func (l promptLimit) check(n int, over bool) error {
	if l.bytes == 0 || (n <= l.bytes && !over) {
		return nil
	}
	what := fmt.Sprintf("%d bytes", n)
	if over {
		what = fmt.Sprintf("over %d bytes", l.bytes)
	}
	return fmt.Errorf("the prompt is %s: at most %d bytes a token, it cannot fit the %d positions left in the context (--ctx, --context-shift): %w",
		what, l.longest, l.room, runtime.ErrContextFull)
}

// promptText is the single positional argument, or standard input, read
// no further than limit allows.
func promptText(ctx context.Context, rest []string, stdin io.Reader, limit promptLimit) (string, error) {
	if len(rest) == 1 {
		return rest[0], limit.check(len(rest[0]), false)
	}
	if limit.bytes > 0 {
		stdin = io.LimitReader(stdin, int64(limit.bytes)+1)
	}
	b, err := readInput(ctx, nil, stdin)
	if errors.Is(err, context.Canceled) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("reading the prompt from standard input: %w", err)
	}
	if err := limit.check(len(b), limit.bytes > 0 && len(b) > limit.bytes); err != nil {
		return "", err
	}
	return string(b), nil
}

// finishReason names why a generation of generated tokens ended with err
// (nil at a natural end) when it asked for maxTokens: see runResult.
func finishReason(err error, generated, maxTokens int) string {
	switch {
	case errors.Is(err, runtime.ErrContextFull):
		return "context"
	case err != nil:
		return ""
	case generated == maxTokens:
		return "length"
	}
	return "stop"
}

// topLogprob is a runtime.TokenLogprob with its token's text (invalid
// UTF-8, a token cut inside a character, marshals with U+FFFD).
type topLogprob struct {
	ID      int     `json:"id"`
	Text    string  `json:"text"`
	Logprob float64 `json:"logprob"`
}

// withText gives each of top its token's text.
func withText(tok *tokenizer.Tokenizer, top []runtime.TokenLogprob) []topLogprob {
	out := make([]topLogprob, len(top))
	for i, tl := range top {
		b, _ := tok.Token(tl.ID) // generated ids are the tokenizer's
		out[i] = topLogprob{ID: tl.ID, Text: string(b), Logprob: tl.Logprob}
	}
	return out
}

// appendTopLogprobs appends the readable line of the n-th generated token t:
//
//	3 " world" -3.69 | top: " world" -3.69, " same" -3.95, " way" -4.01
func appendTopLogprobs(dst []byte, tok *tokenizer.Tokenizer, n int, t runtime.Token) []byte {
	entry := func(dst []byte, id int, lp float64) []byte {
		b, _ := tok.Token(id)
		dst = strconv.AppendQuote(dst, string(b))
		dst = append(dst, ' ')
		return strconv.AppendFloat(dst, lp, 'f', 2, 64)
	}
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, ' ')
	dst = entry(dst, t.ID, t.Logprob)
	dst = append(dst, " | top: "...)
	for i, tl := range t.TopLogprobs {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = entry(dst, tl.ID, tl.Logprob)
	}
	return append(dst, '\n')
}

// seedFlag is --seed: any uint64, as --json reports a random seed, or -1
// (the default) for a random one.
type seedFlag struct {
	value  uint64
	random bool
}

func (f *seedFlag) String() string {
	if f == nil || f.random {
		return "-1"
	}
	return strconv.FormatUint(f.value, 10)
}

func (f *seedFlag) Set(s string) error {
	if s == "-1" {
		*f = seedFlag{random: true}
		return nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return errors.New("want 0 to 2^64-1, or -1 for a random seed")
	}
	*f = seedFlag{value: v}
	return nil
}
