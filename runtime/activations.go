package runtime

import "fmt"

// Activations selects how a quantized matrix's input is rounded (every
// linear of a GGUF block type, Q8_0, or --weights int8).
type Activations int

const (
	// Int8Activations quantizes each input row to the type's int8 blocks
	// on the fly (Q8_0 blocks of 32 for the types of 32, Q8_K blocks of 256
	// for the K-quants), as llama.cpp does: log-probs land 1e-2 to 9e-2 from
	// a float64 pass over the same weights, nearly all of it this rounding.
	// The default.
	Int8Activations Activations = iota
	// TwoPassActivations also multiplies what that rounding left out,
	// quantized the same way (quant.BlockMatrix.MatVecTwoPass): each
	// product lands ~250 times nearer exact activations, for a second
	// product per matrix (decode and prefill at about half the speed).
	TwoPassActivations
)

func (a Activations) String() string {
	if a == TwoPassActivations {
		return "int8x2"
	}
	return "int8"
}

// ParseActivations reads "int8" or "int8x2".
func ParseActivations(s string) (Activations, error) {
	switch s {
	case "int8":
		return Int8Activations, nil
	case "int8x2":
		return TwoPassActivations, nil
	}
	return 0, fmt.Errorf("unknown activations %q (want int8 or int8x2)", s)
}
