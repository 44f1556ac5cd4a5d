package runtime

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/goformer/goformer/model/chat"
)

// TestChatTemplateLlamaMini: the llama-mini folder's template, with its
// tokenizer_config.json's tokens, renders the reference's chat prompt to
// its text and ids.
func TestChatTemplateLlamaMini(t *testing.T) {
	skipUnderRace(t)
	m, _ := loadNamedFixture(t, "llama-mini", Options{})
	raw, err := os.ReadFile(filepath.Join(testkit.Fixture("llama-mini"), "reference.json"))
	require.NoError(t, err)
	var ref struct {
		Prompts []struct {
			Messages            []chat.Message `json:"messages"`
			AddGenerationPrompt bool           `json:"add_generation_prompt"`
			Text                string         `json:"text"`
			TokenIDs            []int          `json:"token_ids"`
		} `json:"prompts"`
	}
	require.NoError(t, json.Unmarshal(raw, &ref))
	assert.Equal(t, chat.Specials{BOS: "<|endoftext|>", EOS: "<|im_end|>"}, m.ChatSpecials())
	tmpl, err := m.ChatTemplate()
	require.NoError(t, err)
	again, err := m.ChatTemplate()
	require.NoError(t, err)
	assert.Same(t, tmpl, again, "parsed once")
	n := 0
	for _, p := range ref.Prompts {
		if p.Messages == nil {
			continue
		}
		n++
		text, err := tmpl.Render(p.Messages, p.AddGenerationPrompt)
		require.NoError(t, err)
		assert.Equal(t, p.Text, text)
		assert.Equal(t, p.TokenIDs, m.Tokenizer().EncodeChat(text))
	}
	assert.Equal(t, 1, n)
}

func TestChatTemplateAbsent(t *testing.T) {
	m := demoModel(t)
	_, err := m.ChatTemplate()
	assert.ErrorIs(t, err, chat.ErrNoTemplate)
}

// generated runs Generate and collects the ids and log-probabilities.
func generated(t *testing.T, s *Session, prompt []int, opts GenerateOptions) ([]int, []float64) {
	t.Helper()
	var ids []int
	var lps []float64
	for tok, err := range s.Generate(context.Background(), prompt, opts) {
		require.NoError(t, err)
		ids = append(ids, tok.ID)
		lps = append(lps, tok.Logprob)
	}
	return ids, lps
}

// TestRewindContinue: going on after a rewound prefix generates what a new
// sequence of the whole prompt does, bit for bit; the session then holds
// the prompt and the generated tokens run.
func TestRewindContinue(t *testing.T) {
	skipUnderRace(t)
	m := demoModel(t)
	prompt := m.Tokenizer().Encode("Once upon a time there was a little girl who")
	require.Greater(t, len(prompt), 6)
	p1, p2 := prompt[:5], prompt[5:]
	opts := GenerateOptions{MaxTokens: 8, IgnoreEOS: true}

	whole, err := m.NewSession(SessionOptions{})
	require.NoError(t, err)
	wantIDs, wantLPs := generated(t, whole, prompt, opts)

	s, err := m.NewSession(SessionOptions{})
	require.NoError(t, err)
	generated(t, s, append(append([]int{}, p1...), 1, 2, 3), GenerateOptions{MaxTokens: 4, IgnoreEOS: true})
	require.NoError(t, s.Rewind(len(p1)))
	cont := opts
	cont.Continue = true
	ids, lps := generated(t, s, p2, cont)
	assert.Equal(t, wantIDs, ids)
	assert.Equal(t, wantLPs, lps)
	assert.Equal(t, len(prompt)+len(ids)-1, s.Pos(), "the last of MaxTokens is not run")
	assert.Equal(t, len(p2), s.Stats().PromptTokens)

	assert.ErrorContains(t, s.Rewind(s.Pos()+1), "the session holds")
	assert.ErrorContains(t, s.Rewind(-1), "rewind to -1")
	var gotErr error
	for _, err := range s.Generate(context.Background(), nil, cont) {
		gotErr = err
	}
	assert.ErrorIs(t, gotErr, ErrBadOptions)
}

// TestRewindAfterSlide: once a RoPE session has slid past its capacity, a
// rewind that keeps part of it is refused.
func TestRewindAfterSlide(t *testing.T) {
	skipUnderRace(t)
	m, _ := loadNamedFixture(t, "llama-mini", Options{})
	s, err := m.NewSession(SessionOptions{Capacity: 8})
	require.NoError(t, err)
	generated(t, s, []int{1, 2, 3, 4, 5}, GenerateOptions{MaxTokens: 4, IgnoreEOS: true})
	require.NoError(t, s.Rewind(3), "nothing slid yet")
	generated(t, s, []int{6, 7, 8, 9}, GenerateOptions{MaxTokens: 4, IgnoreEOS: true, Continue: true})
	require.Greater(t, s.Pos(), 8)
	assert.ErrorIs(t, s.Rewind(3), ErrEvicted)
	assert.NoError(t, s.Rewind(s.Pos()))
	assert.NoError(t, s.Rewind(0))
}
