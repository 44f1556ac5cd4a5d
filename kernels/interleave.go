package kernels

import (
	"fmt"
	"sync"
)

// The interleaved layout of Q4_0x8 and Q5_0x8. A GEMV that keeps eight
// rows in its lanes reads, for each block of 32 values, the eight rows'
// scales, fifth bits and nibbles; in GGUF's row-major layout those are
// eight blocks a row apart, gathered with nine instructions for the scales
// alone. Interleaved, the rows of each group of eight are stored block by
// block, each field of the eight blocks side by side:
//
//	group g (rows 8g..8g+7), block b, at (g·(k/32) + b)·8·BlockBytes:
//	  d:  rows 0..7, 2 bytes each                              (16 bytes)
//	  qh: rows 0,4,1,5,2,6,3,7, 4 bytes each (Q5_0x8 only)     (32 bytes)
//	  qs: rows 0,4,1,5,2,6,3,7, 16 bytes each                  (128 bytes)
//
// Rows i and i+4 sit side by side because the GEMV unpacks them into the
// two halves of one register (one load instead of a load and an insert).
// A group starts where its first row starts in GGUF's layout (8 rows are
// 8·RowBytes either way), so any range of rows that begins at a multiple
// of 8 is the same layout; rows past the last whole group stay as GGUF
// stores them.

// PrefersInterleaved reports whether the active tier multiplies t's
// interleaved form (t.Interleaved()) faster than t, so a loader should
// convert matrices of t with InterleaveRows.
func PrefersInterleaved(t WeightType) bool {
	it := t.Interleaved()
	return it != t && active.types[it].interleaved
}

// Interleaved is t's interleaved form (Q4_0x8 for Q4_0), or t itself for a
// type without one.
func (t WeightType) Interleaved() WeightType {
	switch t {
	case Q4_0:
		return Q4_0x8
	case Q5_0:
		return Q5_0x8
	}
	return t
}

// slotOf is where row r of a group of eight sits among the group's qh
// and qs fields: rows 0,4,1,5,2,6,3,7 are slots 0..7 (as the generator's
// tile has it too).
func slotOf(r int) int { return 2*(r%4) + r/4 }

// fieldsOf are the byte ranges of a plain block's fifth bits (empty for
// Q4_0) and nibbles; its scale is bytes 0-1. gen/amd64/kquant/chain.go's
// x8 offsets follow the same layout.
func fieldsOf(t WeightType) (qh, qs [2]int) {
	if t.Plain() == Q5_0 {
		return [2]int{2, 6}, [2]int{6, 22}
	}
	return [2]int{2, 2}, [2]int{2, 18}
}

// InterleaveRows writes w, n rows of k values of type t (Q4_0 or Q5_0, in
// GGUF's layout), into dst in t.Interleaved()'s layout (see above). dst
// and w hold n·t.RowBytes(k) bytes and do not overlap.
func InterleaveRows(t WeightType, dst, w []byte, k, n int) {
	if t.Interleaved() == t || t.Plain() != t {
		panic(fmt.Sprintf("kernels.InterleaveRows: %s has no interleaved form", t))
	}
	interleave(t, dst, w, k, n, true)
}

// interleave moves blocks between the layouts: GGUF's to interleaved when
// in, back when not. w and dst are n·RowBytes(k) bytes.
func interleave(t WeightType, dst, w []byte, k, n int, in bool) {
	name := "InterleaveRows"
	if !in {
		name = "DeinterleaveRows"
	}
	if k < 0 || n < 0 || k%t.BlockLen() != 0 {
		panic(fmt.Sprintf("kernels.%s: %s shape %d×%d: k must be a multiple of %d", name, t, n, k, t.BlockLen()))
	}
	rb, bb, nb := t.RowBytes(k), t.BlockBytes(), k/t.BlockLen()
	need(name, "dst", len(dst), n*rb)
	need(name, "w", len(w), n*rb)
	groups := n / 8
	for g := range groups {
		for b := range nb {
			group := (g*nb + b) * 8 * bb
			for r := range 8 {
				at := (8*g+r)*rb + b*bb
				if in {
					moveBlock(t, dst[group:group+8*bb], w[at:at+bb], r, true)
				} else {
					moveBlock(t, w[group:group+8*bb], dst[at:at+bb], r, false)
				}
			}
		}
	}
	tail := groups * 8 * rb
	copy(dst[tail:n*rb], w[tail:n*rb])
}

// moveBlock copies row r's plain block into its slots of an interleaved
// block group (in), or back out of them.
func moveBlock(t WeightType, group, plain []byte, r int, in bool) {
	qh, qs := fieldsOf(t)
	hw, sw := qh[1]-qh[0], qs[1]-qs[0]
	s := slotOf(r)
	for _, p := range [][2][]byte{
		{group[2*r : 2*r+2], plain[0:2]},
		{group[16+s*hw : 16+(s+1)*hw], plain[qh[0]:qh[1]]},
		{group[16+8*hw+s*sw : 16+8*hw+(s+1)*sw], plain[qs[0]:qs[1]]},
	} {
		if in {
			copy(p[0], p[1])
		} else {
			copy(p[1], p[0])
		}
	}
}

// PlainRow writes row i of w (n rows of k values of interleaved type t)
// into dst in the plain layout: t.Plain().RowBytes(k) bytes, the blocks an
// embedding lookup dequantizes.
func PlainRow(t WeightType, dst, w []byte, k, n, i int) {
	if t.Plain() == t {
		panic(fmt.Sprintf("kernels.PlainRow: %s is not interleaved", t))
	}
	rb, bb, nb := t.RowBytes(k), t.BlockBytes(), k/t.BlockLen()
	need("PlainRow", "dst", len(dst), rb)
	need("PlainRow", "w", len(w), n*rb)
	if i < 0 || i >= n {
		panic(fmt.Sprintf("kernels.PlainRow: row %d of %d", i, n))
	}
	if i >= n/8*8 {
		copy(dst[:rb], w[i*rb:(i+1)*rb])
		return
	}
	g := i / 8
	for b := range nb {
		group := (g*nb + b) * 8 * bb
		moveBlock(t, w[group:group+8*bb], dst[b*bb:(b+1)*bb], i%8, false)
	}
}

// DeinterleaveRows is InterleaveRows's inverse: dst receives w's n rows
// (of interleaved type t) in the layout of t.Plain().
func DeinterleaveRows(t WeightType, dst, w []byte, k, n int) {
	if t.Plain() == t {
		panic(fmt.Sprintf("kernels.DeinterleaveRows: %s is not interleaved", t))
	}
	interleave(t, dst, w, k, n, false)
}

// plainRows holds the generic twin's plain copies of interleaved rows.
var plainRows sync.Pool // *[]byte

// plainPanel is a buffer of at least size bytes from plainRows, which the
// caller puts back.
func plainPanel(size int) *[]byte {
	buf, _ := plainRows.Get().(*[]byte)
	if buf == nil || len(*buf) < size {
		b := make([]byte, size)
		buf = &b
	}
	return buf
}

// interleavedGeneric is the generic GEMV of an interleaved type: its rows
// back in the plain layout, then the plain type's twin, whose outputs it
// gives bit for bit. It serves tiers without the layout's own kernel
// (and tests); a loader interleaves only where PrefersInterleaved.
func interleavedGeneric(t WeightType, plain func(y []float32, w []byte, xq []int8, xs []float32, xsum []int16, k, n int)) func(y []float32, w []byte, xq []int8, xs []float32, xsum []int16, k, n int) {
	return func(y []float32, w []byte, xq []int8, xs []float32, xsum []int16, k, n int) {
		size := n * t.RowBytes(k)
		buf := plainPanel(size)
		DeinterleaveRows(t, (*buf)[:size], w[:size], k, n)
		plain(y, (*buf)[:size], xq, xs, xsum, k, n)
		plainRows.Put(buf)
	}
}
