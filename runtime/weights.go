package runtime

import (
	"fmt"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/quant"
)

// Weights selects how the linear layers (every block's four matrices and
// an untied output projection) are kept in memory.
type Weights int

const (
	// F32Weights keeps the matrices as the checkpoint has them: fp32 (F16
	// widened), and int8 for a GGUF file's Q8_0 tensors. The default.
	F32Weights Weights = iota
	// Int8Weights quantizes every fp32 matrix at load to int8 blocks of 32
	// values with one scale each (GGUF's Q8_0); activations are quantized
	// on the fly and multiplied with the int8 kernels. It reads a quarter
	// of the bytes per token and changes the perplexity by well under 1%
	// (TestInt8WeightsPerplexity).
	Int8Weights
)

func (w Weights) String() string {
	if w == Int8Weights {
		return "int8"
	}
	return "f32"
}

// ParseWeights reads "f32" or "int8".
func ParseWeights(s string) (Weights, error) {
	switch s {
	case "f32":
		return F32Weights, nil
	case "int8":
		return Int8Weights, nil
	}
	return 0, fmt.Errorf("unknown weights %q (want f32 or int8)", s)
}

// newLinear wraps whichever form of an [out][in] matrix the weights hold,
// quantizing an fp32 one when opts ask for int8 weights.
func newLinear(name string, f32 []float32, q8 *quant.Matrix, out, in int, opts Options) (linear, error) {
	switch {
	case q8 != nil:
		return &q8Linear{m: q8}, nil
	case opts.Weights == F32Weights:
		return &f32Linear{w: f32, out: out, in: in}, nil
	case opts.Weights != Int8Weights:
		return nil, fmt.Errorf("unknown weights %d", opts.Weights)
	case in%kernels.Q8Block != 0:
		return nil, fmt.Errorf("%s: int8 weights need rows of a multiple of %d values, it has %d", name, kernels.Q8Block, in)
	}
	m, err := quant.QuantizeMatrix(f32, out, in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &q8Linear{m: m}, nil
}
