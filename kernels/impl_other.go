//go:build purego || !(amd64 || arm64)

package kernels

// archTiers: this build has no assembly, so only the generic tier runs.
func archTiers() []*impl { return nil }

func archPackTranspose() func(dst, src []float32, ld, rows, cols int) { return nil }

func archPanelGemv(y, x, b []float32, width int) { panic("kernels: no assembly in this build") }
