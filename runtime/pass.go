package runtime

import "github.com/goformer/goformer/model"

// sequence is what the forward pass keeps of one sequence between passes:
// its own KV cache and the next position. A Session is one sequence; a
// Batch holds one per slot.
type sequence struct {
	cache *kvCache
	pos   int   // tokens processed since the sequence (or the last shift) began: the next position
	ids   []int // [capacity]: the token in each cache slot, for a context shift
}

func newSequence(c *model.Config, capacity, keep int) sequence {
	return sequence{cache: newKVCache(c.NLayer, capacity, keep, c.KVDim()), ids: make([]int, capacity)}
}

// tokenRow says whose a row of a forward pass is: the token at position pos
// of seq. Every row-wise step (linear layers, norms, GELU, residuals) ignores
// it; the position encoding and attention read it, and attention reads and
// writes only seq's cache. That is the whole attention mask: a row never
// sees another sequence's keys, nor its own sequence's keys past pos.
type tokenRow struct {
	seq *sequence
	pos int
}

// pass is the working memory of forward passes over up to len(rows) token
// rows, allocated once: rows[:t] describe the rows of the next pass, the
// buffers hold their activations, row-major [row][feature]. A Session's
// rows all belong to its one sequence; a Batch packs rows of many
// sequences, ragged, without padding.
type pass struct {
	m    *Model
	rows []tokenRow
	n    int // rows the last forward pass ran: their hidden states are in h

	x, h, proj       []float32 // [rows][d]
	att              []float32 // [rows][n_head·head_dim]: every head's attention output
	qkv              []float32 // [rows][qkvWidth]: queries, keys, values
	qkvWidth         int       // n_head·head_dim + 2·n_kv_head·head_dim
	up               []float32 // [rows][d_ff] (GELU) or [rows][2·d_ff], gate then up (SwiGLU)
	ff               []float32 // [rows][d_ff]: the MLP's hidden activations
	ropeCos, ropeSin []float32 // [rows][rotary dim]: RoPE tables of the rows' positions
	sc               scratch   // the linears' working memory

	// Attention runs heads concurrently (kernels.Parallel), so each head
	// has its own scores buffer. attendHeads is s.attendHeads bound once,
	// which keeps the dispatch allocation-free; attLayer and attRows are
	// the arguments of the attention call in progress.
	scores            []float32 // [heads][scoresPerHead]: a block of queries' attention weights per head
	scoresPerHead     int       // min(rows, attentionBlock)·capacity
	attendHeads       func(lo, hi int)
	attLayer, attRows int
}

// init allocates p for passes of up to rows rows over sequences whose
// caches hold capacity positions. p must be where it stays (a field of its
// Session or Batch): attendHeads is bound to its address.
func (p *pass) init(m *Model, rows, capacity int) {
	c := &m.cfg
	d, qd := c.NEmbd, c.QueryDim()
	upWidth := c.NInner
	if c.Arch.MLP == model.SwiGLUMLP {
		upWidth = 2 * c.NInner
	}
	*p = pass{
		m:             m,
		rows:          make([]tokenRow, rows),
		x:             make([]float32, rows*d),
		h:             make([]float32, rows*d),
		att:           make([]float32, rows*qd),
		proj:          make([]float32, rows*d),
		qkvWidth:      qd + 2*c.KVDim(),
		qkv:           make([]float32, rows*(qd+2*c.KVDim())),
		up:            make([]float32, rows*upWidth),
		ff:            make([]float32, rows*c.NInner),
		scores:        make([]float32, c.NHead*min(rows, attentionBlock)*capacity),
		scoresPerHead: min(rows, attentionBlock) * capacity,
		// Every linear's MatMul quantizes all rows of its input at once.
		sc: newScratch(rows, max(d, qd, c.NInner), m.widestPart),
	}
	// The output head's int16 activations (quantTable.scores).
	p.sc.q.Reserve16(rows, d)
	if m.activations == TwoPassActivations {
		p.sc.q.ReserveTwoPass(rows*max(d, qd, c.NInner), rows*max(upWidth, qd+2*c.KVDim(), d))
	}
	if c.Arch.MLP != model.SwiGLUMLP {
		p.ff = p.up // GELU runs in place
	}
	p.attendHeads = p.attendHeadRange
	if c.Arch.Positions == model.RoPE {
		p.ropeCos = make([]float32, rows*c.RotaryDims())
		p.ropeSin = make([]float32, rows*c.RotaryDims())
	}
}

// reserveHead makes room for the output head's two-pass products of up to
// states hidden states at once (a Session's one, a Batch's sequences), so
// that scoring allocates nothing: a block-type head with
// TwoPassActivations writes its second product, vocabulary-wide, into the
// scratch.
func (p *pass) reserveHead(states int) {
	if t, ok := p.m.head.(*quantTable); ok && t.twoPass {
		c := &p.m.cfg
		p.sc.q.ReserveTwoPass(states*c.NEmbd, states*c.VocabSize)
	}
}
