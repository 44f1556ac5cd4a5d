package model

import "github.com/goformer/goformer/quant"

// Config is a model's shape and hyper-parameters, read from its checkpoint.
type Config struct {
	VocabSize    int
	NPositions   int // learned positions: the context limit
	NEmbd        int // d_model
	NLayer       int
	NHead        int
	NInner       int // d_ff: the MLP's hidden width (4·NEmbd for GPT-2)
	LayerNormEps float32
	Activation   string // "gelu_new" (tanh-approximated GELU)
	BOS, EOS     int
	Arch         Arch
	// RoPE positions only: the base of the rotation frequencies (0 means
	// 10000) and the number of leading elements of each head that rotate
	// (0 means all of them; GPT-J and GPT-NeoX rotate a part).
	RoPETheta float64
	RotaryDim int
}

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

// HeadDim is NEmbd / NHead.
func (c *Config) HeadDim() int { return c.NEmbd / c.NHead }

// Layer is one transformer block's weights. Every matrix is row-major
// [out][in], one row per output feature, ready for kernels.MatMul.
type Layer struct {
	LN1Gain, LN1Bias []float32 // [d]
	QKV              []float32 // [3d][d]: rows 0..d-1 are Q, then K, then V; head h is rows h·hd..(h+1)·hd-1 of each
	QKVBias          []float32 // [3d]
	AttnOut          []float32 // [d][d]
	AttnOutBias      []float32 // [d]
	LN2Gain, LN2Bias []float32 // [d]
	FC               []float32 // [d_ff][d]
	FCBias           []float32 // [d_ff]
	FCOut            []float32 // [d][d_ff]
	FCOutBias        []float32 // [d]

	// Int8 forms of the four matrices, for a checkpoint that stores them as
	// int8 blocks (a GGUF Q8_0 file). Where one is set, the fp32 field above
	// is nil: the matrix is never expanded to fp32.
	QKVInt8, AttnOutInt8, FCInt8, FCOutInt8 *quant.Matrix
}

// Weights is a model's parameters in goformer's run-time layout: fp32,
// except for the matrices a checkpoint stores as int8 blocks.
type Weights struct {
	TokenEmbedding    []float32 // [vocab][d]
	PositionEmbedding []float32 // [n_positions][d]; nil unless learned positions (sinusoidal ones are computed)
	Layers            []Layer
	FinalGain         []float32 // [d]; nil without a final norm
	FinalBias         []float32 // [d]
	Output            []float32 // [vocab][d]; nil when tied to TokenEmbedding

	// Int8 forms of the token embedding and the output projection, set
	// instead of the fp32 fields for a checkpoint that stores them as int8
	// blocks (GGUF Q8_0).
	TokenEmbeddingInt8, OutputInt8 *quant.Matrix
}
