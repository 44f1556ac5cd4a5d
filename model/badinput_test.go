package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/model/modeltest"
	"github.com/goformer/goformer/model/tokenizer"
)

// TestBadInputCorpus runs every loader over the corpus (modeltest.BadInputs):
// each case is an error, never a panic, of one line naming the file at
// fault.
func TestBadInputCorpus(t *testing.T) {
	corpus := modeltest.BadInputs()
	counts := map[string]int{}
	for _, c := range corpus {
		counts[c.Kind()]++
		t.Run(c.Name, func(t *testing.T) {
			path, want, err := c.Write(t.TempDir())
			require.NoError(t, err)
			err = noPanic(t, func() error {
				ck, err := Load(path)
				if err == nil && c.Files != nil {
					// The weights loaded: the fault is in the tokenizer's files.
					_, err = tokenizer.LoadDir(path)
				}
				if ck != nil {
					ck.Close()
				}
				return err
			})
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "\n", "one line")
			assert.Contains(t, err.Error(), want, "names the file")
		})
	}
	t.Logf("bad-input corpus: %d cases %v", len(corpus), counts)
}

func noPanic(t *testing.T, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic: %v", r)
		}
	}()
	return f()
}
