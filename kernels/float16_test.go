package kernels

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFloat32ToFloat16 checks the narrowing against binary16's own values:
// every finite binary16 value comes back to itself, and the float32 just
// below, at and just above each midpoint between neighbours rounds to the
// nearer one, ties to the even one.
func TestFloat32ToFloat16(t *testing.T) {
	for h := range uint32(0x7c00) { // +0 … the largest finite value
		for _, s := range []uint16{0, 0x8000} {
			hv := uint16(h) | s
			v := Float16ToFloat32(hv)
			require.Equal(t, hv, Float32ToFloat16(v), "binary16 %#04x (%g)", hv, v)
			if h == 0x7bff {
				continue
			}
			next := Float16ToFloat32(uint16(h+1) | s)
			mid := float32((float64(v) + float64(next)) / 2) // exact: binary16 neighbours are 11 bits
			even := hv
			if h&1 == 1 {
				even = uint16(h+1) | s
			}
			assert.Equal(t, even, Float32ToFloat16(mid), "tie after %#04x", hv)
			below, above := math.Nextafter32(mid, v), math.Nextafter32(mid, next)
			assert.Equal(t, hv, Float32ToFloat16(below), "just below the midpoint after %#04x", hv)
			assert.Equal(t, uint16(h+1)|s, Float32ToFloat16(above), "just above the midpoint after %#04x", hv)
		}
	}
	assert.Equal(t, uint16(0x7c00), Float32ToFloat16(65520), "65520 ties up to Inf")
	assert.Equal(t, uint16(0x7bff), Float32ToFloat16(65519))
	assert.Equal(t, uint16(0xfc00), Float32ToFloat16(float32(math.Inf(-1))))
	assert.Equal(t, uint16(0x0000), Float32ToFloat16(0x1p-25), "half the smallest subnormal ties to 0")
	assert.Equal(t, uint16(0x0001), Float32ToFloat16(math.Nextafter32(0x1p-25, 1)))
	assert.Equal(t, uint16(0x8000), Float32ToFloat16(-1e-30))
	nan := Float32ToFloat16(float32(math.NaN()))
	assert.True(t, nan&0x7c00 == 0x7c00 && nan&0x3ff != 0, "NaN stays NaN: %#04x", nan)
}
