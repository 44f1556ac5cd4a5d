//go:build amd64 && !purego

package kernels

import (
	"os"
	"reflect"
	"testing"

	"github.com/goformer/goformer/asm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQ8AVX512Selected checks that the avx512 tier runs the VNNI int8
// kernels exactly when the CPU has VNNI, and that detection agrees with
// /proc/cpuinfo's avx512_vnni flag, which the Makefile reads independently
// of x/sys/cpu into GOFORMER_EXPECT_VNNI for the native run (as it reads
// the tier into GOFORMER_EXPECT_ISA).
func TestQ8AVX512Selected(t *testing.T) {
	expectDetected(t, "GOFORMER_EXPECT_VNNI", hasVNNI, "VNNI (avx512_vnni)")
	if !hasAVX512 {
		t.Skip("no AVX-512 tier on this CPU: its VNNI choice could not be checked here")
	}
	want := reflect.ValueOf(asm.Q8MatVecAVX2).Pointer()
	if hasVNNI {
		want = reflect.ValueOf(asm.Q8MatVecVNNI).Pointer()
	}
	assert.Equal(t, want, reflect.ValueOf(tierNamed(t, tiers, "avx512").types[Q8_0].matVec).Pointer(), "avx512 tier with VNNI %v", hasVNNI)
}

// TestQ8AVX512WithoutVNNI builds the avx512 tier as a core without VNNI
// (Skylake-X) gets it, AVX-512 with the AVX2 int8 kernels inside, and runs
// the int8 kernel tests on it: the combination no CPU with VNNI would run
// otherwise, as the cortex-a53 run does for NEON without dotprod.
func TestQ8AVX512WithoutVNNI(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512 on this CPU: the AVX-512-without-VNNI tier could not run here")
	}
	saved, savedAMX := hasVNNI, hasAMX
	hasVNNI, hasAMX = false, false
	forced := archTiers()[0]
	hasVNNI, hasAMX = saved, savedAMX
	require.Equal(t, "avx512", forced.name)
	require.Equal(t, reflect.ValueOf(asm.Q8MatVecAVX2).Pointer(), reflect.ValueOf(forced.types[Q8_0].matVec).Pointer())

	savedTiers := tiers
	defer func() { tiers = savedTiers }()
	tiers = []*impl{forced} // forEachTier runs the tests below on it alone
	for name, test := range map[string]func(*testing.T){
		"TestQ8MatVec": TestQ8MatVec, "TestQ8MatVecExact": TestQ8MatVecExact,
		"TestQ8MatMul": TestQ8MatMul, "TestQ8MatMulExact": TestQ8MatMulExact,
	} {
		t.Run(name, test)
	}
}

// tierNamed returns the tier of ts with that name, failing the test when
// there is none.
func tierNamed(t *testing.T, ts []*impl, name string) *impl {
	t.Helper()
	for _, tr := range ts {
		if tr.name == name {
			return tr
		}
	}
	t.Fatalf("no %s tier among %d", name, len(ts))
	return nil
}

// TestAMXSelected checks that the amx tier exists exactly when the CPU has
// AMX-INT8 (and the avx512 tier with VNNI) and Linux grants the tiles, that
// detection agrees with /proc/cpuinfo's amx_int8 flag (GOFORMER_EXPECT_AMX,
// which the Makefile reads for the native run), and that the tier runs the
// AMX int8 kernels and the avx512 tier's everywhere else.
func TestAMXSelected(t *testing.T) {
	expectDetected(t, "GOFORMER_EXPECT_AMX", hasAMX, "AMX (amx_int8 and amx_tile, with the tiles granted by arch_prctl)")
	if !hasAMX {
		t.Skip("no AMX on this CPU (or no permission for it): the amx tier could not run here")
	}
	amx, avx512 := tierNamed(t, tiers, "amx"), tierNamed(t, tiers, "avx512")
	require.Same(t, amx, tiers[0], "the amx tier comes first")
	q := amx.types[Q8_0]
	assert.Equal(t, reflect.ValueOf(q8MatVecAMX).Pointer(), reflect.ValueOf(q.matVec).Pointer())
	assert.Equal(t, reflect.ValueOf(q8TileAMX).Pointer(), reflect.ValueOf(q.packedTile).Pointer())
	assert.Equal(t, reflect.ValueOf(avx512.gemv).Pointer(), reflect.ValueOf(amx.gemv).Pointer(), "fp32 kernels are the avx512 tier's")
	assert.Equal(t, reflect.ValueOf(avx512.types[Q8_0].matVec16).Pointer(), reflect.ValueOf(q.matVec16).Pointer(), "the int16 GEMV is the avx512 tier's")
}

// expectDetected checks a detected feature against what the Makefile read
// from /proc/cpuinfo into the environment variable env ("1" or "0"), and
// only logs when the variable is not set.
func expectDetected(t *testing.T, env string, detected bool, what string) {
	t.Helper()
	switch os.Getenv(env) {
	case "":
		t.Logf("%s is not set: %s detected %v, not checked against /proc/cpuinfo", env, what, detected)
	case "1":
		assert.True(t, detected, "/proc/cpuinfo lists %s, but it was not detected", what)
	case "0":
		assert.False(t, detected, "%s was detected, but /proc/cpuinfo does not list it", what)
	default:
		t.Fatalf("%s=%q: want 1 or 0", env, os.Getenv(env))
	}
}
