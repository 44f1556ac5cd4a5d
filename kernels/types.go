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
	numWeightTypes
)

// weightTraits describe a weight type independently of any tier.
type weightTraits struct {
	name string
	// blockLen is the number of values that share a block's scales (1 for
	// an unquantized type); a row is whole blocks.
	blockLen int
	// act is the form the activations take before the product: the
	// weight's own block format for Q8_0 (ggml's vec_dot_type), fp32 for
	// F32.
	act WeightType
}

var weightTypes = [numWeightTypes]weightTraits{
	F32:  {name: "F32", blockLen: 1, act: F32},
	Q8_0: {name: "Q8_0", blockLen: Q8Block, act: Q8_0},
}

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

// Activation is the type the activations are quantized to before they are
// multiplied by a matrix of this type.
func (t WeightType) Activation() WeightType { return t.traits().act }

// typeKernels are one quantized weight type's kernels in a tier: how its
// activations are quantized, its GEMV, and its GEMM tile (rows 0: the GEMM
// runs the GEMV per row). F32's are the tier's MatMul entries.
type typeKernels struct {
	quantize func(xq []int8, xs []float32, x []float32)
	matVec   func(y []float32, wq []int8, ws []float32, xq []int8, xs []float32, k, n int)
	tile     q8Tile
}
