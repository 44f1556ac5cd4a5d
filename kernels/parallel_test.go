package kernels

import (
	"bufio"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withThreads runs f with SetThreads(n), then restores the previous value.
func withThreads(n int, f func()) {
	saved := threads.Load()
	defer threads.Store(saved)
	SetThreads(n)
	f()
}

// parallelCases are products large enough to be split, with ragged sizes.
var parallelCases = []q8MMShape{{1, 768, 2304}, {1, 3072, 771}, {1, 256, 1027}, {17, 768, 771}, {64, 256, 2304}, {5, 3072, 133}, {16, 256, 1027}}

// TestParallelMatchesOneThread checks that every split kernel returns,
// bit for bit, what it returns on one thread: the splits fall where the
// per-element arithmetic does not change. A split that never happened would
// pass too, so each thread count runs until the workers have run pieces
// (WorkerPieces): no deadline, a pool whose workers never join hangs until
// go test's -timeout.
func TestParallelMatchesOneThread(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		for i, s := range parallelCases {
			a := testkit.RandF32(uint64(10*i+1), s.m*s.k, 1)
			w := testkit.RandF32(uint64(10*i+2), s.n*s.k, 1)
			bias := testkit.RandF32(uint64(10*i+3), s.n, 1)
			aq, as, wq, ws, _ := q8MatMulInputs(i, s)
			run := func(n int) (mm, q8v, q8m []float32) {
				mm, q8v, q8m = make([]float32, s.m*s.n), make([]float32, s.n), make([]float32, s.m*s.n)
				withThreads(n, func() {
					MatMul(mm, a, w, bias, s.m, s.k, s.n)
					Q8MatVec(q8v, wq, ws, aq, as, s.k, s.n)
					Q8MatMul(q8m, aq, as, wq, ws, bias, s.m, s.k, s.n)
				})
				return mm, q8v, q8m
			}
			mm1, q8v1, q8m1 := run(1)
			require.Less(t, testkit.RelL2(mm1, matMul64(a, w, bias, s.m, s.k, s.n)), matMulTol)
			for _, n := range []int{2, 3, 7} {
				// Until a worker has run pieces of them (usually the first
				// time), so that the products were really split.
				for before := WorkerPieces(); ; {
					mm, q8v, q8m := run(n)
					require.Equal(t, mm1, mm, "MatMul %d×%d×%d, %d threads", s.m, s.k, s.n, n)
					require.Equal(t, q8v1, q8v, "Q8MatVec %d×%d, %d threads", s.k, s.n, n)
					require.Equal(t, q8m1, q8m, "Q8MatMul %d×%d×%d, %d threads", s.m, s.k, s.n, n)
					if WorkerPieces() > before {
						break
					}
				}
			}
		}
	})
}

// TestParallelConcurrentCallers runs kernels from several goroutines at
// once, as several sessions do; with -race it checks the pool's hand-over.
// Callers that find the pool busy compute on their own goroutine, so every
// result must still be exact.
func TestParallelConcurrentCallers(t *testing.T) {
	s := q8MMShape{1, 768, 1024}
	a := testkit.RandF32(1, s.k, 1)
	w := testkit.RandF32(2, s.n*s.k, 1)
	want := make([]float32, s.n)
	withThreads(1, func() { MatMul(want, a, w, nil, 1, s.k, s.n) })
	withThreads(3, func() {
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				y := make([]float32, s.n)
				sums := make([]int, 16)
				for range 30 {
					MatMul(y, a, w, nil, 1, s.k, s.n)
					assert.Equal(t, want, y, "goroutine %d", g)
					clear(sums)
					Parallel(len(sums), func(lo, hi int) {
						for i := lo; i < hi; i++ {
							sums[i] += i
						}
					})
					for i, v := range sums {
						assert.Equal(t, i, v, "goroutine %d: Parallel covered element %d %d times", g, i, v)
					}
				}
			}()
		}
		wg.Wait()
	})
}

func TestParallelCoversRange(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 7} {
		withThreads(threads, func() {
			for _, n := range []int{0, 1, 2, 3, 5, 12, 100, 1001} {
				var mu sync.Mutex
				hits := make([]int, n)
				Parallel(n, func(lo, hi int) {
					require.Less(t, lo, hi)
					mu.Lock()
					defer mu.Unlock()
					for i := lo; i < hi; i++ {
						hits[i]++
					}
				})
				for i, h := range hits {
					require.Equal(t, 1, h, "threads=%d n=%d: element %d run %d times", threads, n, i, h)
				}
			}
		})
	}
}

// summer is a Parallel body bound once, the way the runtime splits
// attention: the method value is made at set-up, not per call.
type summer struct {
	x    []float32
	body func(lo, hi int)
}

func (s *summer) scale(lo, hi int) {
	for i := lo; i < hi; i++ {
		s.x[i] *= 0.5
	}
}

// TestParallelNoAllocs: dispatching split kernels allocates nothing, so a
// decode step stays allocation-free with threads.
func TestParallelNoAllocs(t *testing.T) {
	s := q8MMShape{1, 768, 2304}
	a, w := testkit.RandF32(1, s.k, 1), testkit.RandF32(2, s.n*s.k, 1)
	y := make([]float32, s.n)
	aq, as, wq, ws, _ := q8MatMulInputs(1, s)
	sm := &summer{x: testkit.RandF32(3, 64, 1)}
	sm.body = sm.scale
	withThreads(2, func() {
		MatMul(y, a, w, nil, 1, s.k, s.n) // start the workers
		assert.Zero(t, testing.AllocsPerRun(50, func() { MatMul(y, a, w, nil, 1, s.k, s.n) }), "MatMul (GEMV)")
		assert.Zero(t, testing.AllocsPerRun(50, func() { Q8MatVec(y, wq, ws, aq, as, s.k, s.n) }), "Q8MatVec")
		assert.Zero(t, testing.AllocsPerRun(50, func() { Parallel(12, sm.body) }), "Parallel")
	})
}

func TestThreads(t *testing.T) {
	assert.GreaterOrEqual(t, DefaultThreads(), 1)
	withThreads(3, func() { assert.Equal(t, 3, Threads()) })
	withThreads(0, func() { assert.Equal(t, DefaultThreads(), Threads()) })
	withThreads(-2, func() { assert.Equal(t, DefaultThreads(), Threads()) })
}

func TestCountCores(t *testing.T) {
	// Two sockets of two cores with two hyper-threads each, then a CPU
	// whose entries have no core id (counted as unknown).
	var b strings.Builder
	for cpu := range 8 {
		fmt.Fprintf(&b, "processor\t: %d\nphysical id\t: %d\ncore id\t\t: %d\nflags\t\t: fpu\n\n", cpu, cpu/4, cpu%2)
	}
	assert.Equal(t, 4, countCores(bufio.NewScanner(strings.NewReader(b.String()))))
	assert.Equal(t, 0, countCores(bufio.NewScanner(strings.NewReader("processor\t: 0\nmodel name\t: X\n\n"))))
}

// TestParallelUsesWorkers: with n threads every one of the n−1 workers
// runs pieces of a job, on the very first job after the workers start too.
// Each piece waits until the pool has counted a piece run by each worker
// (the counts WorkerPieces sums), which only happens if they take part.
// There is no deadline that a loaded machine could miss: a pool whose
// workers never join hangs here until go test's -timeout, whose panic
// names this test.
func TestParallelUsesWorkers(t *testing.T) {
	ran := func(n int) []uint64 {
		c := make([]uint64, n)
		for id := 1; id < n; id++ {
			c[id] = workPool.runs[id].ran.Load()
		}
		return c
	}
	for _, n := range []int{2, 3, 2} { // 3 starts a new worker, 2 stops it
		withThreads(n, func() {
			for range 3 {
				before, total := ran(n), WorkerPieces()
				allRan := func() bool {
					now := ran(n)
					for id := 1; id < n; id++ {
						if now[id] == before[id] {
							return false
						}
					}
					return true
				}
				Parallel(4*n, func(lo, hi int) {
					for !allRan() {
						runtime.Gosched()
					}
				})
				after := ran(n)
				for id := 1; id < n; id++ {
					assert.Greater(t, after[id], before[id], "threads=%d: worker %d ran no piece", n, id)
				}
				assert.GreaterOrEqual(t, WorkerPieces()-total, uint64(n-1), "threads=%d", n)
			}
		})
	}
}
