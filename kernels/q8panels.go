package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"
)

// Q8PanelRows is the number of rows of W a Q8Panels panel holds: the
// sixteen int32 lanes of a ZMM register, one output each.
const Q8PanelRows = 16

// Q8Panels is an int8 weight matrix W [Rows×Cols] in blocks of 32 (the
// values wq and scales ws of Q8MatVec, as quant.Matrix holds them) packed
// once, at load, into the order the AVX-512 VNNI kernels read: W's rows in
// panels of 16, each panel block by block, a block 576 bytes: four bytes of
// each row in turn, eight times, then the sixteen rows' scales,
//
//	nb := Cols / 32
//	blk := Data[(p*nb+b)*576:]
//	blk[q*64+r*4+t] = uint8(wq[(16p+r)*Cols+32b+4q+t]) ^ 0x80   // q < 8, t < 4
//	blk[512+4r:] = ws[(16p+r)*nb+b] as little-endian float32
//	                                              // both 0 for 16p+r ≥ Rows
//
// so that one 64-byte load is a VPDPBUSD operand with a row in each lane,
// the byte w+128 being the unsigned operand VPDPBUSD wants (exact for every
// int8 w), and a panel is one stream through memory (a decode step reads W
// from DRAM, where every extra stream costs bandwidth). A product's
// outputs are its lanes: no horizontal sums, and each output is one chain
// over its blocks in order,
//
//	s = fma32(ws[j,b]·xs[b], float32(dot_jb), s)   for b = 0, 1, … nb-1
//
// from s = 0, dot_jb the exact integer dot of block b (the block chain of
// q8packed.go). The GEMV and every row of the GEMM compute exactly that,
// so a prefill's rows are a decode step's bit for bit, on every tier and
// for any split across threads.
type Q8Panels struct {
	Rows, Cols int
	Data       []byte
}

// q8PanelBlock is the bytes of one block of a panel: 16 rows × 32 values
// and 16 float32 scales.
const q8PanelBlock = Q8PanelRows*Q8Block + 4*Q8PanelRows

// Q8PanelBytes is the length of Data for a rows×cols matrix.
func Q8PanelBytes(rows, cols int) int { return q8PanelsOf(rows) * (cols / Q8Block) * q8PanelBlock }

// q8PanelsOf is the number of panels that hold n rows.
func q8PanelsOf(n int) int { return (n + Q8PanelRows - 1) / Q8PanelRows }

// PackQ8Panels packs the int8 matrix (wq, ws) of rows×cols values into
// data (length Q8PanelBytes; nil: a new allocation). cols is a multiple of
// Q8Block.
func PackQ8Panels(data []byte, wq []int8, ws []float32, rows, cols int) *Q8Panels {
	if rows < 0 || cols < 0 || cols%Q8Block != 0 {
		panic(fmt.Sprintf("kernels.PackQ8Panels: shape %d×%d (columns must be a multiple of %d)", rows, cols, Q8Block))
	}
	nb := cols / Q8Block
	need("PackQ8Panels", "wq", len(wq), rows*cols)
	need("PackQ8Panels", "ws", len(ws), rows*nb)
	n := Q8PanelBytes(rows, cols)
	if data == nil {
		data = make([]byte, n)
	}
	if len(data) != n {
		panic(fmt.Sprintf("kernels.PackQ8Panels: %d bytes for %d", len(data), n))
	}
	// Four bytes at a time, their sign bits flipped together: 0.30-0.37 ns
	// a value (BenchmarkPackQ8Panels, Zen 4) against 1.8-1.9 byte by byte,
	// which at that rate is ~0.12 s for Qwen2.5-0.5B's 358 M int8 values.
	wb := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(wq))), len(wq))
	le := binary.LittleEndian
	for p := range q8PanelsOf(rows) {
		for r := range Q8PanelRows {
			j := p*Q8PanelRows + r
			for b := range nb {
				blk := data[(p*nb+b)*q8PanelBlock:][:q8PanelBlock]
				if j >= rows {
					for q := range 8 {
						le.PutUint32(blk[q*64+r*4:], 0)
					}
					le.PutUint32(blk[512+4*r:], 0)
					continue
				}
				row := wb[j*cols+b*Q8Block:][:Q8Block]
				for q := range 8 {
					le.PutUint32(blk[q*64+r*4:], le.Uint32(row[4*q:])^0x80808080)
				}
				le.PutUint32(blk[512+4*r:], math.Float32bits(ws[j*nb+b]))
			}
		}
	}
	return &Q8Panels{Rows: rows, Cols: cols, Data: data}
}

// q8PanelScale is the scale of row r in a panel's block blk.
func q8PanelScale(blk []byte, r int) float32 {
	return math.Float32frombits(binary.LittleEndian.Uint32(blk[512+4*r:]))
}

// Bytes is the memory Data takes: what a product reads.
func (p *Q8Panels) Bytes() int { return len(p.Data) }

// Row writes row i of W, dequantized, into dst[:Cols]: the values
// Q8Dequantize gives for the row before packing.
func (p *Q8Panels) Row(i int, dst []float32) {
	if i < 0 || i >= p.Rows {
		panic(fmt.Sprintf("kernels.Q8Panels.Row: row %d of %d", i, p.Rows))
	}
	need("Q8Panels.Row", "dst", len(dst), p.Cols)
	nb := p.Cols / Q8Block
	pn, r := i/Q8PanelRows, i%Q8PanelRows
	for b := range nb {
		blk := p.Data[(pn*nb+b)*q8PanelBlock:][:q8PanelBlock]
		d := q8PanelScale(blk, r)
		for c := range Q8Block {
			dst[b*Q8Block+c] = d * float32(int8(blk[(c/4)*64+r*4+c%4]^0x80))
		}
	}
}

// Q8PanelBuffer holds the activations of Q8Panels products laid out for
// their kernels, so that a product allocates nothing once the buffer has
// grown to its size. It is not safe for concurrent use.
type Q8PanelBuffer struct {
	q []int8
	s []float32
	c []int32
}

// q8PanelGroup is the number of rows of A a GEMM tile multiplies at once.
const q8PanelGroup = 4

// pack lays the m rows of A [m×k] (values aq, scales as, Q8Quantize's) out
// for the tiles, in groups of four rows (the last group has m mod 4 when
// that is not 0): group g starts at 4g·k values and 4g·nb scales, and holds
// block by block the g's rows' 32 values, scales and offsets,
//
//	q[4g·k+(b·R+r)·32+t] = aq[(4g+r)·k+32b+t]
//	s[4g·nb+b·R+r] = as[(4g+r)·nb+b]
//	c[4g·nb+b·R+r] = -128·Σ_t aq[(4g+r)·k+32b+t]
//
// (R the group's rows), the offset undoing the +128 of W's bytes. One row
// (m = 1) needs only the offsets: aq and as are already in that order.
func (buf *Q8PanelBuffer) pack(aq []int8, as []float32, m, k int) (q []int8, s []float32, c []int32) {
	nb := k / Q8Block
	buf.c = grow(buf.c, m*nb)
	if m == 1 {
		q8Offsets(buf.c, aq[:k])
		return aq[:k], as[:nb], buf.c
	}
	buf.q, buf.s = grow(buf.q, m*k), grow(buf.s, m*nb)
	for g := 0; g < m; g += q8PanelGroup {
		rows := min(q8PanelGroup, m-g)
		for r := range rows {
			row := aq[(g+r)*k:][:k]
			for b := range nb {
				copy(buf.q[g*k+(b*rows+r)*Q8Block:][:Q8Block], row[b*Q8Block:][:Q8Block])
				buf.s[g*nb+b*rows+r] = as[(g+r)*nb+b]
			}
		}
		q8Offsets(buf.c[g*nb:(g+rows)*nb], buf.q[g*k:(g+rows)*k])
	}
	return buf.q[:m*k], buf.s[:m*nb], buf.c[:m*nb]
}

// q8Offsets sets c[i] = -128·Σ xq[32i:32i+32] for each block of xq.
func q8Offsets(c []int32, xq []int8) {
	for i := range c {
		var s int32
		for _, v := range xq[i*Q8Block : (i+1)*Q8Block] {
			s += int32(v)
		}
		c[i] = -128 * s
	}
}

// q8PanelTile is a tier's Q8Panels GEMM tile: the rows (1…4) rows of one
// packed group of A (pa, ps, pc: Q8PanelBuffer.pack's layout) against
// panels whole panels of W (w from the first's Data), storing C's rows ldc
// floats apart, only the columns of each panel that mask selects (bit r:
// row r of the panel). q8PanelTileGeneric is its meaning.
type q8PanelTile func(c []float32, ldc int, pa []int8, ps []float32, pc []int32, w []byte, k, panels, mask int)

// q8PanelTileGeneric is the definition of every tier's Q8Panels tile.
func q8PanelTileGeneric(rows int) q8PanelTile {
	return func(c []float32, ldc int, pa []int8, ps []float32, pc []int32, w []byte, k, panels, mask int) {
		nb := k / Q8Block
		for p := range panels {
			for r := range Q8PanelRows {
				if mask&(1<<r) == 0 {
					continue
				}
				for i := range rows {
					var s float32
					for b := range nb {
						dot := pc[b*rows+i]
						blk := w[(p*nb+b)*q8PanelBlock:][:q8PanelBlock]
						for t, a := range pa[(b*rows+i)*Q8Block:][:Q8Block] {
							dot += int32(blk[(t/4)*64+r*4+t%4]) * int32(a)
						}
						s = fma32(q8PanelScale(blk, r)*ps[b*rows+i], float32(dot), s)
					}
					c[i*ldc+p*Q8PanelRows+r] = s
				}
			}
		}
	}
}

var q8PanelTilesGeneric = [q8PanelGroup + 1]q8PanelTile{
	nil, q8PanelTileGeneric(1), q8PanelTileGeneric(2), q8PanelTileGeneric(3), q8PanelTileGeneric(4),
}

// PrefersQ8Panels says whether the active tier multiplies Q8Panels with
// kernels of its own, faster than the plain layout's; elsewhere a product
// runs the generic twin (same bits, much slower), so a loader should keep
// the plain layout.
func PrefersQ8Panels() bool { return q8PanelTiles(active) != &q8PanelTilesGeneric }

// q8PanelTiles are tier t's tiles, or the generic ones.
func q8PanelTiles(t *impl) *[q8PanelGroup + 1]q8PanelTile {
	if t.q8PanelTiles[q8PanelGroup] != nil {
		return &t.q8PanelTiles
	}
	return &q8PanelTilesGeneric
}

// MatVec computes y[:Rows] = W·x for int8 activations x (values xq,
// scales xs, from Q8Quantize), each output the block chain of Q8Panels.
// buf holds the activations' offsets. Split by panels across Threads()
// goroutines when large, with the same result.
func (p *Q8Panels) MatVec(y []float32, xq []int8, xs []float32, buf *Q8PanelBuffer) {
	p.MatMul(y, xq, xs, nil, 1, buf)
}

// MatMul computes C = A·Wᵀ + bias for int8 activations A [m×Cols] (values
// aq, scales as: each row from Q8Quantize) and C [m×Rows]: row i of C is
// MatVec of row i of A (plus the bias) bit for bit. bias may be nil. aq
// may hold any int8 (the offset keeps VPDPBUSD exact for -128 too). c
// must not overlap the others.
func (p *Q8Panels) MatMul(c []float32, aq []int8, as []float32, bias []float32, m int, buf *Q8PanelBuffer) {
	n, k := p.Rows, p.Cols
	nb := k / Q8Block
	if m < 0 {
		panic(fmt.Sprintf("kernels.Q8Panels.MatMul: negative row count %d", m))
	}
	need("Q8Panels.MatMul", "aq", len(aq), m*k)
	need("Q8Panels.MatMul", "as", len(as), m*nb)
	need("Q8Panels.MatMul", "Data", len(p.Data), Q8PanelBytes(n, k))
	c, bias, done := startProduct("Q8Panels.MatMul", c, bias, m, k, n)
	if done {
		return
	}
	pa, ps, pc := buf.pack(aq, as, m, k)
	j := q8PanelsJob{t: active, c: c, pa: pa, ps: ps, pc: pc, p: p, bias: bias, m: m}
	if m*k*n >= minParallelMACs && n >= 2*Q8PanelRows && workPool.acquire() {
		wj := &workPool.jobs.q8Panels
		*wj = j
		workPool.run(wj, n, Q8PanelRows, chunksPerThread*Threads())
		workPool.release()
		return
	}
	j.run(0, n)
}

// q8PanelsJob is columns [lo, hi) of a Q8Panels product.
type q8PanelsJob struct {
	t     *impl
	c, ps []float32
	bias  []float32
	pa    []int8
	pc    []int32
	p     *Q8Panels
	m     int
}

// q8PanelChunkBytes bounds the panels of W one pass over the groups of A
// multiplies: they stay in L2 while every group streams past them, and
// each group's rows stay in L1 across the panels.
const q8PanelChunkBytes = 256 << 10

// run computes columns [lo, hi) of C, lo a multiple of 16: chunks of
// panels, each multiplied by every group of A, the chunk's last partial
// panel (only at n) under a mask.
func (j *q8PanelsJob) run(lo, hi int) {
	p, m := j.p, j.m
	n, k := p.Rows, p.Cols
	nb := k / Q8Block
	tiles := q8PanelTiles(j.t)
	panel := nb * q8PanelBlock
	chunk := max(3, q8PanelChunkBytes/panel/3*3)
	if m == 1 {
		// One row reads each panel once: no chunks, so that the
		// one-row tile takes all its panels five at a time.
		chunk = q8PanelsOf(hi - lo)
	}
	for p0 := lo / Q8PanelRows; p0*Q8PanelRows < hi; p0 += chunk {
		p1 := min(p0+chunk, q8PanelsOf(hi))
		whole := p1
		if p1*Q8PanelRows > hi {
			whole = p1 - 1
		}
		for g := 0; g < m; g += q8PanelGroup {
			rows := min(q8PanelGroup, m-g)
			tile := tiles[rows]
			pa, ps, pc := j.pa[g*k:], j.ps[g*nb:], j.pc[g*nb:]
			if whole > p0 {
				tile(j.c[g*n+p0*Q8PanelRows:], n, pa, ps, pc, p.Data[p0*panel:], k, whole-p0, 0xffff)
			}
			if whole < p1 {
				mask := 1<<(hi-whole*Q8PanelRows) - 1
				tile(j.c[g*n+whole*Q8PanelRows:], n, pa, ps, pc, p.Data[whole*panel:], k, 1, mask)
			}
		}
	}
	addBiasColumns(j.t, j.c, j.bias, m, n, lo, hi)
}
