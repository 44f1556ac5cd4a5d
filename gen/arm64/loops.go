package arm64

import (
	"math"
	"strings"
)

// List spells k consecutive registers from first as a Go register list,
// [V0.S4, V1.S4], the operand of VLD1 and VST1.
func List(first V, k int) string {
	regs := make([]string, k)
	for i := range regs {
		regs[i] = (first + V(i)).S4()
	}
	return "[" + strings.Join(regs, ", ") + "]"
}

// Zero clears vector registers.
func (f *File) Zero(vs ...V) {
	for _, v := range vs {
		f.Op("VEOR %s, %s, %s", v.B16(), v.B16(), v.B16())
	}
}

// Broadcast sets every lane of v to the float32 c, through the general
// register tmp.
func (f *File) Broadcast(v V, c float32, tmp string) {
	f.Op("MOVW $0x%08x, %s // %v", math.Float32bits(c), tmp, c)
	f.Op("VDUP %s, %s", tmp, v.S4())
}

// BroadcastInt sets every 32-bit lane of v to the integer c.
func (f *File) BroadcastInt(v V, c int32, tmp string) {
	f.Op("MOVW $%d, %s", c, tmp)
	f.Op("VDUP %s, %s", tmp, v.S4())
}

// Interleave emits several independent instruction sequences of equal
// length step by step, so that one sequence's latency hides behind the
// others'.
func (f *File) Interleave(seqs ...[]func()) {
	for step := range seqs[0] {
		for _, s := range seqs {
			s[step]()
		}
	}
}

// Stream is the loop shape of every kernel that walks n elements: blocks of
// wide vectors of four floats while they fill, then single vectors, then
// one element at a time, so no load or store ever passes the slices' ends.
type Stream struct {
	Prefix string // label prefix, unique within the routine
	Count  string // register holding the number of elements left; consumed
	Wide   int    // vectors per iteration of the first loop; 1 skips it
	// Body emits one iteration over vecs vectors (Wide or 1), or over one
	// element when vecs is 0. It advances its own pointers.
	Body func(vecs int)
	// BeforeTail, if set, runs once between the vector loops and the
	// element loop (to reduce vector accumulators, say).
	BeforeTail func()
}

// Emit writes the loops.
func (s Stream) Emit(f *File) {
	p, n := s.Prefix, s.Count
	if s.Wide > 1 {
		f.Label(p + "wide")
		f.Op("CMP $%d, %s", 4*s.Wide, n)
		f.Op("BLT %svec", p)
		s.Body(s.Wide)
		f.Op("SUB $%d, %s", 4*s.Wide, n)
		f.Op("B %swide", p)
	}
	f.Label(p + "vec")
	f.Op("CMP $4, %s", n)
	f.Op("BLT %sdone4", p)
	s.Body(1)
	f.Op("SUB $4, %s", n)
	f.Op("B %svec", p)
	f.Label(p + "done4")
	if s.BeforeTail != nil {
		s.BeforeTail()
	}
	f.Label(p + "tail")
	f.Op("CBZ %s, %sdone", n, p)
	s.Body(0)
	f.Op("SUB $1, %s", n)
	f.Op("B %stail", p)
	f.Label(p + "done")
}

// Sum4 adds the four lanes of v into its lane 0 (s register), clobbering v.
func (f *File) Sum4(v V) {
	f.Inst(FAddP(S4, v, v, v))
	f.Inst(FAddPS(v, v))
}
