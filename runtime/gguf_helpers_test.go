package runtime

import (
	"math"
	"os"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
)

// fixtureGGUF converts the gpt2-mini fixture to a GGUF of type typ (f32,
// f16, q8_0) once per test binary, or skips saying what is missing.
func fixtureGGUF(t *testing.T, typ string) string {
	return testkit.ConvertedGGUF(t, "gpt2-mini", typ)
}

func TestMain(m *testing.M) {
	code := m.Run()
	testkit.RemoveConverted()
	os.Exit(code)
}

// roundF16 rounds x to the nearest IEEE binary16 value, ties to even, as
// numpy's astype(float16) does; x is well inside binary16's range.
func roundF16(x float32) float32 {
	if x == 0 {
		return x
	}
	_, e := math.Frexp(float64(x)) // |x| = m·2^e, m in [0.5, 1)
	// binary16 keeps 11 significant bits down to 2^-14 and a fixed quantum
	// of 2^-24 below.
	q := math.Ldexp(1, max(e-11, -24))
	return float32(math.RoundToEven(float64(x)/q) * q)
}

func roundAllF16(src []float32) []float32 {
	dst := make([]float32, len(src))
	for i, v := range src {
		dst[i] = roundF16(v)
	}
	return dst
}
