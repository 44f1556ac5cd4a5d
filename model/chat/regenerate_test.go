package chat

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRenderingsAreCurrent runs make_renderings.py again, where Python's
// jinja2 and llama.cpp's source are at hand (GOFORMER_LLAMACPP_SRC), and
// checks that it writes the committed fixture: the templates and jinja2's
// renderings are what the tests compare with.
func TestRenderingsAreCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the regeneration of the fixture in -short mode")
	}
	src := os.Getenv("GOFORMER_LLAMACPP_SRC")
	if src == "" {
		t.Skip("skipping: set GOFORMER_LLAMACPP_SRC to a llama.cpp checkout to regenerate testdata/renderings.json")
	}
	if err := exec.Command("python3", "-c", "import jinja2").Run(); err != nil {
		t.Skipf("skipping: python3 with jinja2 is not available (%v)", err)
	}
	out := t.TempDir()
	cmd := exec.Command("python3", filepath.Join("testdata", "make_renderings.py"), src, out)
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", msg)
	for _, name := range []string{"renderings.json"} {
		want, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(want, got), "%s differs from what make_renderings.py writes now: run it again", name)
	}
	names, err := filepath.Glob(filepath.Join(out, "templates", "*.jinja"))
	require.NoError(t, err)
	committed, err := filepath.Glob(filepath.Join("testdata", "templates", "*.jinja"))
	require.NoError(t, err)
	assert.Equal(t, len(committed), len(names))
	for _, name := range names {
		want, err := os.ReadFile(filepath.Join("testdata", "templates", filepath.Base(name)))
		require.NoError(t, err, "a template the committed fixture lacks")
		got, err := os.ReadFile(name)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(want, got), filepath.Base(name))
	}
}
