package quant

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// python returns a python3 that can import numpy, or skips.
func python(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			return p
		}
	}
	t.Skip("skipping: no python3 with numpy (apt-get install python3-numpy)")
	return ""
}

// ggufPyDir checks llama.cpp's gguf-py out of the source bundle that
// node-llama-cpp ships ($GOFORMER_LLAMACPP/node_modules/node-llama-cpp/
// llama/gitRelease.bundle, as .ci/run installs it) into a temporary
// folder, or skips saying what is missing.
func ggufPyDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("GOFORMER_LLAMACPP")
	if root == "" {
		t.Skip("skipping: GOFORMER_LLAMACPP is not set (a folder with node-llama-cpp 3.21.1 installed; .ci/run sets it)")
	}
	bundle := filepath.Join(root, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle")
	if _, err := os.Stat(bundle); err != nil {
		t.Skipf("skipping: llama.cpp's source bundle is not at %s: %v", bundle, err)
	}
	dir := filepath.Join(t.TempDir(), "llama.cpp")
	for _, args := range [][]string{
		{"clone", "-q", "--depth", "1", "--no-checkout", bundle, dir},
		{"-C", dir, "checkout", "-q", "HEAD", "--", "gguf-py"},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return filepath.Join(dir, "gguf-py")
}
