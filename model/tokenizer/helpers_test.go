package tokenizer

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// gpt2 is GPT-2's tokenizer, loaded once from the copy of its vocab.json and
// merges.txt in testdata.
var gpt2 = sync.OnceValues(func() (*Tokenizer, error) { return LoadDir("testdata") })

func loadGPT2(tb testing.TB) *Tokenizer {
	tb.Helper()
	tok, err := gpt2()
	require.NoError(tb, err)
	return tok
}

// sharedFixture is the path of a file of the gpt2-mini fixture in the
// read-only shared folder beside the repository; the test skips without it.
func sharedFixture(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join("..", "..", "..", "shared", "fixtures", "gpt2-mini", name)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared fixture %s is absent (%v): skipping", p, err)
	}
	return p
}

func readGzip(tb testing.TB, path string) string {
	tb.Helper()
	f, err := os.Open(path)
	require.NoError(tb, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(tb, err)
	b, err := io.ReadAll(zr)
	require.NoError(tb, err)
	return string(b)
}
