package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScoreErrorNamesItsInput: a text score cannot score fails with one
// line naming where the text came from, a FILE or standard input (its
// other failures, a NaN logit or a score JSON cannot carry, go the same
// way).
func TestScoreErrorNamesItsInput(t *testing.T) {
	file := filepath.Join(t.TempDir(), "one-token.txt")
	require.NoError(t, os.WriteFile(file, []byte("Hi"), 0o644))
	for _, c := range []struct {
		args  []string
		where string
	}{
		{[]string{"score", "--json"}, "standard input"},
		{[]string{"score", file}, file},
	} {
		code, out, errOut := runCLI("Hi", c.args...)
		assert.Equal(t, 1, code, c.args)
		assert.Empty(t, out, c.args)
		assert.Equal(t, "goformer score: "+c.where+": score needs at least 2 tokens, got 1\n", errOut, c.args)
		assert.Equal(t, 1, strings.Count(errOut, "\n"))
	}
}
