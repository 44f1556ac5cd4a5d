package kernels

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWeightTypeTraits(t *testing.T) {
	assert.Equal(t, "F32", F32.String())
	assert.Equal(t, "Q8_0", Q8_0.String())
	assert.Equal(t, 1, F32.BlockLen())
	assert.Equal(t, Q8Block, Q8_0.BlockLen())
	assert.Equal(t, Q8_0, Q8_0.Activation())
	assert.Equal(t, F32, F32.Activation())
	assert.PanicsWithValue(t, "kernels: unknown weight type 9", func() { _ = WeightType(9).String() })
}

// TestEveryTierHasEveryType: each tier fills the kernels of every quantized
// weight type (the generic twin at least), so a type added to the table
// without its kernels in some tier fails here, not at run time.
func TestEveryTierHasEveryType(t *testing.T) {
	for _, tier := range tiers {
		for typ := F32 + 1; typ < numWeightTypes; typ++ {
			k := tier.types[typ]
			assert.NotNil(t, k.quantize, "%s %s: quantize", tier.name, typ)
			assert.NotNil(t, k.matVec, "%s %s: matVec", tier.name, typ)
			if k.tile.rows > 0 {
				assert.NotNil(t, k.tile.fn, "%s %s: tile", tier.name, typ)
			}
		}
	}
}
