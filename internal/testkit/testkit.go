// Package testkit is what goformer's tests share: where the project's
// shared folder is (the trained fixtures, the GGUF converters), the GGUF
// files converted from those fixtures, fixed-seed random inputs and the
// relative error they are judged by. Only tests import it; it imports
// nothing of goformer's, so every package's tests can.
package testkit

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sync"
	"testing"
)

// root is the module's folder, found from this file's path, so that the
// paths below do not depend on the package a test runs in.
var root = func() string {
	_, file, _, _ := goruntime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}()

// Shared is the path of elem inside the project's shared folder, the
// module's sibling ../shared: fixtures/NAME (trained checkpoints and their
// PyTorch float64 references) and peers (converters, llama.cpp scripts).
func Shared(elem ...string) string {
	return filepath.Join(append([]string{root, "..", "shared"}, elem...)...)
}

// Fixture is the folder of the shared fixture name (gpt2-mini, llama-mini,
// qwen2-mini).
func Fixture(name string) string { return Shared("fixtures", name) }

// RandF32 returns n values uniform in [-scale, scale], none of them zero,
// from a generator seeded by seed.
func RandF32(seed uint64, n int, scale float32) []float32 {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	v := make([]float32, n)
	for i := range v {
		for v[i] == 0 {
			v[i] = (rng.Float32()*2 - 1) * scale
		}
	}
	return v
}

// RelL2 is ‖got − want‖₂ / ‖want‖₂, or ‖got‖₂ when want is all zeros. A NaN
// or an infinity in got makes it +Inf.
func RelL2(got []float32, want []float64) float64 {
	var num, den float64
	for i, w := range want {
		g := float64(got[i])
		if math.IsNaN(g) || math.IsInf(g, 0) {
			return math.Inf(1)
		}
		num += (g - w) * (g - w)
		den += w * w
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

// NumpyPython finds a python3 that can import numpy, or returns "".
var NumpyPython = sync.OnceValue(func() string {
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			return p
		}
	}
	return ""
})

// TorchPython reports whether NumpyPython can import torch, which
// llama_gguf_convert.py needs for llama3 scaling's rope_freqs tensor.
var TorchPython = sync.OnceValue(func() bool {
	py := NumpyPython()
	return py != "" && exec.Command(py, "-c", "import torch").Run() == nil
})

var converted struct {
	sync.Mutex
	dir   string
	files map[string]string
}

// ConvertedGGUF converts a shared fixture to a GGUF of type typ (f32, f16,
// q8_0) once per test binary, with the project's converters of llama.cpp's
// layouts: gguf_convert.py for GPT-2, llama_gguf_convert.py for the Llama
// family (llama with its q/k permutation and rope_freqs; qwen2). It skips
// saying what is missing. RemoveConverted deletes the files.
func ConvertedGGUF(t testing.TB, fixture, typ string) string {
	t.Helper()
	script, needsTorch := "gguf_convert.py", false
	if fixture != "gpt2-mini" {
		script, needsTorch = "llama_gguf_convert.py", fixture == "llama-mini"
	}
	convert := Shared("peers", script)
	if _, err := os.Stat(convert); err != nil {
		t.Skipf("skipping: %s is absent (it lives in the project's shared/ folder)", convert)
	}
	dir := Fixture(fixture)
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Skipf("skipping: the %s fixture is not at %s", fixture, dir)
	}
	py := NumpyPython()
	if py == "" {
		t.Skipf("skipping: no python3 with numpy (apt-get install python3-numpy) to run %s", script)
	}
	if needsTorch && !TorchPython() {
		t.Skipf("skipping: %s needs torch for %s's rope_freqs (apt-get install python3-torch)", script, fixture)
	}
	converted.Lock()
	defer converted.Unlock()
	key := fixture + "-" + typ
	if path, ok := converted.files[key]; ok {
		return path
	}
	if converted.dir == "" {
		d, err := os.MkdirTemp("", "goformer-gguf-")
		if err != nil {
			t.Fatal(err)
		}
		converted.dir, converted.files = d, map[string]string{}
	}
	path := filepath.Join(converted.dir, key+".gguf")
	args := []string{convert, dir, "--type", typ, "-o", path}
	if script == "gguf_convert.py" {
		args = append(args, "--no-check")
	}
	cmd := exec.Command(py, args...)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1") // ../shared may be read-only
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s --type %s: %v\n%s", script, typ, err, out)
	}
	converted.files[key] = path
	return path
}

// RemoveConverted deletes ConvertedGGUF's files: for a TestMain, after
// m.Run.
func RemoveConverted() {
	converted.Lock()
	defer converted.Unlock()
	if converted.dir != "" {
		os.RemoveAll(converted.dir)
		converted.dir, converted.files = "", nil
	}
}
