//go:build amd64 && !purego

package kernels

import (
	"encoding/binary"

	"github.com/goformer/goformer/asm"
	"golang.org/x/sys/cpu"
)

// hasAMX: the amx tier needs the avx512 tier (with VNNI, for its other int8
// kernels), AMX-TILE and AMX-INT8, and the kernel's permission to use the
// tile data (amxPermitted). A CPU that has AMX under a kernel that refuses
// it (before Linux 5.16) runs the avx512 tier.
var hasAMX = hasAVX512 && hasVNNI && cpu.X86.HasAMXTile && cpu.X86.HasAMXInt8 && amxPermitted()

// useQ8AMX puts the AMX int8 GEMV and GEMM into an avx512 tier: both
// compute the block chain of q8packed.go.
func useQ8AMX(t *impl) {
	q := &t.types[Q8_0]
	q.matVec = q8MatVecAMX
	q.tile = q8Tile{}
	q.packedTile = q8TileAMX
	// Its GEMM multiplies the plain layout on AMX tiles: a loader keeps
	// that layout rather than packing Q8Panels (not yet measured against
	// them on an AMX machine).
	t.q8PanelTiles = [q8PanelGroup + 1]q8PanelTile{}
}

// amxConfig is a tile configuration (palette 1) for tiles 0, 1, … given as
// {rows, bytes per row}.
func amxConfig(tiles ...[2]int) (cfg [64]byte) {
	cfg[0] = 1
	for t, s := range tiles {
		cfg[48+t] = byte(s[0])
		binary.LittleEndian.PutUint16(cfg[16+2*t:], uint16(s[1]))
	}
	return cfg
}

// q8MatVecAMX runs asm.Q8MatVecAMX over whole groups of 16 rows of W, then
// the rows left over as one smaller group.
func q8MatVecAMX(y []float32, wq []int8, ws []float32, xq []int8, xs []float32, k, n int) {
	nb := k / Q8Block
	var idx [16]int32
	for r := range idx {
		idx[r] = int32(r * nb)
	}
	full := n / q8PackRows
	if full > 0 {
		cfg := amxConfig([2]int{16, 4}, [2]int{16, 4}, [2]int{16, 32}, [2]int{16, 32}, [2]int{8, 4}, [2]int{8, 4})
		asm.Q8MatVecAMX(y, wq, ws, xq, xs, k, q8PackRows, full, &cfg, &idx)
	}
	if rem := n % q8PackRows; rem > 0 {
		j := full * q8PackRows
		cfg := amxConfig([2]int{rem, 4}, [2]int{rem, 4}, [2]int{rem, 32}, [2]int{rem, 32}, [2]int{8, 4}, [2]int{8, 4})
		asm.Q8MatVecAMX(y[j:], wq[j*k:], ws[j*nb:], xq, xs, k, rem, 1, &cfg, &idx)
	}
}

// q8TileAMX is the amx tier's packed tile (q8PackedTile).
func q8TileAMX(c []float32, ldc int, pa []int8, pas []float32, m int, wq []int8, wst []float32, k, rows int) {
	cfg := amxConfig([2]int{rows, 64}, [2]int{rows, 64}, [2]int{rows, 32}, [2]int{rows, 32}, [2]int{8, 64}, [2]int{8, 64})
	var idx [16]int32
	for i := range idx {
		idx[i] = int32(i * ldc)
	}
	asm.Q8MatMulAMX(c, ldc, pa, pas, m, wq, wst, k, rows, &cfg, &idx)
}
