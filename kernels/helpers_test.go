package kernels

import (
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forEachTier runs f once per tier this CPU can run, generic included, with
// that tier active. Under emulation (GOFORMER_EMULATED, set by the test
// command's qemu steps) the generic tier is left out: it is Go code the
// purego step runs natively, and emulating it took a third of those steps.
func forEachTier(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := active
	defer func() { active = saved }()
	for _, tier := range tiers {
		if emulated && tier == genericImpl {
			continue
		}
		active = tier
		t.Run(tier.name, f)
	}
}

// emulated: the tests run under qemu (see forEachTier).
var emulated = os.Getenv("GOFORMER_EMULATED") != ""

// TestExpectedTier fails when the tier the CPU should get is not the one
// detected. The test command sets GOFORMER_EXPECT_ISA for each run whose CPU
// it knows (native, qemu Haswell, qemu cortex-a53, qemu max), so a broken
// detection is a failure, never a silent fall-back to a slower tier.
func TestExpectedTier(t *testing.T) {
	want := os.Getenv("GOFORMER_EXPECT_ISA")
	if want == "" {
		t.Skip("GOFORMER_EXPECT_ISA is not set; running on", ISA(), "of", ISAs())
	}
	require.NoError(t, EnvError())
	assert.Equal(t, want, ISA(), "detected tiers: %v", ISAs())
}

func TestSetISA(t *testing.T) {
	saved := active
	defer func() { active = saved }()
	require.NoError(t, SetISA("generic"))
	assert.Equal(t, "generic", ISA())
	assert.ErrorContains(t, SetISA("sse9"), `unknown ISA "sse9"`)
	for _, name := range []string{"avx2", "avx512", "neon"} {
		require.NoError(t, SetISA("generic"))
		if err := SetISA(name); err != nil {
			assert.ErrorContains(t, err, "not available")
			assert.Equal(t, "generic", ISA(), "a failed SetISA leaves the tier unchanged")
		} else {
			assert.Equal(t, name, ISA())
		}
	}
	_, err := selectFromEnv("bogus")
	assert.ErrorContains(t, err, "GOFORMER_ISA=bogus")
}

// guarded is a slice of n elements at an unaligned offset inside a larger
// buffer: the elements are poisoned with NaN, and guard elements on both
// sides hold a sentinel that check asserts is untouched.
type guarded struct {
	buf  []float32
	off  int
	n    int
	data []float32
}

const (
	guardLen = 19
	sentinel = float32(-12345.678)
)

func newGuarded(n, misalign int) *guarded {
	g := &guarded{buf: make([]float32, n+2*guardLen+misalign), off: guardLen + misalign, n: n}
	for i := range g.buf {
		g.buf[i] = sentinel
	}
	g.data = g.buf[g.off : g.off+n : g.off+n]
	for i := range g.data {
		g.data[i] = float32(math.NaN())
	}
	return g
}

// guardedCopy is newGuarded filled with src.
func guardedCopy(src []float32, misalign int) *guarded {
	g := newGuarded(len(src), misalign)
	copy(g.data, src)
	return g
}

func (g *guarded) check(t *testing.T) {
	t.Helper()
	for i := 0; i < g.off; i++ {
		if g.buf[i] != sentinel {
			t.Fatalf("guard element %d before the output was overwritten: %v", g.off-i, g.buf[i])
		}
	}
	for i := g.off + g.n; i < len(g.buf); i++ {
		if g.buf[i] != sentinel {
			t.Fatalf("guard element %d after the output was overwritten: %v", i-g.off-g.n, g.buf[i])
		}
	}
}

// maxAbsDiff is max |got − want|; a NaN makes it +Inf.
func maxAbsDiff(got []float32, want []float64) float64 {
	var m float64
	for i, w := range want {
		g := float64(got[i])
		if math.IsNaN(g) || math.IsInf(g, 0) {
			return math.Inf(1)
		}
		m = max(m, math.Abs(g-w))
	}
	return m
}

// ragged lists every length 0..80 and some longer ones that leave tails for
// every vector width.
func ragged() []int {
	var ns []int
	for n := 0; n <= 80; n++ {
		ns = append(ns, n)
	}
	return append(ns, 127, 255, 257, 768, 1023, 3072, 50257)
}
