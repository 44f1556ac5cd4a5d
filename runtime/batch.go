package runtime

import (
	"fmt"
	"time"
)

// BatchOptions configure NewBatch. The zero value runs up to 8 sequences
// at once, each with a cache as long as the model's context, in forward
// passes of up to 256 token rows.
type BatchOptions struct {
	// Sequences is the number of slots: the most sequences in flight at
	// once. Further requests wait for the first slot that frees.
	Sequences int
	// Capacity is the number of positions each sequence's KV cache holds
	// (SessionOptions.Capacity). Memory is Sequences caches of Capacity.
	Capacity int
	// Keep is the number of first tokens each sequence keeps as attention
	// sinks when a RoPE cache slides (SessionOptions.Keep).
	Keep int
	// Rows is the most token rows one forward pass takes: one for each
	// decoding sequence, then chunks of the prompts being prefilled. It is
	// at least Sequences; 0 means max(256, Sequences).
	Rows int
}

// Batch runs many sequences through one model together: each forward pass
// packs the rows of every active sequence (one token of each decoding
// sequence, chunks of new prompts) into one matrix product per weight
// matrix, while each sequence keeps its own ring-buffer KV cache, position
// and sampler. The rows are packed ragged, never padded, and attention for
// a row reads only its own sequence's cache up to its position (see
// tokenRow), so a sequence's logits are what it would get alone. A sequence
// that ends frees its slot for the next waiting one. Sequences that fill an
// absolute-position context end with ErrContextFull: a batch has no context
// shift. A Batch is used by one goroutine at a time; like sessions, any
// number of batches may share a Model.
type Batch struct {
	pass
	slots   []slot
	ids     []int     // [rows]: the token of each row of the next pass
	rowSlot []int     // [rows]: the slot each row of the last pass belongs to
	ready   []int     // slots whose last row in the last pass ended their input
	last    []float32 // [sequences][d]: hidden states to score
	logits  []float32 // [sequences][vocab]: logits of the rows scored last
	events  []BatchEvent
	// sampleReady is b.sampleRange bound once, so that sampling the ready
	// slots on the kernels' pool allocates nothing.
	sampleReady func(lo, hi int)
}

// slot is one sequence in flight: its cache and position, its input, its
// sampler.
type slot struct {
	sequence
	sampler sampler
	req     int // the request in this slot; -1 when free
	opts    GenerateOptions
	input   []int // the prompt, or the text being scored
	fed     int   // tokens of input run so far: decoding once it is len(input)
	next    int   // while decoding, the token the next pass runs
	made    int   // tokens generated
	stats   Stats

	lastRow int  // the slot's last row in the scheduled pass; -1 for none
	decoded bool // the scheduled pass runs the slot's next token

	drawn   Token // the token sampled from the last pass's logits
	drawErr error // or why there is none: non-finite logits
}

func (q *slot) decoding() bool { return q.req >= 0 && q.fed == len(q.input) }

// NewBatch allocates a batch on m.
func (m *Model) NewBatch(opts BatchOptions) (*Batch, error) {
	if err := m.checkOpen(); err != nil {
		return nil, err
	}
	c := &m.cfg
	n := opts.Sequences
	if n == 0 {
		n = 8
	}
	if n < 1 {
		return nil, fmt.Errorf("batch of %d sequences: want at least 1", n)
	}
	capacity, err := m.capacity(opts.Capacity)
	if err != nil {
		return nil, err
	}
	if opts.Keep < 0 || opts.Keep > capacity-1 {
		return nil, fmt.Errorf("batch keep %d: want 0..%d with capacity %d", opts.Keep, capacity-1, capacity)
	}
	if err := m.checkSinks(opts.Keep); err != nil {
		return nil, err
	}
	rows := opts.Rows
	if rows == 0 {
		rows = max(256, n) // every decoding sequence needs a row in each pass
	}
	if rows < n {
		return nil, fmt.Errorf("batch rows %d: want at least one per sequence (%d)", rows, n)
	}
	b := &Batch{
		slots:   make([]slot, n),
		ids:     make([]int, rows),
		rowSlot: make([]int, rows),
		ready:   make([]int, 0, n),
		last:    make([]float32, n*c.NEmbd),
		logits:  make([]float32, n*c.VocabSize),
		events:  make([]BatchEvent, 0, 2*n), // a token and an end for each slot
	}
	b.pass.init(m, rows, capacity)
	b.reserveHead(n)
	b.sampleReady = b.sampleRange
	for i := range b.slots {
		q := &b.slots[i]
		q.sequence = newSequence(c, capacity, opts.Keep)
		q.sampler.init(c.VocabSize)
		q.req = -1
	}
	return b, nil
}

// BatchMemory estimates the bytes NewBatch(opts) allocates: every
// sequence's KV cache, ids and sampler, and the forward pass's buffers for
// opts.Rows rows. The KV caches dominate: Sequences · Capacity · n_layer ·
// 2 · n_kv_head·head_dim float32s. Options NewBatch would refuse are its
// error.
func (m *Model) BatchMemory(opts BatchOptions) (int64, error) {
	c := &m.cfg
	n := int64(opts.Sequences)
	if n == 0 {
		n = 8
	}
	if n < 1 {
		return 0, fmt.Errorf("batch of %d sequences: want at least 1", n)
	}
	capacity, err := m.capacity(opts.Capacity)
	if err != nil {
		return 0, err
	}
	rows := int64(opts.Rows)
	if rows == 0 {
		rows = max(256, n)
	}
	const f32 = 4
	cp, d, v := int64(capacity), int64(c.NEmbd), int64(c.VocabSize)
	qkv := int64(c.QueryDim() + 2*c.KVDim())
	perSeq := 2*int64(c.NLayer)*cp*int64(c.KVDim())*f32 + // keys and values
		cp*8 + // ids
		2*v*f32 + // the sampler's order and probabilities
		(d+v)*f32 // the hidden state scored and its logits
	perRow := (3*d+int64(c.QueryDim())+qkv+3*int64(c.NInner))*f32 + 32
	scores := int64(c.NHead) * min(rows, attentionBlock) * cp * f32
	return n*perSeq + rows*perRow + scores, nil
}

// Room is the most tokens a sequence of the batch can hold, prompt
// included: math.MaxInt when its cache slides (RoPE).
func (b *Batch) Room() int { return b.limit() }

// Capacity is the number of positions each sequence's KV cache holds
// (BatchOptions.Capacity, or the default it resolved to).
func (b *Batch) Capacity() int { return b.slots[0].cache.capacity }

// limit is the number of positions a sequence can process: see Session.limit.
func (b *Batch) limit() int { return b.m.limit(b.slots[0].cache) }

// free empties every slot.
func (b *Batch) free() {
	for i := range b.slots {
		b.slots[i].req = -1
	}
}

// start puts request req with input ids into slot i, empty. Whatever the
// slot's cache holds from its last sequence is never attended: attention
// reads positions below pos only, and pos starts at 0.
func (b *Batch) start(i, req int, ids []int) {
	q := &b.slots[i]
	q.req, q.input, q.fed, q.made, q.pos = req, ids, 0, 0, 0
	q.stats = Stats{PromptTokens: len(ids)}
}

// busy reports whether any slot holds a sequence.
func (b *Batch) busy() bool {
	for i := range b.slots {
		if b.slots[i].req >= 0 {
			return true
		}
	}
	return false
}

// schedule fills the rows of the next pass from every slot in flight: a row
// for each decoding slot (its next token), then the unrun input of the
// others, in slot order, as far as the rows go. It returns the number of
// rows and notes in each slot where its rows end.
func (b *Batch) schedule() int {
	t := 0
	for i := range b.slots {
		q := &b.slots[i]
		q.lastRow, q.decoded = -1, q.decoding()
		if q.decoded {
			b.rows[t], b.ids[t], b.rowSlot[t] = tokenRow{seq: &q.sequence, pos: q.pos}, q.next, i
			q.lastRow = t
			t++
		}
	}
	for i := range b.slots {
		q := &b.slots[i]
		if q.req < 0 || q.decoded || t == len(b.rows) {
			continue
		}
		n := min(len(q.input)-q.fed, len(b.rows)-t)
		for k := range n {
			b.rows[t], b.ids[t], b.rowSlot[t] = tokenRow{seq: &q.sequence, pos: q.pos + k}, q.input[q.fed+k], i
			t++
		}
		q.fed += n
		q.lastRow = t - 1
	}
	return t
}

// step runs one forward pass over the scheduled rows, lists in b.ready the
// slots that decoded and those whose prompt it finished, computes their
// logits into b.logits (b.ready[k]'s at b.logits[k*vocab:]), and charges
// the pass's time to every slot it ran.
func (b *Batch) step() {
	start := time.Now()
	b.forward(b.ids[:b.schedule()])
	b.ready = b.ready[:0]
	d := b.m.cfg.NEmbd
	for i := range b.slots {
		q := &b.slots[i]
		if q.lastRow < 0 {
			continue
		}
		if q.decoding() {
			k := len(b.ready)
			copy(b.last[k*d:(k+1)*d], b.h[q.lastRow*d:(q.lastRow+1)*d])
			b.ready = append(b.ready, i)
		}
	}
	if len(b.ready) > 0 {
		b.m.head.scores(b.logits, b.last, len(b.ready), &b.sc)
	}
	elapsed := time.Since(start)
	for i := range b.slots {
		q := &b.slots[i]
		switch {
		case q.lastRow < 0:
		case q.decoded:
			q.stats.DecodedTokens++
			q.stats.DecodeDuration += elapsed
		default:
			q.stats.PrefillDuration += elapsed
		}
	}
}

// slotLogits are the logits of b.ready[k] after step.
func (b *Batch) slotLogits(k int) []float32 {
	v := b.m.cfg.VocabSize
	return b.logits[k*v : (k+1)*v]
}
