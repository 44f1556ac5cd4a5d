// Command peers measures goformer next to llama.cpp on the same weights,
// thread count and machine, in one sitting, and prints the ratios.
//
//	go run ./bench/peers [-threads 1,2] [-reps 5] [-rounds 2] [-scratch DIR] MODEL_DIR...
//
// For each Hugging Face folder it writes F32 and Q8_0 GGUF files with the
// project's converter for its config.json's model_type (../shared/peers:
// gguf_convert.py for gpt2, llama_gguf_convert.py for llama, qwen2 and
// mistral, the last written as llama.cpp's llama architecture, as its own
// converter does), then, for each thread count and round, runs
// llamacpp_bench.mjs (node-llama-cpp 3.21.1) and `goformer bench`
// alternately, the peer first in odd rounds and goformer first in even
// ones:
//
//   - f32:  llama.cpp on the F32 GGUF against goformer's default on the
//     same file (int8 tied embeddings, fp32 layers);
//   - int8: llama.cpp on the Q8_0 GGUF against goformer --weights int8 on
//     the F32 file (the same Q8_0 quantization, done at load).
//
// pp is min(512, context−1) prompt tokens and tg min(128, context−1) decode
// steps, as llama-bench's pp512 and tg128, where the context is GPT-2's
// n_positions or the Llama family's max_position_embeddings. A cell is
// the median over the rounds of each run's median tokens/s. The peer tools
// are copied into -scratch (../shared is read-only); node-llama-cpp is
// found in -scratch/node_modules, else in $NODE_LLAMA_CPP_MODULES.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	threadsFlag := flag.String("threads", "1,2", "thread counts, comma-separated")
	reps := flag.Int("reps", 5, "repetitions per run, after one warm-up (both tools)")
	rounds := flag.Int("rounds", 2, "alternating rounds per thread count")
	scratch := flag.String("scratch", filepath.Join(os.TempDir(), "goformer-peers"), "folder for the peer tools, the GGUF files and the goformer binary")
	shared := flag.String("shared", "", "the peers' shared folder (default: ../shared beside the repository)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: go run ./bench/peers [-threads 1,2] [-reps 5] [-rounds 2] MODEL_DIR...")
		os.Exit(2)
	}
	var threads []int
	for _, f := range strings.Split(*threadsFlag, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			fatal(fmt.Errorf("-threads: %q is not a thread count", f))
		}
		threads = append(threads, n)
	}
	p, err := setup(*scratch, *shared)
	if err != nil {
		fatal(err)
	}
	fmt.Printf("date %s\ncpu %s, %d vCPUs\nload average at start %s\n", time.Now().Format("2006-01-02 15:04"), cpuModel(), nCPU(), loadAvg())
	fmt.Printf("command: go run ./bench/peers -threads %s -reps %d -rounds %d %s\n\n", *threadsFlag, *reps, *rounds, strings.Join(flag.Args(), " "))
	var rows []row
	for _, dir := range flag.Args() {
		r, err := p.compare(dir, threads, *reps, *rounds)
		if err != nil {
			fatal(err)
		}
		rows = append(rows, r...)
	}
	fmt.Printf("\nload average at end %s\n\n", loadAvg())
	printTable(rows)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "peers:", err)
	os.Exit(1)
}

// llamaConverter is llama_gguf_convert.py's place in the scratch folder:
// it imports gguf_llama_family.py from ../fixtures/tools beside itself, so
// the two keep the layout they have in the shared folder.
var llamaConverter = filepath.Join("peers", "llama_gguf_convert.py")

// peerTools are the files setup copies: scratch path -> shared path.
var peerTools = map[string]string{
	"gguf_convert.py":    "peers/gguf_convert.py",
	"llamacpp_bench.mjs": "peers/llamacpp_bench.mjs",
	llamaConverter:       "peers/llama_gguf_convert.py",
	filepath.Join("fixtures", "tools", "gguf_llama_family.py"): "fixtures/tools/gguf_llama_family.py",
}

// peers are the tools of one run.
type peers struct {
	scratch, python, node, goformer string
}

// setup copies the peer tools into scratch and builds goformer there.
func setup(scratch, shared string) (*peers, error) {
	if shared == "" {
		repo, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
		if err != nil {
			return nil, fmt.Errorf("finding the repository: %w", err)
		}
		shared = filepath.Join(strings.TrimSpace(string(repo)), "..", "shared")
	}
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		return nil, err
	}
	for dst, src := range peerTools {
		b, err := os.ReadFile(filepath.Join(shared, src))
		if err != nil {
			return nil, fmt.Errorf("the peer tools are not here (-shared): %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(scratch, dst)), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(scratch, dst), b, 0o644); err != nil {
			return nil, err
		}
	}
	mods := filepath.Join(scratch, "node_modules")
	if _, err := os.Stat(filepath.Join(mods, "node-llama-cpp")); err != nil {
		src := os.Getenv("NODE_LLAMA_CPP_MODULES")
		if src == "" {
			return nil, fmt.Errorf("node-llama-cpp is not in %s: run `npm i -E node-llama-cpp@3.21.1` there, or set NODE_LLAMA_CPP_MODULES to a node_modules folder that has it", scratch)
		}
		if err := os.Symlink(src, mods); err != nil {
			return nil, err
		}
	}
	p := &peers{scratch: scratch, python: "python3", node: "node", goformer: filepath.Join(scratch, "goformer")}
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		p.python = "/usr/bin/python3" // Debian's, with python3-numpy
	}
	if out, err := exec.Command("go", "build", "-o", p.goformer, "github.com/goformer/goformer/cmd/goformer").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building goformer: %v\n%s", err, out)
	}
	return p, nil
}

// rate is tokens/s: a run's median and its slowest and fastest rep.
type rate struct{ median, min, max float64 }

// row is one comparison: a model, a weight type, a thread count.
type row struct {
	model, weights   string
	threads, pp, tg  int
	llamaPP, llamaTG []rate
	goPP, goTG       []rate
	goErr            string
	goRuns           string // what goformer's matrices ran as, from its --json
}

// compare converts dir to GGUF and measures both weight types at every
// thread count.
func (p *peers) compare(dir string, threads []int, reps, rounds int) ([]row, error) {
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	pp, tg := cfg.pp(), cfg.tg()
	name := filepath.Base(filepath.Clean(dir))
	fmt.Printf("%s: %s, context %d (pp%d, tg%d), %d layers, %d heads, %d kv heads of %d: fp32 KV cache %d bytes per token\n",
		name, cfg.ModelType, cfg.Context, pp, tg, cfg.NLayer, cfg.NHead, cfg.NKVHead, cfg.HeadDim, cfg.kvBytesPerToken())
	src := dir
	if cfg.ModelType == "mistral" {
		if src, err = asLlama(dir, p.scratch); err != nil {
			return nil, fmt.Errorf("%s: writing its config as llama's: %w", dir, err)
		}
	}
	gguf := map[string]string{}
	for _, typ := range []string{"f32", "q8_0"} {
		out := filepath.Join(p.scratch, name+"-"+typ+".gguf")
		fmt.Printf("converting %s to %s\n", dir, out)
		conv := cfg.converter()
		if b, err := exec.Command(p.python, filepath.Join(p.scratch, conv), src, "--type", typ, "-o", out).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s %s --type %s: %v\n%s", filepath.Base(conv), dir, typ, err, b)
		}
		gguf[typ] = out
	}
	var rows []row
	for _, t := range threads {
		for _, w := range []struct{ name, llamaFile string }{{"f32", gguf["f32"]}, {"int8", gguf["q8_0"]}} {
			r := row{model: name, weights: w.name, threads: t, pp: pp, tg: tg}
			for round := range rounds {
				peerFirst := round%2 == 0
				for i := range 2 {
					if (i == 0) == peerFirst {
						lp, lt, err := p.llama(w.llamaFile, t, pp, tg, reps)
						if err != nil {
							return nil, err
						}
						r.llamaPP, r.llamaTG = append(r.llamaPP, lp), append(r.llamaTG, lt)
						fmt.Printf("%s %s t=%d round %d: llama.cpp pp %.1f tg %.1f\n", name, w.name, t, round+1, lp.median, lt.median)
						continue
					}
					gp, gt, runs, err := p.goformerBench(gguf["f32"], w.name, t, pp, tg, reps)
					if err != nil {
						r.goErr = err.Error()
						fmt.Printf("%s %s t=%d round %d: goformer: %v\n", name, w.name, t, round+1, err)
						continue
					}
					r.goPP, r.goTG, r.goRuns = append(r.goPP, gp), append(r.goTG, gt), runs
					fmt.Printf("%s %s t=%d round %d: goformer  pp %.1f tg %.1f\n", name, w.name, t, round+1, gp.median, gt.median)
				}
			}
			rows = append(rows, r)
		}
	}
	return rows, nil
}

func (p *peers) llama(gguf string, threads, pp, tg, reps int) (rate, rate, error) {
	cmd := exec.Command(p.node, filepath.Join(p.scratch, "llamacpp_bench.mjs"), gguf,
		"--threads", strconv.Itoa(threads), "--prompt-tokens", strconv.Itoa(pp), "--gen", strconv.Itoa(tg), "--reps", strconv.Itoa(reps))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return rate{}, rate{}, fmt.Errorf("llamacpp_bench.mjs %s: %v\n%s", gguf, err, stderr.Bytes())
	}
	type tps struct {
		TokensPerS struct{ Median, Min, Max float64 } `json:"tokens_per_s"`
	}
	var res struct {
		Runs []struct{ PP, TG tps } `json:"runs"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Runs) != 1 {
		return rate{}, rate{}, fmt.Errorf("llamacpp_bench.mjs printed no result for one thread count (%v): %s", err, out)
	}
	r := res.Runs[0]
	return rate{r.PP.TokensPerS.Median, r.PP.TokensPerS.Min, r.PP.TokensPerS.Max},
		rate{r.TG.TokensPerS.Median, r.TG.TokensPerS.Min, r.TG.TokensPerS.Max}, nil
}

// goformerBench runs goformer bench --json and returns its pp and tg rates
// and what its matrices ran as ("layers f32, token table int8").
func (p *peers) goformerBench(gguf, weights string, threads, pp, tg, reps int) (rate, rate, string, error) {
	cmd := exec.Command(p.goformer, "bench", "-m", gguf, "--weights", weights, "--threads", strconv.Itoa(threads),
		"--prompt-tokens", strconv.Itoa(pp), "--gen", strconv.Itoa(tg), "--reps", strconv.Itoa(reps), "--json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return rate{}, rate{}, "", fmt.Errorf("%s", strings.TrimSpace(stderr.String()))
	}
	var res struct {
		PP         float64 `json:"pp_tokens_per_s"`
		TG         float64 `json:"tg_tokens_per_s"`
		PPMin      float64 `json:"pp_min"`
		PPMax      float64 `json:"pp_max"`
		TGMin      float64 `json:"tg_min"`
		TGMax      float64 `json:"tg_max"`
		Layers     string  `json:"layers"`
		TokenTable string  `json:"token_table"`
		Output     string  `json:"output"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return rate{}, rate{}, "", fmt.Errorf("goformer bench --json: %v: %s", err, out)
	}
	runs := fmt.Sprintf("layers %s, token table %s", res.Layers, res.TokenTable)
	if res.Output != "tied" {
		runs += ", output " + res.Output
	}
	return rate{res.PP, res.PPMin, res.PPMax}, rate{res.TG, res.TGMin, res.TGMax}, runs, nil
}

// medianOf is the median of the runs' medians, with the slowest and
// fastest rep of any run.
func medianOf(rs []rate) (rate, bool) {
	if len(rs) == 0 {
		return rate{}, false
	}
	m := make([]float64, len(rs))
	out := rate{min: rs[0].min, max: rs[0].max}
	for i, r := range rs {
		m[i] = r.median
		out.min, out.max = min(out.min, r.min), max(out.max, r.max)
	}
	slices.Sort(m)
	out.median = m[len(m)/2]
	if len(m)%2 == 0 {
		out.median = (m[len(m)/2-1] + m[len(m)/2]) / 2
	}
	return out, true
}

func printTable(rows []row) {
	fmt.Println("| model | weights (llama.cpp / goformer) | threads | llama.cpp pp | goformer pp | pp ratio | llama.cpp tg | goformer tg | tg ratio |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range rows {
		w := "F32 / default"
		if r.weights == "int8" {
			w = "Q8_0 / --weights int8"
		}
		if r.goRuns != "" {
			w += " (" + r.goRuns + ")"
		}
		lp, _ := medianOf(r.llamaPP)
		lt, _ := medianOf(r.llamaTG)
		gp, okP := medianOf(r.goPP)
		gt, okT := medianOf(r.goTG)
		cell := func(x rate) string { return fmt.Sprintf("%.1f [%.1f–%.1f]", x.median, x.min, x.max) }
		ratio := func(g, l rate, ok bool) string {
			if !ok {
				return "–"
			}
			return fmt.Sprintf("**%.2f×**", g.median/l.median)
		}
		goCell := func(x rate, ok bool) string {
			if !ok {
				return "n/a (see below)"
			}
			return cell(x)
		}
		fmt.Printf("| %s | %s | %d | pp%d %s | %s | %s | tg%d %s | %s | %s |\n", r.model, w, r.threads,
			r.pp, cell(lp), goCell(gp, okP), ratio(gp, lp, okP), r.tg, cell(lt), goCell(gt, okT), ratio(gt, lt, okT))
	}
	seen := map[string]bool{}
	for _, r := range rows {
		if r.goErr != "" && !seen[r.goErr] {
			seen[r.goErr] = true
			fmt.Printf("\nn/a: %s\n", r.goErr)
		}
	}
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func nCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "\nprocessor") + 1
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
