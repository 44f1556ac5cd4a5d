package model

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/model/gguf"
	"github.com/goformer/goformer/quant"
)

// ggufLlamaConfig reads the {arch}.* keys of a llama or qwen2 file, as
// llama.cpp names them.
func ggufLlamaConfig(f *gguf.File, arch string, vocab, bos, eos int) (Config, error) {
	c := Config{ModelType: arch, Arch: LlamaArch, VocabSize: vocab, BOS: bos, EOS: eos, EndIDs: []int{eos}}
	if err := ggufDims(f, arch, &c); err != nil {
		return Config{}, err
	}
	kv, ok, err := ggufOptionalInt(f, arch+".attention.head_count_kv", maxDim)
	if err != nil {
		return Config{}, err
	}
	if ok && kv != c.NHead {
		c.NKVHead = kv
	}
	keyLen, hasKey, err := ggufOptionalInt(f, arch+".attention.key_length", maxDim)
	if err != nil {
		return Config{}, err
	}
	valueLen, hasValue, err := ggufOptionalInt(f, arch+".attention.value_length", maxDim)
	if err != nil {
		return Config{}, err
	}
	if hasKey && hasValue && keyLen != valueLen {
		return Config{}, fmt.Errorf("%w: %s.attention.key_length %d and value_length %d differ (goformer needs them equal)", ErrUnsupported, arch, keyLen, valueLen)
	}
	switch {
	case hasKey:
		c.HeadSize = keyLen
	case hasValue:
		c.HeadSize = valueLen
	}
	if err := checkHeads(&c, arch+".attention.head_count_kv", arch+".attention.key_length"); err != nil {
		return Config{}, err
	}
	if c.NEmbd%c.NHead == 0 && c.HeadSize == c.NEmbd/c.NHead {
		c.HeadSize = 0
	}
	if err := checkMatrixSizes(&c); err != nil {
		return Config{}, err
	}
	if c.LayerNormEps, err = ggufEps(f, arch+".attention.layer_norm_rms_epsilon"); err != nil {
		return Config{}, err
	}

	c.RoPETheta = 10000
	if _, ok := f.Lookup(arch + ".rope.freq_base"); ok {
		if c.RoPETheta, err = f.Float(arch + ".rope.freq_base"); err != nil {
			return Config{}, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		if !(c.RoPETheta > 1) || math.IsInf(c.RoPETheta, 0) {
			return Config{}, fmt.Errorf("%w: %s.rope.freq_base %g is not a finite base above 1", ErrInvalidConfig, arch, c.RoPETheta)
		}
	}
	rot, ok, err := ggufOptionalInt(f, arch+".rope.dimension_count", maxDim)
	if err != nil {
		return Config{}, err
	}
	if ok {
		if rot > c.HeadDim() || rot%2 != 0 {
			return Config{}, fmt.Errorf("%w: %s.rope.dimension_count %d: want an even number up to the head dimension %d", ErrInvalidConfig, arch, rot, c.HeadDim())
		}
		if rot != c.HeadDim() {
			if arch == "llama" {
				// The converter permutes whole heads for a rotation of pairs
				// (2i, 2i+1) over the first rot: no Hugging Face layout matches.
				return Config{}, fmt.Errorf("%w: %s.rope.dimension_count %d below the head dimension %d in a llama file", ErrUnsupported, arch, rot, c.HeadDim())
			}
			c.RotaryDim = rot
		}
	}
	if err := ggufRoPEScaling(f, arch, &c); err != nil {
		return Config{}, err
	}
	// A sliding window in a llama file (Mistral's) is a key newer converters
	// write; goformer runs it the way the Hugging Face config does.
	if w, ok, err := ggufOptionalInt(f, arch+".attention.sliding_window", math.MaxInt32); err != nil {
		return Config{}, err
	} else if ok {
		c.SlidingWindow = w
	}
	return c, nil
}

// ggufRoPEScaling reads rope.scaling.type and rope.scaling.factor; llama3
// scaling has no keys, only the rope_freqs tensor (ggufLlamaWeights).
func ggufRoPEScaling(f *gguf.File, arch string, c *Config) error {
	key := arch + ".rope.scaling.type"
	if _, ok := f.Lookup(key); !ok {
		return nil
	}
	kind, err := f.String(key)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	switch kind {
	case "none", "":
		return nil
	case "linear":
		factorKey := arch + ".rope.scaling.factor"
		factor, err := f.Float(factorKey)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		if !(factor > 0) || math.IsInf(factor, 0) {
			return fmt.Errorf("%w: %s %g is not a positive number", ErrInvalidConfig, factorKey, factor)
		}
		if factor != 1 {
			c.RoPEScaling = RoPEScaling{Type: "linear", Factor: factor}
		}
		return nil
	}
	return fmt.Errorf("%w: %s %q is not implemented (goformer implements linear, and llama3 through rope_freqs)", ErrUnsupported, key, kind)
}

// ggufLlamaWeights loads a llama or qwen2 file's tensors. llama.cpp's
// converter permutes the query and key rows of a llama file so that each
// head's RoPE pairs are neighbours (its rotation pairs 2i with 2i+1); they
// are put back in Hugging Face's rotate-half order here, so that one RoPE
// serves both formats and both loads hold the same weights. qwen2 files
// keep Hugging Face's order.
func ggufLlamaWeights(c *Config, f *gguf.File, arch string) (Weights, error) {
	w := Weights{Layers: make([]Layer, c.NLayer)}
	var ropeFreqs []float32
	if err := loadGGUFTensors(c, f, &w, ggufLlamaLayout(c, &w, &ropeFreqs)); err != nil {
		return Weights{}, err
	}
	if ropeFreqs != nil {
		if c.RoPEScaling.Type != "" {
			return Weights{}, fmt.Errorf("%w: tensor %q and %s.rope.scaling.type %q both scale RoPE", ErrInvalidConfig, "rope_freqs.weight", arch, c.RoPEScaling.Type)
		}
		div := make([]float64, len(ropeFreqs))
		for i, v := range ropeFreqs {
			if !(v > 0) || math.IsInf(float64(v), 0) {
				return Weights{}, fmt.Errorf("%w: tensor %q[%d] is %g, want a positive divisor", ErrInvalidConfig, "rope_freqs.weight", i, v)
			}
			div[i] = float64(v)
		}
		c.RoPEScaling = RoPEScaling{Type: "factors", Divisors: div}
	}
	if arch == "llama" {
		hd := c.HeadDim()
		for i := range w.Layers {
			l := &w.Layers[i]
			l.Q, l.QBias = unpermuteRoPE(l.Q, l.QBias, hd)
			l.K, l.KBias = unpermuteRoPE(l.K, l.KBias, hd)
		}
	}
	return w, nil
}

// ropeFileRow is the row of a llama.cpp query or key matrix that holds
// Hugging Face row r: within each head of hd rows, row j is file row 2j
// and row j + hd/2 is file row 2j+1 (convert_hf_to_gguf.py's permute).
func ropeFileRow(r, hd int) int {
	h, j := r/hd, r%hd
	if half := hd / 2; j >= half {
		return h*hd + 2*(j-half) + 1
	}
	return h*hd + 2*j
}

// unpermuteRoPE undoes llama.cpp's permutation of a query or key matrix
// (and its bias): within each head of hd rows, file row 2j is Hugging Face
// row j and file row 2j+1 is row j + hd/2. It returns new memory: an F32
// matrix may alias the file's read-only mapping.
func unpermuteRoPE(m *Matrix, bias []float32, hd int) (*Matrix, []float32) {
	if bias != nil {
		b := make([]float32, len(bias))
		for r := range b {
			b[r] = bias[ropeFileRow(r, hd)]
		}
		bias = b
	}
	cols := m.Cols
	if b := m.Blocks; b != nil {
		rb := b.Type.RowBytes(cols)
		out := &quant.BlockMatrix{Type: b.Type, Rows: b.Rows, Cols: cols, Data: make([]byte, len(b.Data))}
		for r := range b.Rows {
			s := ropeFileRow(r, hd)
			copy(out.Data[r*rb:(r+1)*rb], b.Data[s*rb:(s+1)*rb])
		}
		return BlockMatrix(out), bias
	}
	if q := m.Int8; q != nil {
		nb := len(q.Scales) / q.Rows
		out := &quant.Matrix{Rows: q.Rows, Cols: q.Cols, Q: make([]int8, len(q.Q)), Scales: make([]float32, len(q.Scales))}
		for r := range q.Rows {
			s := ropeFileRow(r, hd)
			copy(out.Q[r*cols:(r+1)*cols], q.Q[s*cols:(s+1)*cols])
			copy(out.Scales[r*nb:(r+1)*nb], q.Scales[s*nb:(s+1)*nb])
		}
		return Int8Matrix(out), bias
	}
	out := make([]float32, len(m.F32))
	for r := range m.Rows {
		s := ropeFileRow(r, hd)
		copy(out[r*cols:(r+1)*cols], m.F32[s*cols:(s+1)*cols])
	}
	return F32Matrix(out, m.Rows, cols), bias
}
