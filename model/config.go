package model

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/goformer/goformer/kernels"
)

// ErrInvalidConfig marks a config that goformer cannot run: malformed,
// missing a key, an impossible shape or a value out of range.
var ErrInvalidConfig = errors.New("invalid model config")

// Config is a model's shape and hyper-parameters, read from its checkpoint.
type Config struct {
	// ModelType is the checkpoint's family as Hugging Face names it:
	// "gpt2", "llama", "mistral" or "qwen2" (a GGUF file's architecture).
	ModelType string
	VocabSize int
	// NPositions is the context the model was trained for: the hard limit
	// of learned positions; for RoPE only the default session capacity (up
	// to DefaultContext).
	NPositions int
	NEmbd      int // d_model
	NLayer     int
	NHead      int // query heads
	// NKVHead is the number of key/value heads (grouped-query attention):
	// query head h reads kv head h / (NHead/NKVHead). 0 means NHead.
	NKVHead int
	// HeadSize is each head's width; 0 means NEmbd / NHead.
	HeadSize     int
	NInner       int     // d_ff: the MLP's hidden width (4·NEmbd for GPT-2)
	LayerNormEps float32 // every norm's epsilon
	Activation   string  // GELU MLPs: "gelu_new" (tanh-approximated GELU)
	BOS, EOS     int
	// EndIDs are the tokens that end generation, EOS first: Llama 3's
	// <|eot_id|> or ChatML's <|im_end|> besides the end of text.
	EndIDs []int
	Arch   Arch
	// RoPE positions only: the base of the rotation frequencies (0 means
	// 10000), the number of leading elements of each head that rotate (0
	// means all of them; GPT-J, GPT-NeoX and partial_rotary_factor rotate a
	// part) and how the frequencies are scaled.
	RoPETheta   float64
	RotaryDim   int
	RoPEScaling RoPEScaling
	// SlidingWindow, when positive, is the number of most recent positions
	// (its own included) a query attends to: Mistral.
	SlidingWindow int
	// AttentionBias and MLPBias say that a Llama-family checkpoint holds
	// biases on all four attention matrices, or on the three MLP ones
	// (Qwen2 holds them on q, k and v whatever these say).
	AttentionBias, MLPBias bool
}

// RoPEScaling is a checkpoint's rope_scaling: how the rotation frequencies
// θ^(−2k/r) are changed to stretch the context.
type RoPEScaling struct {
	// Type is "" (none), "linear" (every frequency divided by Factor) or
	// "llama3" (Llama 3.1's piecewise scaling by wavelength).
	Type   string
	Factor float64
	// llama3 only: wavelengths longer than OriginalContext/LowFreqFactor
	// are divided by Factor, shorter than OriginalContext/HighFreqFactor
	// kept, and those between interpolated.
	LowFreqFactor, HighFreqFactor float64
	OriginalContext               int
	// Divisors, when set, divide each pair's frequency instead of Type's
	// formula: the rope_freqs tensor llama.cpp's converter writes for
	// llama3 scaling.
	Divisors []float64
}

// DefaultContext caps the default session capacity of a RoPE model, whose
// trained context (128k for Llama 3.2) would cost gigabytes of KV cache per
// session: llama.cpp's default too.
const DefaultContext = 4096

// RoPEBase is RoPETheta, or the usual 10000 when it is unset.
func (c *Config) RoPEBase() float64 {
	if c.RoPETheta == 0 {
		return 10000
	}
	return c.RoPETheta
}

// RotaryDims is the number of leading elements of each head that RoPE
// rotates: RotaryDim, or the head dimension when it is unset.
func (c *Config) RotaryDims() int {
	if c.RotaryDim == 0 {
		return c.HeadDim()
	}
	return c.RotaryDim
}

// HeadDim is each head's width: HeadSize, or NEmbd / NHead.
func (c *Config) HeadDim() int {
	if c.HeadSize != 0 {
		return c.HeadSize
	}
	return c.NEmbd / c.NHead
}

// KVHeads is the number of key/value heads: NKVHead, or NHead.
func (c *Config) KVHeads() int {
	if c.NKVHead == 0 {
		return c.NHead
	}
	return c.NKVHead
}

// QueryDim is the width of all query heads, n_head·head_dim.
func (c *Config) QueryDim() int { return c.NHead * c.HeadDim() }

// KVDim is the width of all key (or value) heads, n_kv_head·head_dim: what
// the KV cache holds per position and layer.
func (c *Config) KVDim() int { return c.KVHeads() * c.HeadDim() }

// IsEnd reports whether id ends generation.
func (c *Config) IsEnd(id int) bool {
	if len(c.EndIDs) == 0 {
		return id == c.EOS
	}
	return slices.Contains(c.EndIDs, id)
}

// RoPEFrequencies returns the rotation frequency of each of the RotaryDims/2
// pairs, in float64: θ^(−2k/r), scaled as RoPEScaling says (as Hugging
// Face's rope_init functions compute them, in float64 rather than float32).
func (c *Config) RoPEFrequencies() []float64 {
	f := kernels.RoPEFrequencies(c.RoPEBase(), c.RotaryDims())
	s := &c.RoPEScaling
	switch {
	case len(s.Divisors) > 0:
		for k := range f {
			f[k] /= s.Divisors[k]
		}
	case s.Type == "linear":
		for k := range f {
			f[k] /= s.Factor
		}
	case s.Type == "llama3":
		old := float64(s.OriginalContext)
		lowWavelen, highWavelen := old/s.LowFreqFactor, old/s.HighFreqFactor
		for k, freq := range f {
			switch wavelen := 2 * math.Pi / freq; {
			case wavelen < highWavelen:
			case wavelen > lowWavelen:
				f[k] = freq / s.Factor
			default:
				smooth := (old/wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor)
				f[k] = (1-smooth)*freq/s.Factor + smooth*freq
			}
		}
	}
	return f
}

// Bounds that keep every weight matrix's element count well inside an int, so
// that a corrupt config fails here instead of in an allocation.
const (
	maxDim    = 1 << 24
	maxLayers = 1 << 12
)

func checkDim(key string, v, max int) error {
	if v <= 0 || v > max {
		return fmt.Errorf("%w: %s %d is outside 1..%d", ErrInvalidConfig, key, v, max)
	}
	return nil
}

// checkMatrixSizes rejects a config whose largest weight matrix has more
// elements than an int holds, which only a 32-bit platform can hit.
func checkMatrixSizes(c *Config) error {
	for _, m := range []struct {
		name       string
		rows, cols int
	}{
		{"token embedding", c.VocabSize, c.NEmbd},
		{"position embedding", c.NPositions, c.NEmbd},
		{"query", c.QueryDim(), c.NEmbd},
		{"mlp", 2 * c.NInner, c.NEmbd},
	} {
		if int64(m.rows)*int64(m.cols) > math.MaxInt {
			return fmt.Errorf("%w: the %s would be a %d×%d matrix, too large for this platform", ErrInvalidConfig, m.name, m.rows, m.cols)
		}
	}
	return nil
}

// checkHeads validates the attention shape: kv heads that divide the query
// heads, and a head dimension that fits.
func checkHeads(c *Config, kvKey, headDimKey string) error {
	if c.NKVHead != 0 {
		if c.NKVHead > c.NHead || c.NHead%c.NKVHead != 0 {
			return fmt.Errorf("%w: %s %d does not divide the %d query heads", ErrInvalidConfig, kvKey, c.NKVHead, c.NHead)
		}
	}
	if c.HeadSize == 0 && c.NEmbd%c.NHead != 0 {
		return fmt.Errorf("%w: the width %d is not divisible by the %d heads (and %s is not set)", ErrInvalidConfig, c.NEmbd, c.NHead, headDimKey)
	}
	if c.HeadSize != 0 {
		if err := checkDim(headDimKey, c.HeadSize, maxDim); err != nil {
			return err
		}
	}
	if int64(c.NHead)*int64(c.HeadDim()) > maxDim {
		return fmt.Errorf("%w: %d heads of %d are too wide", ErrInvalidConfig, c.NHead, c.HeadDim())
	}
	return nil
}

// checkEps validates a norm epsilon read from key.
func checkEps(key string, eps float64) (float32, error) {
	if !(eps > 0) || float32(eps) == 0 || math.IsInf(float64(float32(eps)), 0) {
		return 0, fmt.Errorf("%w: %s %g is not a positive float32", ErrInvalidConfig, key, eps)
	}
	return float32(eps), nil
}
