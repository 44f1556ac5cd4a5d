package model

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/model/gguf"
	gt "github.com/goformer/goformer/model/internal/gguftest"
)

func preset(t *testing.T, name string) QuantizePreset {
	p, err := LookupQuantizePreset(name)
	require.NoError(t, err)
	return p
}

// TestQuantizeRuleTable checks the rule on a 16-layer Llama whose widths
// are whole super-blocks, and the fallbacks of a 576-wide one.
func TestQuantizeRuleTable(t *testing.T) {
	var names []string
	for i := range 16 {
		for _, n := range []string{"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"} {
			names = append(names, ggufBlock(i, n+".weight"))
		}
	}
	names = append(names, "token_embd.weight", "output.weight")
	dims := []int{2048, 2048}
	more := map[int]bool{0: true, 1: true, 4: true, 7: true, 10: true, 13: true, 14: true, 15: true}
	for _, c := range []struct {
		preset           string
		base, more, head gguf.TensorType
	}{
		{"Q4_K_M", tQ4_K, tQ6_K, tQ6_K},
		{"Q5_K_M", tQ5_K, tQ6_K, tQ6_K},
		{"Q6_K", tQ6_K, tQ6_K, tQ6_K},
		{"Q4_0", tQ4_0, tQ4_0, tQ6_K},
		{"Q8_0", gguf.Q8_0, gguf.Q8_0, gguf.Q8_0},
	} {
		plan := newQuantPlan(preset(t, c.preset), names, 16, false)
		for _, n := range names { // already in llama-quantize's order
			got, fb := plan.choose(n, dims)
			assert.False(t, fb)
			want := c.base
			switch l := tensorLayer(n); {
			case n == "output.weight":
				want = c.head
			case (isAttnV(n) || n == ggufBlock(l, "ffn_down.weight")) && more[l]:
				want = c.more
			}
			assert.Equal(t, want, got, "%s %s", c.preset, n)
		}
	}
	// SmolLM2-135M: rows of 576 (and ffn_down's of 1536 = 6·256), tied.
	plan := newQuantPlan(preset(t, "Q4_K_M"), []string{"blk.0.attn_v.weight", "blk.0.ffn_down.weight", "blk.0.attn_q.weight", "token_embd.weight"}, 30, false)
	for _, c := range []struct {
		name     string
		cols     int
		want     gguf.TensorType
		fallback bool
	}{
		{"token_embd.weight", 576, gguf.Q8_0, false}, // the output rule: not whole Q4_K blocks
		{"blk.0.attn_q.weight", 576, tQ5_0, true},
		{"blk.0.attn_v.weight", 576, gguf.Q8_0, true}, // Q6_K (layer 0 of 1 attn_v) → Q8_0
		{"blk.0.ffn_down.weight", 1536, tQ6_K, false},
	} {
		got, fb := plan.choose(c.name, []int{c.cols, 64})
		assert.Equal(t, c.want, got, c.name)
		assert.Equal(t, c.fallback, fb, c.name)
	}
	plan = newQuantPlan(preset(t, "Q5_K_M"), []string{"a.weight"}, 1, false)
	got, _ := plan.choose("a.weight", []int{576, 4})
	assert.Equal(t, tQ5_1, got)
	got, _ = plan.choose("a.weight", []int{48, 4})
	assert.Equal(t, gguf.F16, got, "48 is not whole blocks of 32 either")
	assert.True(t, allowsQuantization("blk.0.attn_q.weight", []int{64, 64}))
	assert.False(t, allowsQuantization("blk.0.attn_norm.weight", []int{64, 1}))
	assert.False(t, allowsQuantization("position_embd.weight", []int{64, 64}))
	assert.False(t, allowsQuantization("blk.0.attn_q.bias", []int{64, 64}))
}

// TestQuantizeTinyFile quantizes a one-block gpt2 file of width 32 (every
// K-quant falls back) with each preset; goformer loads what it writes.
func TestQuantizeTinyFile(t *testing.T) {
	for _, in := range []uint32{gt.F32, gt.F16} {
		src := writeGGUF(t, tinyGGUF(in))
		for _, p := range QuantizePresets {
			out := filepath.Join(t.TempDir(), p.Name+".gguf")
			r, err := Quantize(context.Background(), src, out, p)
			require.NoError(t, err, p.Name)
			types := map[string]gguf.TensorType{}
			for _, qt := range r.Tensors {
				types[qt.Name] = qt.To
			}
			assert.Equal(t, gguf.F32, types["position_embd.weight"])
			assert.Equal(t, gguf.F32, types["blk.0.attn_norm.weight"])
			wantMatrix := map[string]gguf.TensorType{"Q8_0": gguf.Q8_0, "Q4_0": tQ4_0, "Q4_K_M": tQ5_0, "Q5_K_M": tQ5_1, "Q6_K": gguf.Q8_0}[p.Name]
			assert.Equal(t, wantMatrix, types["blk.0.ffn_up.weight"], p.Name)
			assert.Equal(t, gguf.Q8_0, types["token_embd.weight"], "%s: the tied table takes the output rule", p.Name)
			f, err := gguf.Open(out)
			require.NoError(t, err)
			ft, _ := f.Int("general.file_type")
			assert.Equal(t, int64(p.FileType), ft)
			qv, _ := f.Int("general.quantization_version")
			assert.Equal(t, int64(2), qv)
			f.Close()
			ck, err := Load(out)
			require.NoError(t, err, p.Name)
			ck.Close()
		}
	}
}

// TestQuantizeErrors: each bad input is one error naming what is wrong, and
// no output file (nor its temporary) is left behind.
func TestQuantizeErrors(t *testing.T) {
	_, err := LookupQuantizePreset("Q3_K_S")
	assert.ErrorIs(t, err, ErrUnsupported)
	assert.ErrorContains(t, err, `"Q3_K_S" (goformer writes Q8_0, Q4_0, Q4_K_M, Q5_K_M, Q6_K)`)

	dir := t.TempDir()
	out := filepath.Join(dir, "out.gguf")
	q4 := filepath.Join(quantizedDir, "Q4_0.gguf")
	_, err = Quantize(context.Background(), q4, out, preset(t, "Q6_K"))
	assert.ErrorIs(t, err, ErrUnsupported)
	assert.ErrorContains(t, err, `tensor "blk.0.ffn_down.weight" is already Q4_0 (4.5 bits per weight), coarser than the Q6_K`)

	nan := tinyGGUF(gt.F32)
	for i := range nan.Tensors {
		if nan.Tensors[i].Name == "blk.0.ffn_up.weight" {
			copy(nan.Tensors[i].Data[4*70:], gt.F32Bytes([]float32{float32(math.NaN())}))
		}
	}
	_, err = Quantize(context.Background(), writeGGUF(t, nan), out, preset(t, "Q8_0"))
	assert.ErrorIs(t, err, ErrNonFinite)
	assert.ErrorContains(t, err, `tensor "blk.0.ffn_up.weight" holds NaN at row 2, column 6`)

	src := writeGGUF(t, tinyGGUF(gt.F32))
	_, err = Quantize(context.Background(), src, filepath.Join(dir, "absent", "out.gguf"), preset(t, "Q8_0"))
	assert.ErrorContains(t, err, "cannot write "+filepath.Join(dir, "absent", "out.gguf"))
	_, err = Quantize(context.Background(), src, src, preset(t, "Q8_0"))
	assert.ErrorContains(t, err, "is the input file")
	_, err = Quantize(context.Background(), filepath.Join(dir, "missing.gguf"), out, preset(t, "Q8_0"))
	assert.ErrorContains(t, err, "missing.gguf")
	_, err = Quantize(context.Background(), dir, out, preset(t, "Q8_0"))
	assert.ErrorContains(t, err, "config.json", "an empty folder is no checkpoint")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Quantize(ctx, src, out, preset(t, "Q8_0"))
	assert.ErrorIs(t, err, context.Canceled)

	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, left, "a failed quantize leaves no file")
}
