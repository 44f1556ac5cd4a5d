package kernels

import "fmt"

// WeightType is how a weight matrix is stored, named as GGUF names its
// tensor types. Every type has an entry in weightTypes (its traits) and,
// in each tier, an entry in impl.types (its kernels), as ggml's type traits
// do: a new quantized type is one entry per tier, and the forward pass
// reaches it through the runtime's linear of that type.
type WeightType uint8

const (
	// F32 is fp32 (F16 and BF16 are widened to it at load), multiplied by
	// MatMul.
	F32 WeightType = iota
	// Q8_0 is int8 blocks of Q8Block values with one scale each (kept as
	// float32: see Q8Block), multiplied by Q8MatVec and Q8MatMul against
	// activations quantized the same way (Q8Quantize).
	Q8_0

	// The block types below are kept as the GGUF file stores them, whole
	// blocks of BlockBytes bytes per BlockLen values (the layouts of ggml's
	// ggml-common.h), and multiplied by QuantMatVec and QuantMatMul
	// against activations quantized to their Activation form.

	Q4_0 // 32 values: fp16 d, 4-bit q; value (q−8)·d
	Q4_1 // 32 values: fp16 d and m, 4-bit q; value q·d + m
	Q5_0 // 32 values: fp16 d, 5-bit q; value (q−16)·d
	Q5_1 // 32 values: fp16 d and m, 5-bit q; value q·d + m
	// Q2_K to Q6_K are ggml's K-quants: super-blocks of 256 values with
	// fp16 d (and dmin) and integer scales (and mins) per sub-block.
	Q2_K
	Q3_K
	Q4_K
	Q5_K
	Q6_K
	IQ4_NL // 32 values: fp16 d, 4-bit indices into a non-linear table
	IQ4_XS // 256 values: IQ4_NL's table with 6-bit scales per 32

	// Q4_0x8 and Q5_0x8 are Q4_0 and Q5_0 with a matrix's rows interleaved
	// by eights (InterleaveRows), the layout their AVX2 GEMV reads eight
	// rows' blocks from in a few loads. Never in a file: a loader makes
	// them on tiers that prefer them (PrefersInterleaved).
	Q4_0x8
	Q5_0x8

	// Q8_K is an activation form, never a weight: int8 blocks of 256
	// values with one float32 scale and the sums of every 16 values, what
	// the K-quants and IQ4_XS multiply against (ggml's block_q8_K).
	Q8_K
	numWeightTypes
)

// weightTraits describe a weight type independently of any tier.
type weightTraits struct {
	name string
	// blockLen is the number of values that share a block's scales (1 for
	// an unquantized type); a row is whole blocks. blockBytes is the size
	// of a block in a GGUF file.
	blockLen, blockBytes int
	// act is the form the activations take before the product: the
	// weight's own block format for Q8_0 (ggml's vec_dot_type), Q8_0 with
	// block sums for the other types of 32, Q8_K for those of 256, fp32
	// for F32.
	act WeightType
	// plain is the GGUF type an interleaved type stores (Q4_0 for
	// Q4_0x8); 0 for the others.
	plain WeightType
}

var weightTypes = [numWeightTypes]weightTraits{
	F32:    {name: "F32", blockLen: 1, blockBytes: 4, act: F32},
	Q8_0:   {name: "Q8_0", blockLen: Q8Block, blockBytes: 34, act: Q8_0},
	Q4_0:   {name: "Q4_0", blockLen: 32, blockBytes: 18, act: Q8_0},
	Q4_1:   {name: "Q4_1", blockLen: 32, blockBytes: 20, act: Q8_0},
	Q5_0:   {name: "Q5_0", blockLen: 32, blockBytes: 22, act: Q8_0},
	Q5_1:   {name: "Q5_1", blockLen: 32, blockBytes: 24, act: Q8_0},
	Q2_K:   {name: "Q2_K", blockLen: QK, blockBytes: 84, act: Q8_K},
	Q3_K:   {name: "Q3_K", blockLen: QK, blockBytes: 110, act: Q8_K},
	Q4_K:   {name: "Q4_K", blockLen: QK, blockBytes: 144, act: Q8_K},
	Q5_K:   {name: "Q5_K", blockLen: QK, blockBytes: 176, act: Q8_K},
	Q6_K:   {name: "Q6_K", blockLen: QK, blockBytes: 210, act: Q8_K},
	IQ4_NL: {name: "IQ4_NL", blockLen: 32, blockBytes: 18, act: Q8_0},
	IQ4_XS: {name: "IQ4_XS", blockLen: QK, blockBytes: 136, act: Q8_K},
	Q4_0x8: {name: "Q4_0x8", blockLen: 32, blockBytes: 18, act: Q8_0, plain: Q4_0},
	Q5_0x8: {name: "Q5_0x8", blockLen: 32, blockBytes: 22, act: Q8_0, plain: Q5_0},
	Q8_K:   {name: "Q8_K", blockLen: QK, blockBytes: 292, act: Q8_K},
}

// QK is the number of values of a K-quant super-block and of a Q8_K block.
const QK = 256

// q8KSumLen is the number of Q8_K values each activation sum covers: the
// K-quants' smallest sub-block.
const q8KSumLen = 16

func (t WeightType) traits() weightTraits {
	if t >= numWeightTypes {
		panic(fmt.Sprintf("kernels: unknown weight type %d", t))
	}
	return weightTypes[t]
}

// String is the GGUF name of the type.
func (t WeightType) String() string { return t.traits().name }

// BlockLen is the number of values per block: a row of a matrix of this
// type holds a whole number of them.
func (t WeightType) BlockLen() int { return t.traits().blockLen }

// BlockBytes is the size of one block in a GGUF file.
func (t WeightType) BlockBytes() int { return t.traits().blockBytes }

// Plain is the GGUF type whose blocks t holds: Q4_0 for Q4_0x8, t
// itself for every type that is not interleaved.
func (t WeightType) Plain() WeightType {
	if p := t.traits().plain; p != 0 {
		return p
	}
	return t
}

// Activation is the type the activations are quantized to before they are
// multiplied by a matrix of this type.
func (t WeightType) Activation() WeightType { return t.traits().act }

// Blocked reports whether matrices of this type are kept as their GGUF
// blocks and multiplied by QuantMatVec and QuantMatMul: every type but F32,
// Q8_0 (int8 values and float32 scales, Q8MatVec) and Q8_K (activations
// only).
func (t WeightType) Blocked() bool { return t != F32 && t != Q8_0 && t != Q8_K && t < numWeightTypes }

// RowBytes is the size of a row of k values of a blocked type; k must be
// a multiple of BlockLen.
func (t WeightType) RowBytes(k int) int { return k / t.BlockLen() * t.BlockBytes() }

// ActivationLens are the numbers of scales and of sums that
// QuantizeActivations writes for a row of k values quantized for weights
// of type t: one scale per block of the activation form, and one sum per
// block of 32 (Q8_0) or per 16 values (Q8_K).
func (t WeightType) ActivationLens(k int) (scales, sums int) {
	if t.Activation() == Q8_K {
		return k / QK, k / q8KSumLen
	}
	return k / Q8Block, k / Q8Block
}

// typeKernels are one quantized weight type's kernels in a tier. Q8_0 has
// quantize, matVec and tile: how its activations are quantized, its GEMV,
// and its GEMM tile (rows 0: the GEMM runs the GEMV per row). A blocked
// type has blockMatVec and blockTile instead; Q8_K has quantizeQ8K. F32's
// are the tier's MatMul entries.
type typeKernels struct {
	quantize func(xq []int8, xs []float32, x []float32)
	matVec   func(y []float32, wq []int8, ws []float32, xq []int8, xs []float32, k, n int)
	tile     q8Tile
	// packedTile, where set, is Q8_0's GEMM over A packed once per product
	// (q8MatMulPacked) in place of tile; the tier's matVec then computes the
	// same block chain (q8packed.go).
	packedTile q8PackedTile
	// matVec16 is Q8_0's GEMV against int16 activations (Q8MatVec16).
	matVec16 func(y []float32, wq []int8, ws []float32, xq []int16, xs []float32, k, n int)

	quantizeQ8K func(xq []int8, xs []float32, xsum []int16, x []float32)
	blockMatVec func(y []float32, w []byte, xq []int8, xs []float32, xsum []int16, k, n int)
	blockTile   blockTile
	chainTile   chainTile // instead of blockTile where fn is not nil
	// interleaved says an interleaved type's kernels are the tier's own,
	// not the generic twin over a plain copy (PrefersInterleaved).
	interleaved bool
}
