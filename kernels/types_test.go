package kernels

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWeightTypeTraits(t *testing.T) {
	assert.Equal(t, "F32", F32.String())
	assert.Equal(t, "Q8_0", Q8_0.String())
	assert.Equal(t, "Q4_K", Q4_K.String())
	assert.Equal(t, 1, F32.BlockLen())
	assert.Equal(t, Q8Block, Q8_0.BlockLen())
	assert.Equal(t, QK, Q6_K.BlockLen())
	assert.Equal(t, 210, Q6_K.BlockBytes())
	assert.Equal(t, 2*144, Q4_K.RowBytes(512))
	assert.Equal(t, Q8_0, Q8_0.Activation())
	assert.Equal(t, F32, F32.Activation())
	assert.Equal(t, Q8_0, Q4_1.Activation())
	assert.Equal(t, Q8_K, Q5_K.Activation())
	assert.True(t, Q4_0.Blocked())
	assert.False(t, Q8_0.Blocked())
	assert.False(t, Q8_K.Blocked())
	assert.False(t, F32.Blocked())
	s, n := Q4_K.ActivationLens(512)
	assert.Equal(t, [2]int{2, 32}, [2]int{s, n})
	s, n = Q5_1.ActivationLens(512)
	assert.Equal(t, [2]int{16, 16}, [2]int{s, n})
	assert.PanicsWithValue(t, "kernels: unknown weight type 99", func() { _ = WeightType(99).String() })
}

// TestEveryTierHasEveryType: each tier fills the kernels of every quantized
// weight type (the generic twin at least), so a type added to the table
// without its kernels in some tier fails here, not at run time.
func TestEveryTierHasEveryType(t *testing.T) {
	for _, tier := range tiers {
		for typ := F32 + 1; typ < numWeightTypes; typ++ {
			k := tier.types[typ]
			switch {
			case typ == Q8_0:
				assert.NotNil(t, k.quantize, "%s %s: quantize", tier.name, typ)
				assert.NotNil(t, k.matVec, "%s %s: matVec", tier.name, typ)
				if k.tile.rows > 0 {
					assert.NotNil(t, k.tile.fn, "%s %s: tile", tier.name, typ)
				}
			case typ == Q8_K:
				assert.NotNil(t, k.quantizeQ8K, "%s %s: quantizeQ8K", tier.name, typ)
			default:
				assert.NotNil(t, k.blockMatVec, "%s %s: blockMatVec", tier.name, typ)
				if k.blockTile.rows > 0 {
					assert.NotNil(t, k.blockTile.fn, "%s %s: blockTile", tier.name, typ)
				}
			}
		}
	}
}
