package runtime

import (
	"errors"
	"fmt"
	"math"
)

// ErrNonFinite is a forward pass that produced a NaN or infinite logit.
// The loaders refuse non-finite weights, so it means the activations
// overflowed float32 (weights of extreme magnitude); it is reported instead
// of sampling from, or printing, a NaN.
var ErrNonFinite = errors.New("non-finite logits")

// checkLogits reports the first NaN or ±Inf among the logits the forward
// pass computed at position pos (predicting the token after it). It reads
// the logits once and allocates nothing unless it fails.
func checkLogits(logits []float32, pos int) error {
	for id, x := range logits {
		if math.Float32bits(x)&0x7f800000 == 0x7f800000 {
			return fmt.Errorf("logits at position %d: token %d has logit %v (the activations overflowed float32; the weights were finite at load): %w",
				pos, id, x, ErrNonFinite)
		}
	}
	return nil
}
