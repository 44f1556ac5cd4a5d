package server

import (
	"fmt"
	"sync"
	"time"

	"github.com/goformer/goformer/runtime"
)

// scheduler is the one goroutine that drives the batch. Between forward
// passes it drops the jobs whose clients went away (their slots are free
// for the next pass), gives free slots to waiting jobs in arrival order,
// then runs a pass and hands each job its tokens. A job that reaches a stop
// string leaves its slot in the same turn.
type scheduler struct {
	batch   *runtime.Batch
	metrics *metrics
	slots   []*job // by slot; the scheduler goroutine's alone

	mu       sync.Mutex
	queue    []*job // waiting for a slot, oldest first
	running  int    // jobs in slots
	maxQueue int
	draining bool // submit refuses new jobs; the loop ends once all are done
	aborted  bool // every job ends now with errAborted
	wake     chan struct{}
	done     chan struct{} // closed when the loop has returned
}

func newScheduler(b *runtime.Batch, slots, maxQueue int, m *metrics) *scheduler {
	m.slots.Set(float64(slots))
	return &scheduler{batch: b, metrics: m, slots: make([]*job, slots), maxQueue: maxQueue,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// submit queues j for a slot: errQueueFull when every slot is taken and
// maxQueue jobs wait already, errDraining once the server shuts down.
func (s *scheduler) submit(j *job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.draining:
		return errDraining
	case len(s.queue) >= s.maxQueue+len(s.slots)-s.running:
		return errQueueFull
	}
	s.queue = append(s.queue, j)
	s.metrics.queueDepth.Set(float64(len(s.queue)))
	s.poke()
	return nil
}

func (s *scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// drain stops new jobs; the loop returns once those it has are done.
func (s *scheduler) drain() {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.poke()
}

// abort ends every job now, queued or running, with errAborted, and the
// loop with them.
func (s *scheduler) abort() {
	s.mu.Lock()
	s.draining, s.aborted = true, true
	s.mu.Unlock()
	s.poke()
}

// run is the scheduler's loop; it returns when draining and out of jobs.
func (s *scheduler) run() {
	defer close(s.done)
	for {
		if !s.admit() {
			return
		}
		s.dropCancelled()
		if s.active() == 0 {
			<-s.wake
			continue
		}
		events, err := s.batch.Step()
		if err != nil {
			s.failAll(fmt.Errorf("the forward pass: %w", err))
			continue
		}
		now := time.Now()
		for _, ev := range events {
			j := s.slots[ev.Seq]
			if j == nil {
				continue // left at a stop string earlier in this pass
			}
			if ev.Done {
				c, stopped := j.out.end()
				j.publish(c)
				finish, err := finishReason(ev.Err, j.out.tokens, j.req.MaxTokens)
				if stopped {
					finish, err = "stop", nil
				}
				s.free(ev.Seq, finish, err)
				continue
			}
			s.token(j, ev.Token, now)
			c, stopped := j.out.add(ev.Token)
			j.publish(c)
			if stopped {
				s.batch.Leave(ev.Seq)
				s.free(ev.Seq, "stop", nil)
			}
		}
	}
}

// admit gives free slots to queued jobs, oldest first, dropping those whose
// clients went away. It reports false when the loop should return.
func (s *scheduler) admit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.aborted {
		for i, j := range s.slots {
			if j != nil {
				s.batch.Leave(i)
				s.slots[i] = nil
				j.end("", errAborted)
			}
		}
		for _, j := range s.queue {
			j.end("", errAborted)
		}
		s.queue, s.running = nil, 0
	}
	kept := s.queue[:0]
	for _, j := range s.queue {
		if j.ctx.Err() != nil {
			j.end("", j.ctx.Err())
			continue
		}
		kept = append(kept, j)
	}
	clear(s.queue[len(kept):])
	s.queue = kept
	for len(s.queue) > 0 && s.batch.Free() > 0 {
		j := s.queue[0]
		s.queue = s.queue[1:]
		slot, err := s.batch.Join(j.req)
		if err != nil {
			j.end("", err)
			continue
		}
		s.slots[slot] = j
		s.running++
		s.metrics.promptTokens.Add(float64(len(j.req.Prompt)))
		j.mu.Lock()
		j.admitted = true
		j.mu.Unlock()
	}
	s.metrics.queueDepth.Set(float64(len(s.queue)))
	s.metrics.slotsActive.Set(float64(s.running))
	return !(s.draining && s.running == 0 && len(s.queue) == 0)
}

// dropCancelled frees the slots of jobs whose clients went away.
func (s *scheduler) dropCancelled() {
	for i, j := range s.slots {
		if j != nil && j.ctx.Err() != nil {
			s.batch.Leave(i)
			s.free(i, "", j.ctx.Err())
		}
	}
}

// free ends the job in slot i, whose sequence has left the batch: the slot
// counts as free before the job's handler hears of its end.
func (s *scheduler) free(i int, finish string, err error) {
	j := s.slots[i]
	s.slots[i] = nil
	s.mu.Lock()
	s.running--
	s.metrics.slotsActive.Set(float64(s.running))
	s.mu.Unlock()
	j.end(finish, err)
}

// failAll ends every running job with err.
func (s *scheduler) failAll(err error) {
	for i, j := range s.slots {
		if j != nil {
			s.batch.Leave(i)
			s.free(i, "", err)
		}
	}
}

func (s *scheduler) active() int {
	n := 0
	for _, j := range s.slots {
		if j != nil {
			n++
		}
	}
	return n
}

// token records the timing of a token of j.
func (s *scheduler) token(j *job, t runtime.Token, now time.Time) {
	j.mu.Lock()
	if j.firstAt.IsZero() {
		j.firstAt = now
		s.metrics.timeToFirstToken.Observe(now.Sub(j.arrived).Seconds())
	} else {
		s.metrics.interTokenTime.Observe(now.Sub(j.lastAt).Seconds())
	}
	j.lastAt = now
	j.mu.Unlock()
	s.metrics.generatedTokens.Inc()
}
