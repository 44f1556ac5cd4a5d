package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Ragged sizes around the tile edge, against the definition.
func TestTranspose(t *testing.T) {
	for _, rows := range []int{1, 3, 15, 16, 17, 40} {
		for _, cols := range []int{1, 2, 16, 33} {
			src := make([]float32, rows*cols)
			for i := range src {
				src[i] = float32(i) + 0.5
			}
			want := make([]float32, rows*cols)
			for i := range rows {
				for j := range cols {
					want[j*rows+i] = src[i*cols+j]
				}
			}
			got := make([]float32, rows*cols)
			for i := range got {
				got[i] = -1 // poison
			}
			transpose(got, src, rows, cols)
			assert.Equal(t, want, got, "%d×%d", rows, cols)
		}
	}
}
