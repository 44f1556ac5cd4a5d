package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/model/demo"
	"github.com/goformer/goformer/model/gguf"
	"github.com/goformer/goformer/model/safetensors"
	"github.com/goformer/goformer/runtime"
)

const benchUsage = "goformer bench [-m MODEL] [--prompt-tokens 512] [--gen 128] [--threads N] [--weights f32|int8] [--embeddings int8|f32] [--activations int8|int8x2] [--reps 5] [--json]"

// benchResult is what bench --json prints: tokens/s, median over the reps
// with the slowest and fastest rep.
type benchResult struct {
	PPTokensPerS float64 `json:"pp_tokens_per_s"`
	TGTokensPerS float64 `json:"tg_tokens_per_s"`
	PPMin        float64 `json:"pp_min"`
	PPMax        float64 `json:"pp_max"`
	TGMin        float64 `json:"tg_min"`
	TGMax        float64 `json:"tg_max"`
	Threads      int     `json:"threads"`
	ISA          string  `json:"isa"`
	PromptTokens int     `json:"prompt_tokens"`
	GenTokens    int     `json:"gen_tokens"`
	Reps         int     `json:"reps"`
	// Weights, Embeddings and Activations are the flags as given; what the matrices
	// run as (a Q8_0 GGUF's as int8 whatever --weights says) is Layers,
	// TokenTable and Output.
	Weights     string `json:"weights"`
	Embeddings  string `json:"embeddings"`
	Activations string `json:"activations"`
	benchModel
}

// benchModel is what a bench ran: the model's shape, the tensor types its
// file stores, and the types its matrices run as.
type benchModel struct {
	ModelType string `json:"model_type"`
	NLayer    int    `json:"n_layer"`
	NEmbd     int    `json:"n_embd"`
	NHead     int    `json:"n_head"`
	NKVHead   int    `json:"n_kv_head"`
	HeadDim   int    `json:"head_dim"`
	NInner    int    `json:"n_inner"`
	Vocab     int    `json:"vocab"`
	Tied      bool   `json:"tied"`
	// KVBytesPerToken is what one position adds to the fp32 KV cache:
	// 2·n_layer·n_kv_head·head_dim·4.
	KVBytesPerToken int `json:"kv_bytes_per_token"`
	// FileTypes counts the checkpoint's tensors by stored type ("F32",
	// "BF16", "Q8_0", ...).
	FileTypes map[string]int `json:"file_tensor_types"`
	// Layers, TokenTable and Output are what the layers' matrices, the
	// token embedding table and an untied output projection run as: "f32",
	// "int8" (Q8_0) or a GGUF block type such as "Q4_K", types joined by
	// "+" where the layers mix them (Output is "tied" for a tied model).
	Layers     string `json:"layers"`
	TokenTable string `json:"token_table"`
	Output     string `json:"output"`
	// WeightBytesPerToken is what a decode step reads of the weights
	// (runtime.Footprint).
	WeightBytesPerToken int `json:"weight_bytes_per_token"`
}

// runBench measures prefill (pp) and decode (tg) speed the way llama-bench
// and bench/peers' llamacpp_bench.mjs do, so that the figures compare:
//
//   - pp: from an empty session, one batched forward pass over
//     --prompt-tokens pseudo-random ids, logits for the last position only.
//   - tg: from an empty session, --gen single-token decode steps, each
//     computing every logit and feeding back its argmax.
//
// Tokenization and sampling are not measured. Each runs once to warm up,
// then --reps times, each repetition reported on stderr as it ends (one
// line each, or one line rewritten in place when stderr is a terminal).
func runBench(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs, stderr)
	pp := fs.Int("prompt-tokens", 512, "prompt tokens of the prefill measurement (pp); 0 skips it (default 512, capped at the model's positions)")
	gen := fs.Int("gen", 128, "decode steps of the generation measurement (tg); 0 skips it (default 128, capped at the model's positions)")
	reps := fs.Int("reps", 5, "measured repetitions of each, after one warm-up")
	asJSON := fs.Bool("json", false, `print {"pp_tokens_per_s":..,"tg_tokens_per_s":..,"pp_min":..,...}`)
	rest, err := parseFlags(fs, args, benchUsage, stdout)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usageError("unexpected argument %q (usage: %s)", rest[0], benchUsage)
	case *pp < 0:
		return usageError("--prompt-tokens must be ≥ 0, got %d", *pp)
	case *gen < 0:
		return usageError("--gen must be ≥ 0, got %d", *gen)
	case *pp == 0 && *gen == 0:
		return usageError("nothing to measure: --prompt-tokens and --gen are both 0")
	case *reps < 1:
		return usageError("--reps must be at least 1, got %d", *reps)
	}
	if err := kernels.EnvError(); err != nil {
		return err
	}
	m, err := mf.load(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	// The defaults are llama-bench's pp512 and tg128; a model with fewer
	// positions (the demo has 256) measures as many as it holds, while an
	// explicit value that does not fit is an error.
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	n := m.Config().NPositions
	for _, c := range []struct {
		name string
		v    *int
	}{{"prompt-tokens", pp}, {"gen", gen}} {
		if !set[c.name] && *c.v > n {
			fmt.Fprintf(stderr, "goformer bench: --%s %d capped at the model's %d positions\n", c.name, *c.v, n)
			*c.v = n
		}
	}
	if max(*pp, *gen) > n {
		return usageError("--prompt-tokens %d --gen %d: the model has %d positions", *pp, *gen, n)
	}
	s, err := m.NewSession(runtime.SessionOptions{Batch: max(*pp, 1)})
	if err != nil {
		return err
	}
	vocab := m.Config().VocabSize
	next := tokenStream(1, vocab)
	prompt := make([]int, *pp)
	for i := range prompt {
		prompt[i] = next()
	}
	first := next()

	res := benchResult{
		Threads: mf.threadCount(), ISA: kernels.ISA(), PromptTokens: *pp, GenTokens: *gen, Reps: *reps,
		Weights: mf.weights, Embeddings: mf.embeddings, Activations: mf.activations, benchModel: describeModel(m, mf),
	}
	progress := benchProgress{w: stderr, tty: isTerminal(stderr)}
	if *pp > 0 {
		med, lo, hi, err := measure(fmt.Sprintf("pp%d", *pp), *reps, *pp, progress, func() error {
			s.Reset()
			_, err := s.Prefill(prompt)
			return err
		})
		if err != nil {
			return err
		}
		res.PPTokensPerS, res.PPMin, res.PPMax = med, lo, hi
	}
	if *gen > 0 {
		med, lo, hi, err := measure(fmt.Sprintf("tg%d", *gen), *reps, *gen, progress, func() error {
			s.Reset()
			id := first
			for range *gen {
				logits, err := s.Decode(id)
				if err != nil {
					return err
				}
				id = runtime.Greedy(logits)
			}
			return nil
		})
		if err != nil {
			return err
		}
		res.TGTokensPerS, res.TGMin, res.TGMax = med, lo, hi
	}

	w := bufio.NewWriter(stdout)
	if *asJSON {
		out, err := json.Marshal(res)
		if err != nil {
			return err
		}
		w.Write(append(out, '\n'))
	} else {
		// What runs is the model line's "runs layers ..., token table
		// ...": --weights and --embeddings are requests a quantized file
		// overrides, so the header does not repeat them.
		fmt.Fprintf(w, "model %s  threads %d  isa %s  reps %d\n", mf.name(), res.Threads, res.ISA, res.Reps)
		fmt.Fprintln(w, res.benchModel)
		if *pp > 0 {
			fmt.Fprintf(w, "pp%-4d %10.1f tokens/s  [%.1f – %.1f]\n", *pp, res.PPTokensPerS, res.PPMin, res.PPMax)
		}
		if *gen > 0 {
			fmt.Fprintf(w, "tg%-4d %10.1f tokens/s  [%.1f – %.1f]\n", *gen, res.TGTokensPerS, res.TGMin, res.TGMax)
		}
	}
	return w.Flush()
}

// measure runs f once to warm up and then reps times, reporting each to
// progress as name, and returns the median, slowest and fastest rate in
// tokens per second for tokens tokens per call.
func measure(name string, reps, tokens int, progress benchProgress, f func() error) (median, lo, hi float64, err error) {
	progress.report("%s warm-up", name)
	if err := f(); err != nil {
		progress.done()
		return 0, 0, 0, err
	}
	rates := make([]float64, reps)
	for i := range rates {
		start := time.Now()
		if err := f(); err != nil {
			progress.done()
			return 0, 0, 0, err
		}
		rates[i] = float64(tokens) / time.Since(start).Seconds()
		progress.report("%s rep %d/%d %10.1f tokens/s", name, i+1, reps, rates[i])
	}
	progress.done()
	slices.Sort(rates)
	median = rates[reps/2]
	if reps%2 == 0 {
		median = (rates[reps/2-1] + rates[reps/2]) / 2
	}
	return median, rates[0], rates[reps-1], nil
}

// benchProgress reports bench's repetitions on w: a line each, or, on a
// terminal, one line rewritten in place and cleared at the end, so the
// results on stdout stay the only lines left.
type benchProgress struct {
	w   io.Writer
	tty bool
}

func (p benchProgress) report(format string, args ...any) {
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K"+format, args...)
		return
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

func (p benchProgress) done() {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// tokenStream returns llamacpp_bench.mjs's pseudo-random token ids
// (xorshift32 from seed, reduced mod n), so both measure the same input.
func tokenStream(seed uint32, n int) func() int {
	s := max(seed, 1)
	return func() int {
		s ^= s << 13
		s ^= s >> 17
		s ^= s << 5
		return int(s % uint32(n))
	}
}

// describeModel is what bench says about the model it runs: cfg's shape,
// the tensor types of its file, and the types its matrices run as
// (runtime.Footprint).
func describeModel(m *runtime.Model, mf modelFlags) benchModel {
	cfg := m.Config()
	d := benchModel{
		ModelType: cfg.ModelType, NLayer: cfg.NLayer, NEmbd: cfg.NEmbd, NHead: cfg.NHead,
		NKVHead: cfg.KVHeads(), HeadDim: cfg.HeadDim(), NInner: cfg.NInner, Vocab: cfg.VocabSize,
		Tied: cfg.Arch.TiedEmbeddings, KVBytesPerToken: 2 * cfg.NLayer * cfg.KVDim() * 4,
	}
	d.FileTypes = storedTypes(mf.path)
	fp := m.Footprint()
	var layers []string
	for _, t := range slices.Sorted(maps.Keys(fp.Layers)) {
		layers = append(layers, runName(t))
	}
	d.Layers, d.TokenTable, d.Output = strings.Join(layers, "+"), runName(fp.TokenTable), runName(fp.Output)
	if d.Tied {
		d.Output = "tied"
	}
	d.WeightBytesPerToken = fp.BytesPerToken
	return d
}

// runName is the name bench gives a weight type as it runs: the --weights
// and --embeddings names for F32 and Q8_0, the GGUF name for block types.
func runName(t string) string {
	switch t {
	case "F32":
		return "f32"
	case "Q8_0":
		return "int8"
	}
	return t
}

// String is the header's line about the model, e.g.
//
//	llama  30 layers  d 576  9 heads  3 kv heads  head dim 64  d_ff 1536  vocab 50257  tied  file F32 ×272  runs layers f32, token table int8
func (d benchModel) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %d layers  d %d  %d heads  %d kv heads  head dim %d  d_ff %d  vocab %d",
		d.ModelType, d.NLayer, d.NEmbd, d.NHead, d.NKVHead, d.HeadDim, d.NInner, d.Vocab)
	if d.Tied {
		b.WriteString("  tied")
	}
	if len(d.FileTypes) > 0 {
		b.WriteString("  file")
		for _, t := range slices.Sorted(maps.Keys(d.FileTypes)) {
			fmt.Fprintf(&b, " %s ×%d", t, d.FileTypes[t])
		}
	}
	fmt.Fprintf(&b, "  runs layers %s, token table %s", d.Layers, d.TokenTable)
	if !d.Tied {
		fmt.Fprintf(&b, ", output %s", d.Output)
	}
	return b.String()
}

// storedTypes reads the tensor types of the checkpoint at path ("" is the
// demo model): a GGUF file's header, or the safetensors headers of a
// folder. What it cannot read it leaves out: the model has loaded, so this
// only describes it.
func storedTypes(path string) map[string]int {
	types := map[string]int{}
	count := func(f *safetensors.File) {
		for _, t := range f.Tensors() {
			types[string(t.DType)]++
		}
	}
	switch info, err := os.Stat(path); {
	case path == "":
		if b, err := fs.ReadFile(demo.FS, model.SafetensorsFile); err == nil {
			if f, err := safetensors.Parse(b); err == nil {
				count(f)
			}
		}
	case err == nil && info.IsDir():
		files := []string{model.SafetensorsFile}
		if b, err := os.ReadFile(filepath.Join(path, safetensors.IndexFile)); err == nil {
			if ix, err := safetensors.ParseIndex(b); err == nil {
				files = ix.Shards()
			}
		}
		for _, name := range files {
			if f, err := safetensors.Open(filepath.Join(path, name)); err == nil {
				count(f)
				f.Close()
			}
		}
	case err == nil:
		f, err := gguf.Open(path)
		if err != nil {
			break
		}
		defer f.Close()
		for _, t := range f.Tensors {
			types[t.Type.String()]++
		}
	}
	return types
}
