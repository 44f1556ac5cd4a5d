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

// failedLinesError reports that run --prompts or score --lines printed a
// result for every line but some of those results are errors. It is an
// ordinary failure, not a usage error: main prints it as one line on
// stderr and exits with status 1, so that a script can tell.
type failedLinesError struct {
	failed, total int
	// what the lines are ("prompts", "texts") and where their errors
	// were printed.
	what, where string
}

// Error reads like "2 of 5 prompts failed (see their "error" fields)".
func (e *failedLinesError) Error() string {
	return fmt.Sprintf("%d of %d %s failed (see %s)", e.failed, e.total, e.what, e.where)
}

// failedLines is a *failedLinesError when any line failed, else nil.
func failedLines(failed, total int, what, where string) error {
	if failed == 0 {
		return nil
	}
	return &failedLinesError{failed: failed, total: total, what: what, where: where}
}
