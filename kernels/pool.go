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

// pool is a persistent set of worker goroutines. A job is split into chunks
// that the calling goroutine and the workers claim one at a time, so a core
// slowed down by another process takes fewer chunks. Workers spin on the
// job state for a while after each job (a decode step issues one matmul
// after another, microseconds apart), then park on their wake channel.
//
// One job runs at a time: a caller that finds the pool busy (another
// session, or a kernel called from inside a parallel body) runs its work on
// its own goroutine instead of waiting. The chunk boundaries of a job do not
// depend on which goroutine runs a chunk, so results do not either.
type pool struct {
	mu sync.Mutex // held by the caller whose job is running

	// state packs the job generation (high 32 bits), its chunk count (16
	// bits) and the next unclaimed chunk (low 16 bits), so that claiming a
	// chunk also proves the job it belongs to is still the current one.
	state atomic.Uint64
	done  atomic.Int32 // chunks of the current job finished
	// waiting is set while the caller is parked on finished, which has
	// room for the one token that wakes it.
	waiting  atomic.Bool
	finished chan struct{}

	// The current job, written under mu before state publishes it and read
	// only by a goroutine that has claimed one of its chunks: the job cannot
	// end, and these cannot change, before that chunk is done.
	job      task
	n, align int
	jobs     jobs // the kernels' job values, so that dispatch allocates nothing
	workers  []*worker
	sleepers atomic.Int32 // workers parked, a hint for waking
}

type worker struct {
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
	// caller waiting for the last chunks of its own job, spins as long.
	spinRounds = 1 << 14
	// maxChunks keeps the chunk count inside its 16 bits of state.
	maxChunks = 1<<16 - 1
)

var workPool pool

func packState(gen, chunks, next uint64) uint64 { return gen<<32 | chunks<<16 | next }

func unpackState(s uint64) (gen, chunks, next uint64) {
	return s >> 32, s >> 16 & 0xffff, s & 0xffff
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

// run runs t over [0, n) split into chunks pieces whose bounds are
// multiples of align (the last ends at n), on the workers and the calling
// goroutine, and returns when every piece is done.
func (p *pool) run(t task, n, align, chunks int) {
	chunks = max(1, min(chunks, maxChunks, (n+align-1)/align))
	p.job, p.n, p.align = t, n, align
	p.done.Store(0)
	gen, _, _ := unpackState(p.state.Load())
	gen = (gen + 1) & 0xffffffff
	p.state.Store(packState(gen, uint64(chunks), 0))
	if p.sleepers.Load() > 0 {
		for _, w := range p.workers[:min(len(p.workers), chunks-1)] {
			if w.parked.CompareAndSwap(true, false) {
				p.sleepers.Add(-1)
				w.wake <- struct{}{}
			}
		}
	}
	p.work(gen)
	p.waitDone(int32(chunks))
}

// waitDone returns when all chunks of the current job are done. It spins
// briefly, then parks: on a machine shared with other processes, a waiter
// that keeps spinning takes CPU time from the worker it is waiting for.
func (p *pool) waitDone(chunks int32) {
	for i := 0; i < spinRounds; i++ {
		if p.done.Load() == chunks {
			return
		}
		if i%64 == 63 {
			runtime.Gosched()
		}
	}
	p.waiting.Store(true)
	if p.done.Load() != chunks {
		<-p.finished // the goroutine that finished the last chunk sends
	} else if !p.waiting.CompareAndSwap(true, false) {
		<-p.finished // it finished just now and is sending
	}
}

// work claims and runs chunks of job gen until none is left.
func (p *pool) work(gen uint64) {
	for {
		s := p.state.Load()
		g, chunks, next := unpackState(s)
		if g != gen || next >= chunks {
			return
		}
		if !p.state.CompareAndSwap(s, s+1) {
			continue
		}
		units := uint64((p.n + p.align - 1) / p.align)
		lo := int(units*next/chunks) * p.align
		hi := min(p.n, int(units*(next+1)/chunks)*p.align)
		if lo < hi {
			p.job.run(lo, hi)
		}
		if p.done.Add(1) == int32(chunks) && p.waiting.CompareAndSwap(true, false) {
			p.finished <- struct{}{}
		}
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
		p.work(gen)
		seen = gen
	}
}

// waitJob spins, then parks, until the job generation differs from seen.
func (p *pool) waitJob(w *worker, seen uint64) uint64 {
	for i := 0; i < spinRounds; i++ {
		if g, _, _ := unpackState(p.state.Load()); g != seen || w.quit.Load() {
			return g
		}
		if i%64 == 63 {
			runtime.Gosched()
		}
	}
	w.parked.Store(true)
	p.sleepers.Add(1)
	if g, _, _ := unpackState(p.state.Load()); g == seen && !w.quit.Load() {
		<-w.wake // whoever cleared parked sends exactly one token
	} else if w.parked.CompareAndSwap(true, false) {
		p.sleepers.Add(-1)
	} else {
		<-w.wake // a caller cleared parked just now and is sending
	}
	g, _, _ := unpackState(p.state.Load())
	return g
}

// ensureWorkers starts or stops workers so that, with the calling
// goroutine, Threads() goroutines share a job. Called with mu held.
func (p *pool) ensureWorkers() {
	want := Threads() - 1
	for len(p.workers) < want {
		w := &worker{wake: make(chan struct{}, 1)}
		p.workers = append(p.workers, w)
		seen, _, _ := unpackState(p.state.Load())
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
