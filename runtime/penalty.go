package runtime

import "math"

// DefaultPenaltyLastN is the window of SampleOptions' penalties when
// PenaltyLastN is 0: the last 64 tokens, llama.cpp's repeat_last_n.
const DefaultPenaltyLastN = 64

var nan32 = float32(math.NaN())

// penalized reports whether o changes any logit for the tokens already
// seen.
func (o *SampleOptions) penalized() bool {
	return (o.RepetitionPenalty != 0 && o.RepetitionPenalty != 1) || o.PresencePenalty != 0 || o.FrequencyPenalty != 0
}

// penaltyWindow is the recent tokens a sequence's penalties look at: a ring
// of the last n ids, prompt included, and how often each id occurs in it,
// kept as tokens come so that penalizing a step costs O(n), not O(vocab).
type penaltyWindow struct {
	ring   []int32   // [n]: the last n ids, oldest at head once full
	len    int       // ids in the ring
	head   int       // where the next id goes
	counts []int32   // [vocab]: occurrences of each id in the ring
	saved  []float32 // [n]: the logits penalize changed, for restore
}

// reset empties the window for a new sequence that keeps its last n ids
// (at most capacity) out of a vocabulary of vocab. It allocates only when
// the window or vocabulary outgrows what an earlier sequence left.
func (w *penaltyWindow) reset(n, vocab int) {
	for _, id := range w.ring[:w.len] {
		w.counts[id] = 0
	}
	if cap(w.ring) < n {
		w.ring, w.saved = make([]int32, n), make([]float32, n)
	}
	if len(w.counts) < vocab {
		w.counts = make([]int32, vocab)
	}
	w.ring, w.saved = w.ring[:n], w.saved[:n]
	w.len, w.head = 0, 0
}

// push adds id as the window's newest token, dropping its oldest when full.
func (w *penaltyWindow) push(id int) {
	if len(w.ring) == 0 {
		return
	}
	if w.len == len(w.ring) {
		w.counts[w.ring[w.head]]--
	} else {
		w.len++
	}
	w.ring[w.head] = int32(id)
	w.counts[id]++
	w.head++
	if w.head == len(w.ring) {
		w.head = 0
	}
}

// penalize applies o's penalties in place to the logits of every distinct
// id in the window, as llama.cpp's penalties sampler does: a repetition
// penalty r divides a positive logit by r and multiplies any other by r
// (CTRL's), then each id loses count·FrequencyPenalty + PresencePenalty
// (OpenAI's), count being its occurrences in the window. It saves what it
// changed for restore. An id past len(logits) (a padded vocabulary's) is
// never generated, so it is left alone.
func (w *penaltyWindow) penalize(logits []float32, o *SampleOptions) {
	r := float32(o.RepetitionPenalty)
	if r == 0 {
		r = 1
	}
	freq, presence := float32(o.FrequencyPenalty), float32(o.PresencePenalty)
	// Each distinct id once: its count is negated when its logit is done,
	// and restored below. Only an id's first entry saves its logit; the
	// others save NaN, which a checked logit never is.
	for k, id := range w.ring[:w.len] {
		c := w.counts[id]
		w.saved[k] = nan32
		if c <= 0 || int(id) >= len(logits) {
			continue
		}
		l := logits[id]
		w.saved[k] = l
		if l > 0 {
			l /= r
		} else {
			l *= r
		}
		logits[id] = l - float32(c)*freq - presence
		w.counts[id] = -c
	}
	for _, id := range w.ring[:w.len] {
		if c := w.counts[id]; c < 0 {
			w.counts[id] = -c
		}
	}
}

// restore puts back the logits penalize changed, so that log-probabilities
// are the model's own.
func (w *penaltyWindow) restore(logits []float32) {
	for k, id := range w.ring[:w.len] {
		if v := w.saved[k]; v == v {
			logits[id] = w.saved[k]
		}
	}
}
