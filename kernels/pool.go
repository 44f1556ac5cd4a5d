package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// task is one parallel job: run computes the part [lo, hi) of it. Jobs are
// values held by their caller (or by the pool, see jobs.go) and passed as a
// pointer, so dispatching one stores no new pointer on the heap.
type task interface {
	run(lo, hi int)
}

// pool is a persistent set of worker goroutines. A job is split into
// pieces, and the pieces into one run of consecutive pieces per goroutine
// that takes part (the caller's first, then each worker's). A goroutine
// claims the pieces of its own run from the front, one at a time, so the
// rows it reads form one stream that the prefetchers keep following from
// piece to piece; when its run is empty it takes pieces from the back of
// the others' runs, so a core slowed down by another process takes fewer
// pieces instead of making the others wait. (Handing out pieces in one
// shared order made every piece a new stream: SmolLM2-135M's 120 small int8
// GEMVs per token streamed at 15.5-16.5 GB/s on two threads against 18-20.5
// for the same bytes in two large ones.) Workers spin on the job state for
// a while after each job (a decode step issues one matmul after another,
// microseconds apart), then park on their wake channel.
//
// One job runs at a time: a caller that finds the pool busy (another
// session, or a kernel called from inside a parallel body) runs its work on
// its own goroutine instead of waiting. The piece boundaries of a job do
// not depend on which goroutine runs a piece, so results do not either.
type pool struct {
	mu sync.Mutex // held by the caller whose job is running

	// state packs the job generation (high 32 bits) and its number of runs
	// (low 16 bits).
	state atomic.Uint64
	// runs[i] is run i's unclaimed pieces [front, back), packed with the
	// generation of its job (see packRun), so that claiming a piece also
	// proves the job it belongs to is still the current one. A fixed
	// array: a worker of a finished job may still read it while the next
	// caller publishes.
	runs [maxThreads]paddedRun
	done atomic.Int32 // pieces of the current job finished
	// waiting is set while the caller is parked on finished, which has
	// room for the one token that wakes it.
	waiting  atomic.Bool
	finished chan struct{}

	// The current job, written under mu before state publishes it and read
	// only by a goroutine that has claimed one of its pieces: the job cannot
	// end, and these cannot change, before that piece is done.
	job              task
	n, align, pieces int
	jobs             jobs // the kernels' job values, so that dispatch allocates nothing
	workers          []*worker
	sleepers         atomic.Int32 // workers parked, a hint for waking
}

// paddedRun is one goroutine's run of pieces, alone on its cache line: its
// owner claims from it at every piece, and counts there every piece it runs
// (its own run's or another's).
type paddedRun struct {
	r   atomic.Uint64
	ran atomic.Uint64 // pieces run by the goroutine of this id, over all jobs
	_   [48]byte
}

type worker struct {
	id     int           // its run in a job: 1.. (the caller's is 0)
	wake   chan struct{} // one token per wake-up
	parked atomic.Bool
	quit   atomic.Bool
}

const (
	// spinRounds bounds how long an idle worker polls before parking:
	// about 100-150 µs, more than the gaps between the matmuls of a decode
	// step (norms, quantizing x, attention's serial part) and far less
	// than a scheduler tick. A quarter of it (25-40 µs) let the worker
	// park inside a decode step and join the next matmul late, after the
	// caller had claimed most of its chunks: a 124M int8 decode on two
	// threads ran 176-184 tokens/s against 204-230 now. waitDone, the
	// caller waiting for the last pieces of its own job, spins as long.
	spinRounds = 1 << 14
	// maxPieces keeps piece indices inside the 16-bit fields of a run.
	maxPieces = 1<<16 - 1
	// maxThreads is the most goroutines SetThreads allows, the runs' array.
	maxThreads = 1 << 10
)

var workPool pool

func packState(gen, runs uint64) uint64 { return gen<<32 | runs }

func unpackState(s uint64) (gen, runs uint64) { return s >> 32, s & 0xffff }

func packRun(gen, front, back uint64) uint64 { return gen<<32 | front<<16 | back }

func unpackRun(r uint64) (gen, front, back uint64) {
	return r >> 32, r >> 16 & 0xffff, r & 0xffff
}

// acquire takes the pool for one job. It reports false when the pool is
// busy or has no workers (Threads() == 1): the caller then does the work
// itself. After true, the caller fills a job (usually one of p.jobs), calls
// run and then release.
func (p *pool) acquire() bool {
	if !p.mu.TryLock() {
		return false
	}
	p.ensureWorkers()
	if p.finished == nil {
		p.finished = make(chan struct{}, 1)
	}
	if len(p.workers) == 0 {
		p.mu.Unlock()
		return false
	}
	return true
}

// release ends the job of acquire.
func (p *pool) release() {
	p.jobs = jobs{} // drop the caller's slices
	p.job = nil
	p.mu.Unlock()
}

// run runs t over [0, n) split into pieces whose bounds are multiples of
// align (the last ends at n), on the workers and the calling goroutine,
// and returns when every piece is done.
func (p *pool) run(t task, n, align, pieces int) {
	pieces = max(1, min(pieces, maxPieces, (n+align-1)/align))
	p.job, p.n, p.align, p.pieces = t, n, align, pieces
	p.done.Store(0)
	gen, _ := unpackState(p.state.Load())
	gen = (gen + 1) & 0xffffffff
	runs := min(len(p.workers)+1, pieces)
	for i := range runs {
		p.runs[i].r.Store(packRun(gen, uint64(pieces*i/runs), uint64(pieces*(i+1)/runs)))
	}
	p.state.Store(packState(gen, uint64(runs)))
	if p.sleepers.Load() > 0 {
		for _, w := range p.workers[:runs-1] {
			if w.parked.CompareAndSwap(true, false) {
				p.sleepers.Add(-1)
				w.wake <- struct{}{}
			}
		}
	}
	p.work(gen, 0)
	p.waitDone(int32(pieces))
}

// waitDone returns when all pieces of the current job are done. It spins
// briefly, then parks: on a machine shared with other processes, a waiter
// that keeps spinning takes CPU time from the worker it is waiting for.
func (p *pool) waitDone(pieces int32) {
	for i := 0; i < spinRounds; i++ {
		if p.done.Load() == pieces {
			return
		}
		if i%64 == 63 {
			runtime.Gosched()
		}
	}
	p.waiting.Store(true)
	if p.done.Load() != pieces {
		<-p.finished // the goroutine that finished the last piece sends
	} else if !p.waiting.CompareAndSwap(true, false) {
		<-p.finished // it finished just now and is sending
	}
}

// work runs pieces of job gen until none is left: those of run id from the
// front, then those of the other runs from the back.
func (p *pool) work(gen uint64, id int) {
	g, runs := unpackState(p.state.Load())
	if g != gen {
		return
	}
	n := int(runs)
	if id < n {
		for p.claim(id, id, gen, true) {
		}
	}
	for d := 1; d < n; d++ {
		for p.claim(id, (id+d)%n, gen, false) {
		}
	}
}

// claim takes one piece of job gen from the front or the back of run i and
// runs it on the goroutine of id, and reports whether there was one.
func (p *pool) claim(id, i int, gen uint64, front bool) bool {
	r := &p.runs[i].r
	for {
		v := r.Load()
		g, f, b := unpackRun(v)
		if g != gen || f >= b {
			return false
		}
		piece := f
		if front {
			f++
		} else {
			b--
			piece = b
		}
		if r.CompareAndSwap(v, packRun(g, f, b)) {
			// Counted before the piece is done, so that the count is
			// complete when the job's caller returns.
			p.runs[id].ran.Add(1)
			p.runPiece(int(piece))
			return true
		}
	}
}

// runPiece runs piece i of the current job, which the caller has claimed.
func (p *pool) runPiece(i int) {
	// The job's fields are read before this piece is marked done: after
	// that the caller may be publishing the next job.
	pieces := p.pieces
	units := (p.n + p.align - 1) / p.align
	lo := units * i / pieces * p.align
	hi := min(p.n, units*(i+1)/pieces*p.align)
	if lo < hi {
		p.job.run(lo, hi)
	}
	if p.done.Add(1) == int32(pieces) && p.waiting.CompareAndSwap(true, false) {
		p.finished <- struct{}{}
	}
}

// loop is a worker's life: wait for a job newer than the last one seen,
// help with it, repeat. seen is the generation of the last job finished
// when the worker was made: a job published before the goroutine first runs
// is newer, and the worker joins it.
func (p *pool) loop(w *worker, seen uint64) {
	for !w.quit.Load() {
		gen := p.waitJob(w, seen)
		if w.quit.Load() {
			return
		}
		p.work(gen, w.id)
		seen = gen
	}
}

// waitJob spins, then parks, until the job generation differs from seen.
func (p *pool) waitJob(w *worker, seen uint64) uint64 {
	for i := 0; i < spinRounds; i++ {
		if g, _ := unpackState(p.state.Load()); g != seen || w.quit.Load() {
			return g
		}
		if i%64 == 63 {
			runtime.Gosched()
		}
	}
	w.parked.Store(true)
	p.sleepers.Add(1)
	if g, _ := unpackState(p.state.Load()); g == seen && !w.quit.Load() {
		<-w.wake // whoever cleared parked sends exactly one token
	} else if w.parked.CompareAndSwap(true, false) {
		p.sleepers.Add(-1)
	} else {
		<-w.wake // a caller cleared parked just now and is sending
	}
	g, _ := unpackState(p.state.Load())
	return g
}

// ensureWorkers starts or stops workers so that, with the calling
// goroutine, Threads() goroutines share a job. Called with mu held.
func (p *pool) ensureWorkers() {
	want := Threads() - 1
	for len(p.workers) < want {
		w := &worker{id: len(p.workers) + 1, wake: make(chan struct{}, 1)}
		p.workers = append(p.workers, w)
		seen, _ := unpackState(p.state.Load())
		go p.loop(w, seen)
	}
	for len(p.workers) > want {
		w := p.workers[len(p.workers)-1]
		p.workers = p.workers[:len(p.workers)-1]
		w.quit.Store(true)
		if w.parked.CompareAndSwap(true, false) {
			p.sleepers.Add(-1)
			w.wake <- struct{}{}
		}
	}
}
