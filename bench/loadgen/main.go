// Command loadgen measures an OpenAI-compatible completions server under
// concurrent streaming clients: goformer serve, or llama.cpp's llama-server
// on the same GGUF, side by side. For each concurrency level it sends
// requests greedy streaming completions of mixed prompt lengths, each
// generating -max-tokens tokens (ignore_eos, which both servers take), and
// reports the aggregate tokens/s, time to first token (p50, p99) and the
// inter-token time (p50), measured at the client.
//
//	go run ./bench/loadgen -url http://127.0.0.1:8080 -c 1,4,16,64 -max-tokens 64
//
// It only talks to the URL it is given, which should be on this machine
// (127.0.0.1); each level is bounded by -requests and -timeout.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "the server's base URL")
	levels := flag.String("c", "1,4,16,64", "comma-separated numbers of concurrent streams")
	requests := flag.Int("requests", 0, "requests per level (0: 2 per stream, at least 8)")
	maxTokens := flag.Int("max-tokens", 64, "tokens each request generates")
	promptWords := flag.String("prompt-words", "4,16,48,120", "comma-separated prompt lengths in words, cycled through")
	apiKey := flag.String("api-key", os.Getenv("GOFORMER_API_KEY"), "bearer key, if the server wants one")
	label := flag.String("label", "", "the server's name in the table (default: the URL)")
	timeout := flag.Duration("timeout", 10*time.Minute, "bound on each level")
	newConns := flag.Bool("new-conns", false, "a new connection for every request (no keep-alive), for servers that close idle connections under the client")
	asJSON := flag.Bool("json", false, "print one JSON object per level instead of a table row")
	flag.Parse()
	if *label == "" {
		*label = *url
	}
	cs, err := ints(*levels)
	if err == nil && len(cs) == 0 {
		err = fmt.Errorf("no levels")
	}
	words, err2 := ints(*promptWords)
	if err != nil || err2 != nil || *maxTokens < 1 {
		fmt.Fprintln(os.Stderr, "loadgen: bad -c, -prompt-words or -max-tokens")
		os.Exit(2)
	}
	g := generator{url: strings.TrimSuffix(*url, "/"), apiKey: *apiKey, maxTokens: *maxTokens, words: words,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, DisableKeepAlives: *newConns}}}
	if !*asJSON {
		fmt.Printf("| server | streams | requests | ok | 429 | errors | tokens/s | TTFT p50 ms | TTFT p99 ms | ITL p50 ms |\n")
		fmt.Printf("|---|---|---|---|---|---|---|---|---|---|\n")
	}
	for _, c := range cs {
		n := *requests
		if n == 0 {
			n = max(8, 2*c)
		}
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		r := g.level(ctx, c, n)
		cancel()
		if *asJSON {
			b, _ := json.Marshal(map[string]any{"server": *label, "streams": c, "requests": n, "ok": r.ok, "rejected": r.rejected, "errors": r.errors,
				"tokens_per_s": r.tokensPerSecond(), "ttft_p50_ms": ms(pct(r.ttft, 0.5)), "ttft_p99_ms": ms(pct(r.ttft, 0.99)), "itl_p50_ms": ms(pct(r.itl, 0.5))})
			fmt.Println(string(b))
			continue
		}
		fmt.Printf("| %s | %d | %d | %d | %d | %d | %.1f | %.0f | %.0f | %.1f |\n", *label, c, n, r.ok, r.rejected, r.errors,
			r.tokensPerSecond(), ms(pct(r.ttft, 0.5)), ms(pct(r.ttft, 0.99)), ms(pct(r.itl, 0.5)))
		if r.firstErr != nil {
			fmt.Fprintln(os.Stderr, "loadgen: first error:", r.firstErr)
		}
	}
}

type generator struct {
	url, apiKey string
	maxTokens   int
	words       []int
	client      *http.Client
}

// result is one level's measurements.
type result struct {
	mu                   sync.Mutex
	ok, rejected, errors int
	tokens               int
	elapsed              time.Duration
	ttft, itl            []time.Duration
	firstErr             error
}

func (r *result) tokensPerSecond() float64 { return float64(r.tokens) / r.elapsed.Seconds() }

// level runs n requests, c at a time.
func (g *generator) level(ctx context.Context, c, n int) *result {
	r := &result{}
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				g.one(ctx, i, r)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	r.elapsed = time.Since(start)
	return r
}

// prompt is the i-th request's prompt: words[i % len] words of a fixed
// text, started at a different word each time so that no two requests
// share a prefix a server could cache.
func (g *generator) prompt(i int) string {
	vocab := strings.Fields("the committee said that the county had spent more money on roads than the state of the " +
		"union and the people of the city were told that the new law would take effect next year")
	n := g.words[i%len(g.words)]
	out := make([]string, n)
	for k := range out {
		out[k] = vocab[(i*7+k)%len(vocab)]
	}
	return strings.Join(out, " ")
}

// one sends request i and records what it measured.
func (g *generator) one(ctx context.Context, i int, r *result) {
	body, _ := json.Marshal(map[string]any{
		"prompt": g.prompt(i), "max_tokens": g.maxTokens, "temperature": 0, "ignore_eos": true, "stream": true,
		"stream_options": map[string]bool{"include_usage": true},
	})
	req, err := http.NewRequestWithContext(ctx, "POST", g.url+"/v1/completions", bytes.NewReader(body))
	if err != nil {
		r.fail(err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if g.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+g.apiKey)
	}
	start := time.Now()
	resp, err := g.client.Do(req)
	if err != nil {
		r.fail(err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusTooManyRequests {
		io.Copy(io.Discard, resp.Body)
		r.mu.Lock()
		r.rejected++
		r.mu.Unlock()
		return
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		r.fail(fmt.Errorf("status %d: %s", resp.StatusCode, b))
		return
	}
	var (
		first, last time.Time
		chunks      int
		usage       int
		itl         []time.Duration
	)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if data == "[DONE]" {
			break // as OpenAI's clients do, whenever the server ends the body
		}
		if !ok {
			continue
		}
		var ev struct {
			Choices []struct {
				Text string `json:"text"`
			} `json:"choices"`
			Usage *struct {
				CompletionTokens int `json:"completion_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			r.fail(fmt.Errorf("event %q: %w", data, err))
			return
		}
		if ev.Usage != nil {
			usage = ev.Usage.CompletionTokens
		}
		for _, c := range ev.Choices {
			if c.Text == "" {
				continue
			}
			now := time.Now()
			if first.IsZero() {
				first = now
			} else {
				itl = append(itl, now.Sub(last))
			}
			last = now
			chunks++
		}
	}
	if err := sc.Err(); err != nil {
		r.fail(err)
		return
	}
	tokens := usage
	if tokens == 0 {
		tokens = chunks // a server without include_usage: a chunk per token
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ok++
	r.tokens += tokens
	if !first.IsZero() {
		r.ttft = append(r.ttft, first.Sub(start))
	}
	r.itl = append(r.itl, itl...)
}

func (r *result) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors++
	if r.firstErr == nil {
		r.firstErr = err
	}
}

// pct is the p-th quantile of d (sorted in place), 0 for none.
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(p*float64(len(d))))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, v)
	}
	return out, nil
}
