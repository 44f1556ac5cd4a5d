package model

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/model/gguf"
	"github.com/goformer/goformer/quant"
)

// TestQuantizeMatchesLlamaQuantize quantizes testdata/quant/input-f32.gguf
// with goformer's quantizers and compares every block with the one
// llama-quantize wrote of the same values. A block that differs (float
// ordering could make one) must lie no farther from the F32 values than
// llama-quantize's; the count is logged.
func TestQuantizeMatchesLlamaQuantize(t *testing.T) {
	in, err := gguf.Open(filepath.Join(quantizedDir, "input-f32.gguf"))
	require.NoError(t, err)
	defer in.Close()
	for _, typ := range []string{"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K"} {
		f, err := gguf.Open(filepath.Join(quantizedDir, typ+".gguf"))
		require.NoError(t, err)
		blocks, differ := 0, 0
		for i := range f.Tensors {
			want := &f.Tensors[i]
			src, ok := in.Tensor(want.Name)
			require.True(t, ok, want.Name)
			x := ggufFloat32(src)
			bf := quant.BlockFormats[uint32(want.Type)]
			require.NotNil(t, bf.Quantize, typ)
			got := make([]byte, len(want.Data))
			for i := range got {
				got[i] = 0xA5 // poison: every byte must be written
			}
			require.NoError(t, bf.QuantizeRows(got, x))
			bl, bb := bf.BlockLen(), bf.BlockBytes()
			for b := range len(got) / bb {
				blocks++
				g, w := got[b*bb:(b+1)*bb], want.Data[b*bb:(b+1)*bb]
				if bytes.Equal(g, w) {
					continue
				}
				differ++
				xs := x[b*bl : (b+1)*bl]
				assert.LessOrEqual(t, blockError(bf, g, xs), blockError(bf, w, xs),
					"%s %s block %d: goformer's differs from llama-quantize's and is farther from F32", typ, want.Name, b)
			}
		}
		f.Close()
		t.Logf("%s: %d blocks compared, %d differ from llama-quantize's", typ, blocks, differ)
	}
}

// blockError is Σ(dequantized − x)² of one block.
func blockError(bf *quant.BlockFormat, blk []byte, x []float32) float64 {
	v := make([]float32, len(x))
	bf.Dequantize(v, blk)
	var e float64
	for i := range v {
		d := float64(v[i]) - float64(x[i])
		e += d * d
	}
	return e
}
