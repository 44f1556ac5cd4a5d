package quant

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/ggufpy"
	"github.com/goformer/goformer/kernels"
)

// blocksPerType is how many random blocks each format is checked on: every
// nibble, bit and scale pattern occurs many times over.
const blocksPerType = 64

// randomBlocks returns n blocks of random bytes whose fp16 scales are
// finite: every exponent (subnormals included) but the all-ones one, and
// the extremes ±65504 and ±0 in the first blocks.
func randomBlocks(f *BlockFormat, n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, uint64(f.GGMLType)))
	b := make([]byte, n*f.BlockBytes())
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	extremes := []uint16{0x7BFF, 0xFBFF, 0x0000, 0x8000, 0x0001, 0x83FF}
	for blk := range n {
		for _, off := range f.Scales {
			p := b[blk*f.BlockBytes()+off:]
			h := binary.LittleEndian.Uint16(p)
			if h&0x7C00 == 0x7C00 {
				h &^= 0x4000 // Inf or NaN: a finite value of the same bits otherwise
			}
			if blk < len(extremes) {
				h = extremes[blk]
			}
			binary.LittleEndian.PutUint16(p, h)
		}
	}
	return b
}

// dequantizeAll expands every format's random blocks, in type order.
func dequantizeAll(t *testing.T) (types []uint32, raw map[uint32][]byte, values map[uint32][]float32) {
	raw, values = map[uint32][]byte{}, map[uint32][]float32{}
	for typ := range BlockFormats {
		types = append(types, typ)
	}
	sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
	for _, typ := range types {
		f := BlockFormats[typ]
		raw[typ] = randomBlocks(f, blocksPerType, 11)
		values[typ] = make([]float32, blocksPerType*f.BlockLen())
		require.NoError(t, f.DequantizeRows(values[typ], raw[typ]))
	}
	return types, raw, values
}

// wantSHA256 are the SHA-256 digests of the float32 bits gguf-py's numpy
// dequantizers (llama.cpp v0.4.0, the source node-llama-cpp 3.21.1 ships)
// give for randomBlocks(f, 64, 11), recorded by
// TestBlockFormatsMatchGGUFPy (GOFORMER_RECORD=1 prints them): every run,
// with or without the peers, checks goformer's dequantizers bit for bit
// against them.
var wantSHA256 = map[string]string{
	"Q4_0":   "a2bfddd21afbd4699d8683c83f12dacda97fe105059ed42cc9000021f78d8e9c",
	"Q4_1":   "3ea3d0fbae0c934c58fa2a72b5cd500bc0ce78abac37dfc921050a13a0b1ebf1",
	"Q5_0":   "5c025bb6598434ac6dee9d56d40a4d39896496c5ca68a8f59770c29da9ef966f",
	"Q5_1":   "a13896b025bcbeda3dbe12a3d0d2032d79f8fd806343de82937634a446813847",
	"Q8_0":   "0063a27353134a4984bcb6466ddec945801727b265c25120b673c73657ced1e7",
	"Q2_K":   "830d807d3e9be451371d284eaf28063487b62af63b288654fedbc0a815a9ed2b",
	"Q3_K":   "412d01cee07d3463dcd3f738152ed47ae9fc4816190495dd73bcbcced7283bf5",
	"Q4_K":   "e47b6d6ac470b373a93ccd7c48b6afdf6fd9bbdcc4a3428db68d90ad0251a934",
	"Q5_K":   "21b470d78d903aa5d477c044896bfef3bed7f355a5f03b12e9b8224951cc39a4",
	"Q6_K":   "111fe55f59de243ecbcfb39df919df9a661d6e65d43019dfae5ca1d0717d1912",
	"IQ4_NL": "001195eda02428b5eb5e6fe78e6abd5ece14d2263034eb6cd5df8fd23f39132f",
	"IQ4_XS": "4780ce70b0b2d89ccef81916f50deb4df354573d5f9926f2f971e00f9c1f6bd0",
}

func TestBlockFormatsMatchRecordedDigests(t *testing.T) {
	types, _, values := dequantizeAll(t)
	require.Len(t, wantSHA256, len(types), "every format has a recorded digest")
	for _, typ := range types {
		f := BlockFormats[typ]
		assert.Equal(t, wantSHA256[f.Name()], ggufpy.Digest(values[typ]), "%s", f.Name())
	}
}

// TestBlockFormatsMatchGGUFPy dequantizes the same blocks with gguf-py's
// numpy dequantizers, read from llama.cpp's source in the node-llama-cpp
// package ($GOFORMER_LLAMACPP), and compares every value's bits.
func TestBlockFormatsMatchGGUFPy(t *testing.T) {
	types, raw, values := dequantizeAll(t)
	var runs []ggufpy.Blocks
	for _, typ := range types {
		runs = append(runs, ggufpy.Blocks{GGMLType: typ, Count: blocksPerType, Data: raw[typ]})
	}
	ref := ggufpy.Dequantize(t, runs)
	for i, typ := range types {
		f := BlockFormats[typ]
		mismatches := 0
		require.Len(t, ref[i], len(values[typ]), f.Name())
		for j, got := range values[typ] {
			if want := ref[i][j]; math.Float32bits(got) != math.Float32bits(want) {
				if mismatches < 3 {
					t.Errorf("%s value %d (block %d): %g (%08x), gguf-py %g (%08x)", f.Name(), j, j/f.BlockLen(), got, math.Float32bits(got), want, math.Float32bits(want))
				}
				mismatches++
			}
		}
		assert.Zero(t, mismatches, "%s: values that differ from gguf-py's of %d", f.Name(), len(values[typ]))
		if os.Getenv("GOFORMER_RECORD") != "" {
			t.Logf("%q: %q,", f.Name(), ggufpy.Digest(values[typ]))
		}
	}
}

// Q8_0 read as a BlockFormat and through FromQ8_0 agree.
func TestBlockFormatQ8_0MatchesFromQ8_0(t *testing.T) {
	f := BlockFormats[8]
	raw := randomBlocks(f, 8, 3)
	want := make([]float32, 8*32)
	require.NoError(t, f.DequantizeRows(want, raw))
	m, err := FromQ8_0(raw, 2, 128)
	require.NoError(t, err)
	got := make([]float32, 128)
	for r := range 2 {
		m.Row(r, got)
		assert.Equal(t, want[r*128:(r+1)*128], got)
	}
	assert.Equal(t, kernels.Q8Block, f.BlockLen())
}

func TestDequantizeRowsChecksSizes(t *testing.T) {
	f := BlockFormats[12]
	assert.ErrorContains(t, f.DequantizeRows(make([]float32, 100), nil), "100 values are not whole Q4_K blocks of 256")
	assert.ErrorContains(t, f.DequantizeRows(make([]float32, 256), make([]byte, 143)), "143 bytes for 1 Q4_K blocks, want 144")
}
