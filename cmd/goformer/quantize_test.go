package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuantizeCommand quantizes the llama-quantize testdata input with the
// CLI; bad usage is one line and status 2, a bad input one line and 1.
func TestQuantizeCommand(t *testing.T) {
	in := filepath.Join("..", "..", "model", "testdata", "quant", "input-f32.gguf")
	out := filepath.Join(t.TempDir(), "q.gguf")
	code, _, errOut := runCLI("", "quantize", in, out, "--type", "Q4_K_M", "-v")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "blk.0.ffn_down.weight")
	assert.Contains(t, errOut, "F32 -> Q6_K")
	assert.Contains(t, errOut, "wrote "+out+": Q4_K_M")
	_, err := os.Stat(out)
	assert.NoError(t, err)

	code, help, _ := runCLI("", "quantize", "-h")
	assert.Equal(t, 0, code)
	assert.Contains(t, help, "more(i, n) = i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2")

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{in, out, "--type", "Q3_K_S"}, 2, `quantization type "Q3_K_S" (goformer writes Q8_0, Q4_0, Q4_K_M, Q5_K_M, Q6_K)`},
		{[]string{in, out}, 2, "--type is required"},
		{[]string{in, "--type", "Q8_0"}, 2, "want IN and OUT, got 1 arguments"},
		{[]string{filepath.Join(filepath.Dir(in), "Q4_0.gguf"), out, "--type", "Q8_0"}, 1, "is already Q4_0"},
		{[]string{in, filepath.Join(t.TempDir(), "no", "q.gguf"), "--type", "Q8_0"}, 1, "cannot write"},
	} {
		code, _, errOut := runCLI("", append([]string{"quantize"}, c.args...)...)
		assert.Equal(t, c.code, code, c.args)
		assert.Contains(t, errOut, c.want, c.args)
		assert.Equal(t, 1, strings.Count(strings.TrimSpace(errOut), "\n")+1, "one line: %q", errOut)
	}
}
