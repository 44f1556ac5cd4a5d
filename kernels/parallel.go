package kernels

// minParallelMACs is the size, in multiply-adds, below which a product stays
// on the calling goroutine: waking a parked worker costs microseconds, as
// much as a 768×128 GEMV.
const minParallelMACs = 1 << 18

// chunksPerThread splits row-parallel jobs finer than one piece per thread,
// so that a core slowed by other processes (the machine is shared) takes
// fewer pieces instead of making the others wait. A goroutine's own pieces
// are consecutive (see pool), so the split costs no extra stream starts.
const chunksPerThread = 4

// jobs holds one value per kind of parallel kernel call. The pool owns
// them: a call fills one under the pool's lock and passes its address, so
// dispatch stores no new pointer on the heap and allocates nothing.
type jobs struct {
	gemv       gemvJob
	batch      gemvBatchJob
	gemm       gemmJob
	panelGemv  panelGemvJob
	panelGemm  panelGemmJob
	q8MatVec   q8MatVecJob
	q8MatMul   q8MatMulJob
	q8Packed   q8PackedJob
	q8Panels   q8PanelsJob
	q8MatMul16 q8MatMul16Job
	qMatVec    quantMatVecJob
	qMatMul    quantMatMulJob
	body       bodyJob
}

// gemvJob is rows [lo, hi) of y = W·x + bias.
type gemvJob struct {
	t             *impl
	y, x, w, bias []float32
	k             int
}

func (j *gemvJob) run(lo, hi int) {
	var bias []float32
	if j.bias != nil {
		bias = j.bias[lo:hi]
	}
	j.t.gemv(j.y[lo:hi], j.x, j.w[lo*j.k:hi*j.k], bias, j.k, hi-lo)
}

// gemv runs the tier's GEMV, split by rows of W across the pool when it is
// large. The split falls on multiples of 4, the SIMD GEMVs' row block, so
// every row is computed exactly as on one thread.
func gemv(t *impl, y, x, w, bias []float32, k, n int) {
	if k*n >= minParallelMACs && n >= 8 && workPool.acquire() {
		j := &workPool.jobs.gemv
		*j = gemvJob{t: t, y: y, x: x, w: w, bias: bias, k: k}
		workPool.run(j, n, 4, chunksPerThread*Threads())
		workPool.release()
		return
	}
	t.gemv(y, x, w, bias, k, n)
}

// gemvBatchJob is columns [lo, hi) (rows of W) of C = A·Wᵀ + bias.
type gemvBatchJob struct {
	t             *impl
	c, a, w, bias []float32
	m, k, n       int
}

func (j *gemvBatchJob) run(lo, hi int) {
	var bias []float32
	if j.bias != nil {
		bias = j.bias[lo:hi]
	}
	j.t.gemvBatch(j.c[lo:], j.a, j.w[lo*j.k:hi*j.k], bias, j.m, j.k, hi-lo, j.n)
}

// gemvBatch runs the tier's multi-row GEMV, split like the GEMV by rows of
// W (multiples of 4, its row block) across the pool when it is large.
func gemvBatch(t *impl, c, a, w, bias []float32, m, k, n int) {
	if m*k*n >= minParallelMACs && n >= 8 && workPool.acquire() {
		j := &workPool.jobs.batch
		*j = gemvBatchJob{t: t, c: c, a: a, w: w, bias: bias, m: m, k: k, n: n}
		workPool.run(j, n, 4, chunksPerThread*Threads())
		workPool.release()
		return
	}
	t.gemvBatch(c, a, w, bias, m, k, n, n)
}

// gemmJob is columns [lo, hi) of C = A·Wᵀ + bias.
type gemmJob struct {
	t             *impl
	c, a, w, bias []float32
	m, k, n       int
}

func (j *gemmJob) run(lo, hi int) {
	j.t.gemm(j.c, j.a, j.w, j.bias, j.m, j.k, j.n, lo, hi)
}

// gemm runs the tier's GEMM, split by column blocks across the pool when it
// is large. Each piece packs its own panels (the scratch pools hand every
// goroutine its own) and repacks all of A, so the split is coarser than the
// GEMVs': two pieces per thread.
func gemm(t *impl, c, a, w, bias []float32, m, k, n int) {
	if m*k*n >= minParallelMACs && n >= 2*t.gemmAlign && workPool.acquire() {
		j := &workPool.jobs.gemm
		*j = gemmJob{t: t, c: c, a: a, w: w, bias: bias, m: m, k: k, n: n}
		workPool.run(j, n, t.gemmAlign, 2*Threads())
		workPool.release()
		return
	}
	t.gemm(c, a, w, bias, m, k, n, 0, n)
}

// panelGemvJob is outputs [lo, hi) of y = W·x + bias for packed W.
type panelGemvJob struct {
	t    *impl
	y, x []float32
	p    *Panels
	bias []float32
}

func (j *panelGemvJob) run(lo, hi int) { panelGemvColumns(j.t, j.y, j.x, j.p, j.bias, lo, hi) }

// panelGemv runs the tier's panel GEMV, split by panels across the pool
// when it is large: by groups of four panels, the NEON kernel's stride
// (it walks four side by side), so that only the last piece has a partial
// group.
func panelGemv(t *impl, y, x []float32, p *Panels, bias []float32) {
	n := p.Rows
	if p.Cols*n >= minParallelMACs && n >= 8*p.Width && workPool.acquire() {
		j := &workPool.jobs.panelGemv
		*j = panelGemvJob{t: t, y: y, x: x, p: p, bias: bias}
		workPool.run(j, n, 4*p.Width, chunksPerThread*Threads())
		workPool.release()
		return
	}
	panelGemvColumns(t, y, x, p, bias, 0, n)
}

// panelGemmJob is columns [lo, hi) of C = A·Wᵀ + bias for packed W.
type panelGemmJob struct {
	t    *impl
	c, a []float32
	p    *Panels
	bias []float32
	m    int
}

func (j *panelGemmJob) run(lo, hi int) { j.t.panelGemm(j.c, j.a, j.p, j.bias, j.m, lo, hi) }

// panelGemm runs the tier's GEMM over packed W, split by columns (whole
// panels) across the pool when it is large. W is not packed per call: a
// piece packs only A.
func panelGemm(t *impl, c, a []float32, p *Panels, bias []float32, m int) {
	n := p.Rows
	if m*p.Cols*n >= minParallelMACs && n >= 2*p.Width && workPool.acquire() {
		j := &workPool.jobs.panelGemm
		*j = panelGemmJob{t: t, c: c, a: a, p: p, bias: bias, m: m}
		workPool.run(j, n, p.Width, 2*Threads())
		workPool.release()
		return
	}
	t.panelGemm(c, a, p, bias, m, 0, n)
}

// q8MatVecJob is rows [lo, hi) of y = W·x in int8 blocks.
type q8MatVecJob struct {
	t      *impl
	y      []float32
	wq, xq []int8
	ws, xs []float32
	k      int
}

func (j *q8MatVecJob) run(lo, hi int) {
	nb := j.k / Q8Block
	j.t.types[Q8_0].matVec(j.y[lo:hi], j.wq[lo*j.k:hi*j.k], j.ws[lo*nb:hi*nb], j.xq, j.xs, j.k, hi-lo)
}

// q8MatVec runs the tier's int8 GEMV, split by rows of W (multiples of 16,
// the amx tier's group of rows and a multiple of the others' row blocks)
// across the pool when it is large.
func q8MatVec(t *impl, y []float32, wq []int8, ws []float32, xq []int8, xs []float32, k, n int) {
	if k*n >= minParallelMACs && n >= 8 && workPool.acquire() {
		j := &workPool.jobs.q8MatVec
		*j = q8MatVecJob{t: t, y: y, wq: wq, ws: ws, xq: xq, xs: xs, k: k}
		workPool.run(j, n, 16, chunksPerThread*Threads())
		workPool.release()
		return
	}
	t.types[Q8_0].matVec(y, wq, ws, xq, xs, k, n)
}

// q8MatMulJob is columns [lo, hi) of C = A·Wᵀ + bias in int8 blocks.
type q8MatMulJob struct {
	t               *impl
	c, as, ws, bias []float32
	aq, wq          []int8
	m, k, n         int
}

func (j *q8MatMulJob) run(lo, hi int) {
	q8MatMulColumns(j.t, j.c, j.aq, j.as, j.wq, j.ws, j.bias, j.m, j.k, j.n, lo, hi)
}

// q8MatMul splits the int8 GEMM by columns (rows of W) across the pool when
// it is large. Every element's arithmetic is independent of the split, and
// a piece packs nothing, so it is split as finely as the GEMVs.
func q8MatMul(t *impl, c []float32, aq []int8, as []float32, wq []int8, ws, bias []float32, m, k, n int) {
	if t.types[Q8_0].packedTile != nil {
		q8MatMulPacked(t, c, aq, as, wq, ws, bias, m, k, n)
		return
	}
	if m*k*n >= minParallelMACs && n >= 32 && workPool.acquire() {
		j := &workPool.jobs.q8MatMul
		*j = q8MatMulJob{t: t, c: c, aq: aq, as: as, wq: wq, ws: ws, bias: bias, m: m, k: k, n: n}
		workPool.run(j, n, 16, chunksPerThread*Threads())
		workPool.release()
		return
	}
	q8MatMulColumns(t, c, aq, as, wq, ws, bias, m, k, n, 0, n)
}

// quantMatVecJob is rows [lo, hi) of y = W·x for a blocked W.
type quantMatVecJob struct {
	tr    *impl
	t     WeightType
	y, xs []float32
	w     []byte
	xq    []int8
	xsum  []int16
	k     int
}

func (j *quantMatVecJob) run(lo, hi int) {
	rb := j.t.RowBytes(j.k)
	j.tr.types[j.t].blockMatVec(j.y[lo:hi], j.w[lo*rb:hi*rb], j.xq, j.xs, j.xsum, j.k, hi-lo)
}

// quantMatVec runs the tier's GEMV of a blocked type, split by rows of W
// across the pool when it is large: in multiples of 8, the row group of the
// Q4_0/Q5_0 GEMVs (whose leftover rows take a slower one-row path), which an
// interleaved type's layout needs for its pieces to be matrices of it.
func quantMatVec(tr *impl, t WeightType, y []float32, w []byte, xq []int8, xs []float32, xsum []int16, k, n int) {
	if k*n >= minParallelMACs && n >= 8 && workPool.acquire() {
		j := &workPool.jobs.qMatVec
		*j = quantMatVecJob{tr: tr, t: t, y: y, w: w, xq: xq, xs: xs, xsum: xsum, k: k}
		workPool.run(j, n, 8, chunksPerThread*Threads())
		workPool.release()
		return
	}
	tr.types[t].blockMatVec(y, w, xq, xs, xsum, k, n)
}

// quantMatMulJob is columns [lo, hi) of C = A·Wᵀ + bias for a blocked W.
type quantMatMulJob struct {
	tr          *impl
	t           WeightType
	c, as, bias []float32
	aq          []int8
	asum        []int16
	panel, w    []byte
	m, k, n     int
}

func (j *quantMatMulJob) run(lo, hi int) {
	quantMatMulColumns(j.tr, j.t, j.c, j.aq, j.as, j.asum, j.panel, j.w, j.bias, j.m, j.k, j.n, lo, hi)
}

// quantMatMul splits the GEMM of a blocked type by columns (rows of W)
// across the pool when it is large, as q8MatMul does. A type with a chain
// tile has A's groups of eight rows packed once, before the split.
func quantMatMul(tr *impl, t WeightType, c []float32, aq []int8, as []float32, asum []int16, w []byte, bias []float32, m, k, n int) {
	var panel []byte
	if ct := &tr.types[t].chainTile; ct.fn != nil && m >= chainRows {
		buf := packedChainPanels(ct, aq, as, asum, m, k)
		defer chainPanels.Put(buf)
		panel = *buf
	}
	if m*k*n >= minParallelMACs && n >= 32 && workPool.acquire() {
		j := &workPool.jobs.qMatMul
		*j = quantMatMulJob{tr: tr, t: t, c: c, aq: aq, as: as, asum: asum, panel: panel, w: w, bias: bias, m: m, k: k, n: n}
		workPool.run(j, n, 16, chunksPerThread*Threads())
		workPool.release()
		return
	}
	quantMatMulColumns(tr, t, c, aq, as, asum, panel, w, bias, m, k, n, 0, n)
}

// bodyJob is a caller's function over [lo, hi).
type bodyJob struct{ body func(lo, hi int) }

func (j *bodyJob) run(lo, hi int) { j.body(lo, hi) }

// Parallel calls body on disjoint ranges [lo, hi) that together cover
// [0, n), concurrently on up to Threads() goroutines (the caller's
// included), and returns when every call has returned:
//
//	body(0, n) // the same work, split
//
// It is meant for work that splits into independent parts, such as
// attention split by heads. The pieces hold whole units: at most
// 4·Threads() of them, never more than n. When Threads() is 1, n < 2, or the
// pool is busy with another call (another goroutine's kernel, or Parallel
// called from inside a body), body(0, n) runs on the calling goroutine.
//
// Parallel allocates nothing when body is a value made once and kept by the
// caller, such as a method value stored in a field (s.attendHeads =
// s.attend at set-up). A closure or method value written at the call site
// escapes into the pool and is allocated on every call.
func Parallel(n int, body func(lo, hi int)) {
	if n < 2 || Threads() < 2 || !workPool.acquire() {
		if n > 0 {
			body(0, n)
		}
		return
	}
	j := &workPool.jobs.body
	j.body = body
	workPool.run(j, n, 1, chunksPerThread*Threads())
	workPool.release()
}

// WorkerPieces reports how many pieces of split kernels and Parallel calls
// the pool's worker goroutines (not the callers) have run since the process
// started: proof that a split really happened, which equal results on one
// thread and on several cannot give.
func WorkerPieces() uint64 {
	var n uint64
	for i := 1; i < len(workPool.runs); i++ {
		n += workPool.runs[i].ran.Load()
	}
	return n
}
