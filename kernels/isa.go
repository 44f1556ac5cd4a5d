package kernels

import (
	"fmt"
	"os"
	"strings"
)

// impl is one instruction-set tier: a table of implementations of every kernel.
// The generic tier fills every entry; a SIMD tier starts as a copy of the
// generic table and overrides what it accelerates.
type impl struct {
	name string

	gemv func(y, x, w, bias []float32, k, n int)
	// gemm computes columns [j0, j1) of the product; splitting [0, n) at
	// multiples of gemmAlign leaves every column's arithmetic unchanged.
	gemm      func(c, a, w, bias []float32, m, k, n, j0, j1 int)
	gemmAlign int

	// gemvBatch computes m rows of C (row stride ldc) from W as stored,
	// reading it once; MatMul uses it for 2 ≤ m ≤ gemvBatchMaxM, and
	// gemvBatchMaxM is 0 in tiers without one.
	gemvBatch     func(c, a, w, bias []float32, m, k, n, ldc int)
	gemvBatchMaxM int

	// panelWidth is the Width PackPanels packs for this tier; its panel
	// GEMV (panelAsm: archPanelGemv for that width, else the generic one)
	// and panelGemm read Panels of that width (the generic tier's read any).
	// panelGemm computes columns [j0, j1) of the product, splittable at
	// multiples of panelWidth like gemm.
	panelWidth int
	panelAsm   bool
	panelGemm  func(c, a []float32, p *Panels, bias []float32, m, j0, j1 int)
	// q8PanelTiles[r] is the Q8Panels tile of r rows of A (q8panels.go);
	// a tier without them runs the generic twins.
	q8PanelTiles [q8PanelGroup + 1]q8PanelTile

	softmax   func(x []float32)
	exp       func(dst, x []float32)
	layerNorm func(out, x, gain, bias []float32, eps float32)
	rmsNorm   func(out, x, gain []float32, eps float32)
	gelu      func(out, x []float32)
	swiglu    func(out, gate, up []float32)
	add       func(dst, a, b []float32)
	scale     func(x []float32, s float32)
	dot       func(a, b []float32) float32
	axpy      func(y []float32, alpha float32, x []float32)
	// axpyRowsTiles are AxpyRows's register tiles by row count; tiers
	// without them run AxpyRows through axpy.
	axpyRowsTiles []axpyRowsTile
	// axpyRowsCols is the columns one tile covers; axpyRowsMasked says
	// whether a tile takes a mask of them (AVX-512) or covers them all
	// (AVX2, whose last columns then run through axpy).
	axpyRowsCols   int
	axpyRowsMasked bool

	ropeHalf        func(x, cos, sin []float32)
	ropeInterleaved func(x, cos, sin []float32)

	// types holds the kernels of each quantized weight type (types[F32]
	// is unused: fp32 is gemv and gemm above).
	types [numWeightTypes]typeKernels
}

// tiers lists the tiers compiled into this binary that the CPU can run, best
// first; the generic tier is always last. archTiers is defined once per
// architecture (impl_amd64.go, impl_arm64.go, impl_other.go).
var tiers = append(archTiers(), genericImpl)

// active is the tier every public kernel dispatches to; envError remembers
// why GOFORMER_ISA could not be honoured. Package variables are initialized
// in dependency order, so both are set before any init function runs.
var active, envError = selectFromEnv(os.Getenv("GOFORMER_ISA"))

// ISA reports the tier the kernels run on: "amx", "avx512", "avx2", "neon" or
// "generic". The amx tier is the avx512 tier with its int8 (Q8_0) products
// on AMX tiles.
func ISA() string { return active.name }

// ISAs lists the tiers this CPU can run in this build, best first; the last
// is always "generic".
func ISAs() []string {
	names := make([]string, len(tiers))
	for i, t := range tiers {
		names[i] = t.name
	}
	return names
}

// SetISA selects a tier by name. It fails, leaving the tier unchanged, when
// the name is unknown or the CPU (or the build) cannot run it. It is meant for
// start-up and tests; do not call it while kernels are running.
func SetISA(name string) error {
	for _, t := range tiers {
		if t.name == name {
			active = t
			return nil
		}
	}
	return unavailable(name)
}

// EnvError reports why the GOFORMER_ISA environment variable was not honoured,
// or nil. The kernels then run on the best available tier; programs should
// report this error rather than silently run a tier the user did not ask for.
func EnvError() error { return envError }

func knownISA(name string) bool {
	switch name {
	case "generic", "avx2", "avx512", "amx", "neon":
		return true
	}
	return false
}

// selectFromEnv picks the tier named by GOFORMER_ISA, or the best one.
func selectFromEnv(name string) (*impl, error) {
	if name != "" {
		for _, t := range tiers {
			if t.name == name {
				return t, nil
			}
		}
		return tiers[0], fmt.Errorf("GOFORMER_ISA=%s: %w", name, unavailable(name))
	}
	return tiers[0], nil
}

func unavailable(name string) error {
	if !knownISA(name) {
		return fmt.Errorf("kernels: unknown ISA %q (want one of generic, avx2, avx512, neon)", name)
	}
	return fmt.Errorf("kernels: ISA %q is not available on this CPU or build (available: %s)", name, strings.Join(ISAs(), ", "))
}

// withGeneric returns a copy of the generic table renamed to name, for a SIMD
// tier to override.
func withGeneric(name string) *impl {
	t := *genericImpl
	t.name = name
	return &t
}
