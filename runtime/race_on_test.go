//go:build race

package runtime

// raceEnabled: the race detector makes sync.Pool drop items on purpose, so
// the GEMM's pooled packing buffers are allocated again and allocation
// counts of a batched pass mean nothing.
const raceEnabled = true
