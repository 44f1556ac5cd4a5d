package kernels

import (
	"encoding/binary"
	"math"
	"sync"
	"unsafe"
)

// chainTile is a tier's GEMM tile for Q4_0 and Q5_0 whose GEMV sums every
// output as one float32 chain over its blocks (gen/amd64/kquant/chain.go):
// eight rows of A (fn) or sixteen (fn16, two packed groups one after the
// other, each block of W unpacked once for both), rearranged by
// packChainPanels, against n rows of W, storing C's rows ldc floats
// apart; each row equals the tier's blockMatVec of that row of A bit for
// bit. off is the codes' offset the kernels take out through the block
// sums: 8 (Q4_0) or 16 (Q5_0).
type chainTile struct {
	fn, fn16 func(c []float32, ldc int, w []byte, panel []byte, k, n int)
	off      int32
}

const (
	// chainRows is the rows of A a chain tile multiplies.
	chainRows = 8
	// chainPanelBlock is the bytes of one block of 32 values of eight
	// rows: eight 32-byte registers of values, eight float32 scales, eight
	// int32 offset sums.
	chainPanelBlock = 320
)

// chainPanels holds the packed rows of A between calls (*[]byte).
var chainPanels sync.Pool

// packChainPanels writes groups of eight rows of A (k values each, in
// blocks of 32 with their scales as and sums asum) into p in the order
// the chain tiles read them, block after block of each group:
//
//	// block b of rows 8g..8g+7 at p[(g·k/32+b)·320:]
//	for r := 0; r < 8; r++ {
//		for d := 0; d < 8; d++ { // dword d: values 4d..4d+3
//			h, i := d/4, d%4
//			reg := i·64 + 32·((r/4) ^ h) + 16·h + 4·(r%4)
//			p[reg:reg+4] = aq[row r, block b, values 4d..4d+3]
//		}
//		p[256+4r:] = as[row r, block b] // float32
//		p[288+4r:] = off·asum[row r, block b] // int32
//	}
//
// Register i (values 4i.. and 16+4i.. of each row) pairs with a weight
// block's dword i broadcast in each 128-bit half: its first 32 bytes give
// rows 0-3 the low half and rows 4-7 the high one, the next 32 the other
// way round, so the two products summed with one half swap hold the eight
// rows' whole blocks in order.
func packChainPanels(p []byte, aq []int8, as []float32, asum []int16, off int32, groups, k int) {
	nb := k / 32
	src := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(aq))), len(aq))
	le := binary.LittleEndian
	for g := range groups {
		for b := range nb {
			dst := p[(g*nb+b)*chainPanelBlock : (g*nb+b+1)*chainPanelBlock]
			for r := range chainRows {
				row := g*chainRows + r
				vals := src[row*k+32*b : row*k+32*b+32]
				for d := range 8 {
					h, i := d/4, d%4
					reg := 64*i + 32*((r/4)^h) + 16*h + 4*(r%4)
					copy(dst[reg:reg+4], vals[4*d:4*d+4])
				}
				le.PutUint32(dst[256+4*r:], math.Float32bits(as[row*nb+b]))
				le.PutUint32(dst[288+4*r:], uint32(off*int32(asum[row*nb+b])))
			}
		}
	}
}

// packedChainPanels packs the whole groups of eight rows of A for the
// chain tile ct into a buffer from chainPanels, which the caller puts
// back when the tiles are done.
func packedChainPanels(ct *chainTile, aq []int8, as []float32, asum []int16, m, k int) *[]byte {
	groups := m / chainRows
	need := groups * (k / 32) * chainPanelBlock
	buf, _ := chainPanels.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	*buf = grow(*buf, need)
	packChainPanels(*buf, aq, as, asum, ct.off, groups, k)
	return buf
}
