package tokenizer

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFixtureCases checks the gpt2-mini fixture's cases, whose ids come from
// OpenAI's encoder.py with Python's regex module: GPT-2's own behaviour.
func TestFixtureCases(t *testing.T) {
	raw, err := os.ReadFile(sharedFixture(t, "tokenizer_cases.json"))
	require.NoError(t, err)
	var fixture struct {
		VocabSize int `json:"vocab_size"`
		Cases     []struct {
			Index int    `json:"index"`
			Class string `json:"class"`
			Text  string `json:"text"`
			Hex   string `json:"utf8_hex"`
			IDs   []int  `json:"ids"`
		} `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(raw, &fixture))
	require.NotEmpty(t, fixture.Cases)

	tok := loadGPT2(t)
	assert.Equal(t, fixture.VocabSize, tok.VocabSize())
	for _, c := range fixture.Cases {
		text, err := hex.DecodeString(c.Hex)
		require.NoError(t, err)
		require.Equal(t, c.Text, string(text), "case %d: text and utf8_hex disagree", c.Index)
		ids := tok.Encode(c.Text)
		if c.IDs == nil {
			c.IDs = []int{}
		}
		if ids == nil {
			ids = []int{}
		}
		assert.Equal(t, c.IDs, ids, "case %d (%s): %q", c.Index, c.Class, c.Text)
		back, err := tok.Decode(ids)
		require.NoError(t, err)
		assert.Equal(t, c.Text, back, "case %d (%s): round trip", c.Index, c.Class)
	}
}
