package kernels

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// fma32Exact is a·b + c rounded once to float32, through math/big.
func fma32Exact(a, b, c float32) float32 {
	x := new(big.Float).SetPrec(1000).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetFloat64(float64(c)))
	f, _ := x.Float32() // nearest, ties to even
	return f
}

// TestFMA32 checks fma32 against exact arithmetic on random operands of
// every magnitude and on operands built so that the float64 sum lands on a
// float32 midpoint while the exact sum does not (where rounding twice
// goes wrong).
func TestFMA32(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func() float32 {
		return float32(rng.NormFloat64() * math.Exp2(float64(rng.IntN(60)-30)))
	}
	bad := 0
	check := func(a, b, c float32) {
		if got, want := fma32(a, b, c), fma32Exact(a, b, c); math.Float32bits(got) != math.Float32bits(want) {
			if bad++; bad < 5 {
				t.Errorf("fma32(%g, %g, %g) = %g, want %g", a, b, c, got, want)
			}
		}
	}
	for range 200000 {
		check(rnd(), rnd(), rnd())
	}
	// Midpoints: with m a float32 in [1, 2) and h half its ulp, a·b =
	// h·(1+i·2⁻²³)·(1-i·2⁻²³) = h - h·i²·2⁻⁴⁶ is a hair below h, far below
	// float64's resolution of m: the float64 sum rounds to the midpoint
	// m + h, while the exact sum rounds down to m.
	midpoints := 0
	for range 20000 {
		m := float32(1 + rng.Float64())
		h := math.Exp2(-24)
		i := float64(1 + rng.IntN(8))
		a := float32(h * (1 + math.Exp2(-23)*i))
		b := float32(1 - math.Exp2(-23)*i)
		if s := float64(a)*float64(b) + float64(m); math.Float64bits(s)&(1<<29-1) == 1<<28 {
			midpoints++
		}
		check(a, b, m)
		check(-a, b, -m)
	}
	// Subnormal results.
	for range 20000 {
		a := float32(rng.NormFloat64() * 0x1p-70)
		b := float32(rng.NormFloat64() * 0x1p-70)
		c := float32(rng.NormFloat64() * 0x1p-140)
		check(a, b, c)
	}
	assert.Zero(t, bad)
	assert.Greater(t, midpoints, 100, "the midpoint cases did not reach a midpoint")
}
