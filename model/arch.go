package model

// NormPlacement says where a block's LayerNorms sit.
type NormPlacement int

const (
	// PreNorm: x = x + Attn(LN1(x)); x = x + MLP(LN2(x)). GPT-2 and most
	// models since.
	PreNorm NormPlacement = iota
	// PostNorm: x = LN1(x + Attn(x)); x = LN2(x + MLP(x)). The original
	// transformer and BERT.
	PostNorm
)

func (p NormPlacement) String() string {
	if p == PostNorm {
		return "post"
	}
	return "pre"
}

// PositionKind says how a token's position enters the model.
type PositionKind int

const (
	// LearnedPositions adds a trained row per position (GPT-2); positions
	// past the table are an error.
	LearnedPositions PositionKind = iota
	// SinusoidalPositions adds the original transformer's sin/cos encoding,
	// computed, never stored; it extends to any position.
	SinusoidalPositions
	// RoPE rotates queries and keys by their position; it extends to any
	// position.
	RoPE
)

func (k PositionKind) String() string {
	switch k {
	case SinusoidalPositions:
		return "sinusoidal"
	case RoPE:
		return "rope"
	}
	return "learned"
}

// RoPEStyle says which elements of a head RoPE rotates together.
type RoPEStyle int

const (
	// RotateHalf pairs element k with element k+r/2 of the rotary part (r
	// elements): GPT-NeoX, Llama and most RoPE models.
	RotateHalf RoPEStyle = iota
	// Interleaved pairs neighbours, elements 2k and 2k+1: GPT-J.
	Interleaved
)

func (s RoPEStyle) String() string {
	if s == Interleaved {
		return "interleaved"
	}
	return "rotate-half"
}

// NormKind says what a norm computes over a row's features.
type NormKind int

const (
	// LayerNorm: (x − mean) / sqrt(variance + eps) · gain + bias. GPT-2.
	LayerNorm NormKind = iota
	// RMSNorm: x / sqrt(mean(x²) + eps) · gain, no bias. The Llama family.
	RMSNorm
)

func (k NormKind) String() string {
	if k == RMSNorm {
		return "rmsnorm"
	}
	return "layernorm"
}

// MLPKind says what a block's feed-forward sublayer computes.
type MLPKind int

const (
	// GELUMLP is Down(GELU(Up·x)), with biases: GPT-2.
	GELUMLP MLPKind = iota
	// SwiGLUMLP is Down(SiLU(Gate·x) ⊙ (Up·x)): the Llama family.
	SwiGLUMLP
)

func (k MLPKind) String() string {
	if k == SwiGLUMLP {
		return "swiglu"
	}
	return "gelu"
}

// Arch holds the choices that transformer code most often gets wrong, as
// explicit fields. GPT2Arch and LlamaArch have their families' values.
type Arch struct {
	Norm           NormPlacement
	NormKind       NormKind // every block norm and the final norm
	MLP            MLPKind
	FinalNorm      bool // a norm after the last block, before the logits
	Positions      PositionKind
	RoPEStyle      RoPEStyle // with RoPE positions: how a head's elements pair up
	TiedEmbeddings bool      // the output projection is the token embedding matrix
}

// GPT2Arch is GPT-2: pre-norm blocks, LayerNorms, a GELU MLP, a final
// LayerNorm, learned positions and tied embeddings.
var GPT2Arch = Arch{Norm: PreNorm, FinalNorm: true, Positions: LearnedPositions, TiedEmbeddings: true}

// LlamaArch is the Llama family (Llama 2/3, Mistral, Qwen2, SmolLM2,
// TinyLlama): pre-norm blocks, RMSNorms, a SwiGLU MLP, a final RMSNorm and
// rotate-half RoPE. Whether the head is tied comes from the checkpoint.
var LlamaArch = Arch{Norm: PreNorm, NormKind: RMSNorm, MLP: SwiGLUMLP, FinalNorm: true, Positions: RoPE, RoPEStyle: RotateHalf}
