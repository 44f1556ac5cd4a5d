package runtime

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// peersDir holds the project's tools for llama.cpp comparisons, among them
// gguf_convert.py, which writes a Hugging Face GPT-2 folder as llama.cpp's
// GGUF.
var peersDir = filepath.Join("..", "..", "shared", "peers")

// numpyPython finds a python3 that can import numpy.
var numpyPython = sync.OnceValue(func() string {
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			return p
		}
	}
	return ""
})

var ggufCache struct {
	sync.Mutex
	dir   string
	files map[string]string
}

// fixtureGGUF converts the gpt2-mini fixture to a GGUF of type typ (f32,
// f16, q8_0) once per test binary, or skips saying what is missing.
func fixtureGGUF(t *testing.T, typ string) string {
	return convertedGGUF(t, "gpt2-mini", typ)
}

// torchPython reports whether python can import torch, which
// llama_gguf_convert.py needs for llama3 scaling's rope_freqs tensor.
var torchPython = sync.OnceValue(func() bool {
	py := numpyPython()
	return py != "" && exec.Command(py, "-c", "import torch").Run() == nil
})

// convertedGGUF converts a shared fixture to a GGUF of type typ once per
// test binary, with the project's converters of llama.cpp's layouts:
// gguf_convert.py for GPT-2, llama_gguf_convert.py for the Llama family
// (llama with its q/k permutation and rope_freqs; qwen2). It skips saying
// what is missing.
func convertedGGUF(t *testing.T, fixture, typ string) string {
	t.Helper()
	script, needsTorch := "gguf_convert.py", false
	if fixture != "gpt2-mini" {
		script, needsTorch = "llama_gguf_convert.py", fixture == "llama-mini"
	}
	convert := filepath.Join(peersDir, script)
	if _, err := os.Stat(convert); err != nil {
		t.Skipf("skipping: %s is absent (it lives in the project's shared/ folder)", convert)
	}
	dir := sharedFixture(fixture)
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Skipf("skipping: the %s fixture is not at %s", fixture, dir)
	}
	py := numpyPython()
	if py == "" {
		t.Skipf("skipping: no python3 with numpy (apt-get install python3-numpy) to run %s", script)
	}
	if needsTorch && !torchPython() {
		t.Skipf("skipping: %s needs torch for %s's rope_freqs (apt-get install python3-torch)", script, fixture)
	}
	ggufCache.Lock()
	defer ggufCache.Unlock()
	key := fixture + "-" + typ
	if path, ok := ggufCache.files[key]; ok {
		return path
	}
	if ggufCache.dir == "" {
		dir, err := os.MkdirTemp("", "goformer-gguf-")
		if err != nil {
			t.Fatal(err)
		}
		ggufCache.dir, ggufCache.files = dir, map[string]string{}
	}
	path := filepath.Join(ggufCache.dir, key+".gguf")
	args := []string{convert, dir, "--type", typ, "-o", path}
	if script == "gguf_convert.py" {
		args = append(args, "--no-check")
	}
	out, err := exec.Command(py, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s --type %s: %v\n%s", script, typ, err, out)
	}
	ggufCache.files[key] = path
	return path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if ggufCache.dir != "" {
		os.RemoveAll(ggufCache.dir)
	}
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
