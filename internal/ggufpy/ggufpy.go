// Package ggufpy runs llama.cpp's gguf-py, the numpy dequantizers of every
// ggml block type, for tests that compare goformer's dequantization with
// it bit for bit. gguf-py comes out of the llama.cpp source bundle that
// node-llama-cpp ships ($GOFORMER_LLAMACPP); without it, or without a
// python3 with numpy, the tests skip saying what is missing. It imports
// nothing of goformer's.
package ggufpy

import (
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

//go:embed dequantize.py
var script []byte

// Blocks are Count raw blocks of the ggml type GGMLType.
type Blocks struct {
	GGMLType uint32
	Count    int
	Data     []byte
}

// Dequantize returns gguf-py's float32 values of each run of blocks, or
// skips t.
func Dequantize(t testing.TB, runs []Blocks) [][]float32 {
	t.Helper()
	py := python(t)
	dir := checkout(t)
	tmp := t.TempDir()
	var in []byte
	for _, r := range runs {
		in = binary.LittleEndian.AppendUint32(in, r.GGMLType)
		in = binary.LittleEndian.AppendUint32(in, uint32(r.Count))
		in = append(in, r.Data...)
	}
	paths := map[string][]byte{"dequantize.py": script, "blocks.bin": in}
	for name, b := range paths {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	outPath := filepath.Join(tmp, "values.bin")
	if out, err := exec.Command(py, filepath.Join(tmp, "dequantize.py"), dir, filepath.Join(tmp, "blocks.bin"), outPath).CombinedOutput(); err != nil {
		t.Fatalf("gguf-py: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	values := make([][]float32, len(runs))
	pos := 0
	for i := range runs {
		if pos+4 > len(raw) {
			t.Fatalf("gguf-py wrote %d runs, want %d", i, len(runs))
		}
		n := int(binary.LittleEndian.Uint32(raw[pos:]))
		pos += 4
		v := make([]float32, n)
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[pos+4*j:]))
		}
		values[i] = v
		pos += 4 * n
	}
	if pos != len(raw) {
		t.Fatalf("gguf-py wrote %d bytes, want %d", len(raw), pos)
	}
	return values
}

// python returns a python3 that can import numpy, or skips.
func python(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			return p
		}
	}
	t.Skip("skipping: no python3 with numpy (apt-get install python3-numpy)")
	return ""
}

var checkouts sync.Map // bundle path → gguf-py folder

// checkout checks gguf-py out of the bundle once per test binary, or
// skips.
func checkout(t testing.TB) string {
	t.Helper()
	root := os.Getenv("GOFORMER_LLAMACPP")
	if root == "" {
		t.Skip("skipping: GOFORMER_LLAMACPP is not set (a folder with node-llama-cpp 3.21.1 installed; .ci/run sets it)")
	}
	bundle := filepath.Join(root, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle")
	if _, err := os.Stat(bundle); err != nil {
		t.Skipf("skipping: llama.cpp's source bundle is not at %s: %v", bundle, err)
	}
	if d, ok := checkouts.Load(bundle); ok {
		return d.(string)
	}
	tmp, err := os.MkdirTemp("", "goformer-gguf-py-")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "llama.cpp")
	for _, args := range [][]string{
		{"clone", "-q", "--depth", "1", "--no-checkout", bundle, dir},
		{"-C", dir, "checkout", "-q", "HEAD", "--", "gguf-py"},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	d, _ := checkouts.LoadOrStore(bundle, filepath.Join(dir, "gguf-py"))
	return d.(string)
}

// Digest is the SHA-256 of values' float32 bits, little-endian: how tests
// record gguf-py's values to check them without it.
func Digest(values []float32) string {
	h := sha256.New()
	var b [4]byte
	for _, x := range values {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}
