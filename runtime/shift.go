package runtime

import "time"

// shiftContext makes room in a full session with absolute positions: it
// keeps the first Keep tokens and the most recent half of the others, and
// runs them again from an empty cache at positions 0, 1, ..., so that each
// is encoded at its new position. The tokens in between are forgotten. It
// costs one prefill of the kept tokens; the caller sees no break in the
// stream.
func (s *Session) shiftContext() {
	start := time.Now()
	n, keep := s.pos, s.cache.keep
	discard := (n - keep) / 2
	kept := s.kept[:0]
	for p := 0; p < n; p++ {
		if p < keep || p >= keep+discard {
			kept = append(kept, s.ids[s.cache.index(p)])
		}
	}
	s.pos = 0
	for len(kept) > 0 {
		chunk := kept[:min(len(kept), s.batch)]
		s.forward(chunk)
		kept = kept[len(chunk):]
	}
	s.stats.ContextShifts++
	s.stats.ShiftDuration += time.Since(start)
}
