package runtime

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/goformer/goformer/kernels"
)

// SampleOptions choose the next token from the logits.
type SampleOptions struct {
	// Temperature divides the logits before sampling; 0 is greedy (argmax).
	Temperature float64
	// TopK keeps the K most likely tokens (0: all).
	TopK int
	// TopP keeps the smallest set of most likely tokens whose probability
	// reaches P (0 or 1: all).
	TopP float64
	// MinP keeps, after TopK and TopP, the tokens whose probability is at
	// least MinP times the most likely token's (0: all).
	MinP float64
	// RepetitionPenalty divides the positive logits of the tokens in the
	// penalty window by it and multiplies their other logits by it
	// (llama.cpp's repeat_penalty; 0 or 1: none).
	RepetitionPenalty float64
	// PresencePenalty is subtracted from the logit of every token in the
	// penalty window, and FrequencyPenalty times its number of occurrences
	// there (OpenAI's presence_penalty and frequency_penalty; 0: none).
	PresencePenalty, FrequencyPenalty float64
	// PenaltyLastN is the penalty window: the last N tokens of the
	// sequence, prompt included, as llama.cpp counts them (0:
	// DefaultPenaltyLastN; -1: the whole cache capacity). The penalties
	// change which token is chosen, greedy included, not the
	// log-probabilities Token reports.
	PenaltyLastN int
	// Seed makes sampling reproducible: the same seed, prompt and options
	// give the same tokens. The zero value is a seed like any other, so
	// the zero options sample the same tokens every time; set Seed to
	// RandomSeed() for a new sequence each run, and keep it to repeat one.
	Seed uint64
}

// RandomSeed returns a new random seed for SampleOptions.Seed, from the
// process's random source: what the goformer command uses without --seed.
func RandomSeed() uint64 { return rand.Uint64() }

// TokenLogprob is a token id with its log-probability under the model.
type TokenLogprob struct {
	ID      int     `json:"id"`
	Logprob float64 `json:"logprob"`
}

// sampler holds the buffers one session's sampling needs, so choosing a
// token allocates nothing.
type sampler struct {
	rng    *rand.Rand
	pcg    *rand.PCG
	order  []int32   // candidate ids
	probs  []float32 // scratch: exp(logit − max), then probabilities
	top    []TokenLogprob
	window penaltyWindow // the recent tokens, when the options penalize them
}

func (sp *sampler) init(vocab int) {
	sp.pcg = rand.NewPCG(0, 0)
	sp.rng = rand.New(sp.pcg)
	sp.order = make([]int32, vocab)
	sp.probs = make([]float32, vocab)
}

func (sp *sampler) seed(seed uint64) { sp.pcg.Seed(seed, 0x676f666f726d6572) }

// begin readies the sampler for a sequence that starts from prompt, in a
// cache of capacity positions: it seeds it and, when opts penalize repeats,
// fills the penalty window with the prompt's last tokens.
func (sp *sampler) begin(prompt []int, opts *SampleOptions, capacity int) {
	sp.seed(opts.Seed)
	if !opts.penalized() {
		sp.window.reset(0, 0)
		return
	}
	n := opts.PenaltyLastN
	switch {
	case n == 0:
		n = DefaultPenaltyLastN
	case n < 0 || n > capacity:
		n = capacity
	}
	sp.window.reset(n, len(sp.probs))
	for _, id := range prompt[max(0, len(prompt)-n):] {
		sp.window.push(id)
	}
}

// sampleable is the part of logits that generation chooses from: the ids
// the model's tokenizer has. A vocabulary may be padded past the tokenizer
// (the loader accepts a vocab_size above the tokenizer's size, as padded
// checkpoints have), and an id without text is never generated or listed
// among the top logprobs, as if its logit were −Inf, the way llama.cpp
// treats a padded vocabulary. Log-probabilities are then normalized over
// those ids.
func (m *Model) sampleable(logits []float32) []float32 {
	if m.tok == nil {
		return logits
	}
	return logits[:min(len(logits), m.tok.VocabSize())]
}

// logSumExp returns log Σ exp(logits), the normalizer of log-probabilities
// at temperature 1.
func (sp *sampler) logSumExp(logits []float32) float64 {
	return sp.logSumExpFrom(logits, maxOf(logits))
}

// logSumExpFrom is logSumExp when the largest logit mx is known.
func (sp *sampler) logSumExpFrom(logits []float32, mx float32) float64 {
	p := sp.probs[:len(logits)]
	for i, v := range logits {
		p[i] = v - mx
	}
	kernels.Exp(p, p)
	var sum float64
	for _, v := range p {
		sum += float64(v)
	}
	return float64(mx) + math.Log(sum)
}

// maxOf is the largest of x (finite logits: no NaN), in four independent
// lanes, twice as fast as one.
func maxOf(x []float32) float32 {
	m0, m1, m2, m3 := x[0], x[0], x[0], x[0]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		if x[i] > m0 {
			m0 = x[i]
		}
		if x[i+1] > m1 {
			m1 = x[i+1]
		}
		if x[i+2] > m2 {
			m2 = x[i+2]
		}
		if x[i+3] > m3 {
			m3 = x[i+3]
		}
	}
	for ; i < len(x); i++ {
		m0 = max(m0, x[i])
	}
	return max(m0, m1, m2, m3)
}

// greedy reports whether o picks the most likely token: a temperature of
// 0 (or NaN), or one so small that 1/T overflows float32.
func (o *SampleOptions) greedy() bool {
	return !(o.Temperature > 0) || 1/o.Temperature > math.MaxFloat32
}

// choose picks the next token from logits with opts.
func (sp *sampler) choose(logits []float32, opts *SampleOptions) int {
	if opts.greedy() {
		return Greedy(logits)
	}
	cand, p, sum := sp.candidates(logits, opts)
	r := sp.rng.Float64() * sum
	var acc float64
	for i, v := range p {
		acc += float64(v)
		if r < acc {
			return int(cand[i])
		}
	}
	return int(cand[len(cand)-1])
}

// candidates are the tokens choose draws from when it samples (a positive
// temperature) and their unnormalized probabilities p, whose total is sum:
// the TopK most likely, then the most likely up to TopP, then those at
// least MinP times as likely as the first, each probability
// exp((logit − max)/T). The slices are the sampler's.
func (sp *sampler) candidates(logits []float32, opts *SampleOptions) (cand []int32, p []float32, sum float64) {
	n := len(logits)
	order := sp.order[:n]
	for i := range order {
		order[i] = int32(i)
	}
	byLogit := func(a, b int32) int { return cmp.Compare(logits[b], logits[a]) }
	k := n
	if opts.TopK > 0 && opts.TopK < n {
		k = opts.TopK
		selectTop(order, k, logits)
	}
	cand = order[:k]
	topP := opts.TopP > 0 && opts.TopP < 1
	if topP {
		slices.SortFunc(cand, byLogit)
	}
	// Probabilities of the candidates at this temperature.
	mx := logits[cand[0]]
	for _, id := range cand {
		mx = max(mx, logits[id])
	}
	inv := float32(1 / opts.Temperature)
	p = sp.probs[:k]
	for i, id := range cand {
		p[i] = (logits[id] - mx) * inv
	}
	kernels.Exp(p, p)
	for _, v := range p {
		sum += float64(v)
	}
	if topP {
		var acc float64
		for i, v := range p {
			acc += float64(v)
			if acc >= opts.TopP*sum {
				k, sum = i+1, acc
				break
			}
		}
		cand, p = cand[:k], p[:k]
	}
	if opts.MinP > 0 {
		// Relative to the most likely candidate's p, exp(0) = 1.
		keep, cut := 0, float32(opts.MinP*float64(slices.Max(p)))
		sum = 0
		for i, v := range p {
			if v >= cut {
				cand[keep], p[keep] = cand[i], v
				sum += float64(v)
				keep++
			}
		}
		cand, p = cand[:keep], p[:keep]
	}
	return cand, p, sum
}

// topLogprobs returns the k most likely tokens, most likely first, with
// their log-probabilities; lse is logSumExp(logits). The slice is the
// sampler's and is overwritten by the next call.
func (sp *sampler) topLogprobs(logits []float32, k int, lse float64) []TokenLogprob {
	n := len(logits)
	k = min(k, n)
	order := sp.order[:n]
	for i := range order {
		order[i] = int32(i)
	}
	selectTop(order, k, logits)
	slices.SortFunc(order[:k], func(a, b int32) int {
		if c := cmp.Compare(logits[b], logits[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	if cap(sp.top) < k {
		sp.top = make([]TokenLogprob, k)
	}
	top := sp.top[:k]
	for i, id := range order[:k] {
		top[i] = TokenLogprob{ID: int(id), Logprob: float64(logits[id]) - lse}
	}
	return top
}

// Greedy returns the token greedy decoding picks from logits: the index of
// the largest, the first one on a tie.
func Greedy(x []float32) int {
	// Four lanes, each keeping its first largest; then the largest of
	// the lanes, the lowest index on a tie.
	var best [4]int
	for j := range best {
		best[j] = min(j, len(x)-1)
	}
	i := 0
	for ; i+4 <= len(x); i += 4 {
		if x[i] > x[best[0]] {
			best[0] = i
		}
		if x[i+1] > x[best[1]] {
			best[1] = i + 1
		}
		if x[i+2] > x[best[2]] {
			best[2] = i + 2
		}
		if x[i+3] > x[best[3]] {
			best[3] = i + 3
		}
	}
	for ; i < len(x); i++ {
		if x[i] > x[best[0]] {
			best[0] = i
		}
	}
	b := best[0]
	for _, c := range best[1:] {
		if x[c] > x[b] || (x[c] == x[b] && c < b) {
			b = c
		}
	}
	return b
}

// selectTop reorders ids so that its first k entries are the k with the
// largest logits (in no particular order): quickselect with a three-way
// partition, so runs of equal logits cost O(len(ids)) too.
func selectTop(ids []int32, k int, logits []float32) {
	lo, hi := 0, len(ids)-1
	for lo < hi {
		pivot := logits[ids[lo+(hi-lo)/2]]
		// [lo, lt) > pivot, [lt, i) == pivot, (gt, hi] < pivot.
		lt, i, gt := lo, lo, hi
		for i <= gt {
			switch v := logits[ids[i]]; {
			case v > pivot:
				ids[i], ids[lt] = ids[lt], ids[i]
				lt++
				i++
			case v < pivot:
				ids[i], ids[gt] = ids[gt], ids[i]
				gt--
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt - 1
		case k > gt+1:
			lo = gt + 1
		default:
			return
		}
	}
}
