package chat_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/model/chat"
	"github.com/goformer/goformer/model/tokenizer"
)

// TestLlamaMiniChat renders the chat prompts of the llama-mini fixture
// with the template of its tokenizer_config.json and tokenizes them: text
// and ids as transformers made them.
func TestLlamaMiniChat(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "fixtures", "llama-mini")
	data, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	if err != nil {
		t.Skipf("llama-mini fixture absent (%v): it lives in ../shared/fixtures", err)
	}
	type rendering struct {
		Name                string         `json:"name"`
		Messages            []chat.Message `json:"messages"`
		AddGenerationPrompt bool           `json:"add_generation_prompt"`
		Text                string         `json:"text"`
		TokenIDs            []int          `json:"token_ids"`
	}
	var ref struct {
		Prompts    []rendering `json:"prompts"`
		Renderings []rendering `json:"chat_template_renderings"`
	}
	require.NoError(t, json.Unmarshal(data, &ref))
	tok, err := tokenizer.LoadDir(dir)
	require.NoError(t, err)
	src, ok := tok.ChatTemplate("")
	require.True(t, ok, "tokenizer_config.json has a chat_template")
	bos, _ := tok.BOS()
	eos, _ := tok.EOS()
	bosText, _ := tok.Token(bos)
	eosText, _ := tok.Token(eos)
	assert.Equal(t, "<|im_end|>", string(eosText), "tokenizer_config.json's eos_token")
	tmpl, err := chat.Parse(src, chat.Specials{BOS: string(bosText), EOS: string(eosText)})
	require.NoError(t, err)

	cases := ref.Renderings
	for _, p := range ref.Prompts {
		if p.Messages != nil {
			cases = append(cases, p)
		}
	}
	require.Len(t, cases, 3)
	for _, c := range cases {
		text, err := tmpl.Render(c.Messages, c.AddGenerationPrompt)
		require.NoError(t, err, c.Name)
		assert.Equal(t, c.Text, text, c.Name)
		assert.Equal(t, c.TokenIDs, tok.EncodeChat(text), c.Name)
	}
}
