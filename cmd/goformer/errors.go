package main

import (
	"fmt"
	"math"
)

// usageError is a one-line error about the command line; main exits with
// status 2 for it.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// finite maps the NaN or Inf of an empty measurement to 0, which JSON can
// carry.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}
