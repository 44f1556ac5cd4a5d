package tokenizer

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chunkText is a long random text: randomText's atoms in lines that end,
// and start, with letters, digits, punctuation and spaces, with \r\n and
// \r endings, specials' text, and stray UTF-8 lead bytes before line
// breaks (which SentencePiece takes the next bytes into).
func chunkText(r *rand.Rand, specials []string) string {
	var b strings.Builder
	edges := []string{"a", "Z", "9", ".", " ", "é", "\xe2", "\xc3", "\xf0", "\xff", "'s", ")", "\t", "ß", "1000", "!!"}
	breaks := []string{"\n", "\n", "\r\n", "\r", "\n\n", " \n", "\n "}
	for range 40 {
		b.WriteString(edges[r.IntN(len(edges))])
		b.WriteString(randomText(r))
		if len(specials) > 0 && r.IntN(4) == 0 {
			b.WriteString(specials[r.IntN(len(specials))])
		}
		b.WriteString(edges[r.IntN(len(edges))])
		b.WriteString(breaks[r.IntN(len(breaks))])
	}
	return b.String()
}

// chunkedIDs encodes text through encodeChunks in chunks of size bytes,
// read one byte at a time when oneByte is set; it returns the ids and the
// number of chunks.
func chunkedIDs(t *testing.T, tok *Tokenizer, text string, special bool, size int, oneByte bool) ([]int, int) {
	var r io.Reader = strings.NewReader(text)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	var ids []int
	n := 0
	for chunk, err := range tok.encodeChunks(r, special, size) {
		require.NoError(t, err)
		ids = append(ids, chunk...)
		n++
	}
	return ids, n
}

// gpt2Lists is GPT-2's first n tokens, from testdata, and the merges that
// make them (merge i makes token 256+i).
func gpt2Lists(t *testing.T, n int) ([]string, [][2]string) {
	vocab, err := os.ReadFile(filepath.Join("testdata", VocabFile))
	require.NoError(t, err)
	mergeText, err := os.ReadFile(filepath.Join("testdata", MergesFile))
	require.NoError(t, err)
	tokens, _, err := parseVocab(VocabFile, vocab)
	require.NoError(t, err)
	mergeList, _, err := parseMerges(MergesFile, mergeText)
	require.NoError(t, err)
	return tokens[:n], mergeList[:n-256]
}

// TestChunkedEqualsWhole: for every pre-tokenizer goformer implements, and
// for SentencePiece (with its dummy prefix at every fragment or at the
// start only), the ids EncodeReader yields chunk by chunk are those of
// the whole text, with and without specials, on seeded random text cut
// into chunks of 2 to 64 bytes, so that nearly every permitted cut is
// taken. Specials and pieces that hold a letter next to a line break
// ("x\n", "\nq", "d\n") forbid the cuts they would span.
func TestChunkedEqualsWhole(t *testing.T) {
	tokens, mergeList := gpt2Lists(t, 4000)
	tokens = append(tokens, "x\n", "\nq", "<|im_start|>", "<|endoftext|>", "   ")
	specials := []string{"x\n", "\nq", "<|im_start|>", "<|endoftext|>"}
	tokenizers := map[string]*Tokenizer{}
	for _, name := range PreTokenizers() {
		tok, err := NewBPE(tokens, mergeList, Options{PreTokenizer: name, Specials: []string{"x\n", "<|im_start|>", "<|endoftext|>"}, UserDefined: []string{"\nq", "   "}})
		require.NoError(t, err, name)
		tokenizers["bpe/"+name] = tok
	}
	spm := chunkSentencePiece(t)
	tokenizers["sentencepiece"] = spm
	first := chunkSentencePiece(t)
	first.spm.prefixAtStartOnly = true
	tokenizers["sentencepiece, prefix at the start only"] = first

	texts := 12
	if testing.Short() {
		texts = 3
	}
	for name, tok := range tokenizers {
		r := rand.New(rand.NewPCG(18, 3))
		chunks := 0
		for i := range texts {
			text := chunkText(r, append(specials, "<user>", "<s>"))
			for _, special := range []bool{false, true} {
				want := tok.Encode(text)
				if special {
					want = tok.EncodeSpecial(text)
				}
				size := 2 + r.IntN(63)
				got, n := chunkedIDs(t, tok, text, special, size, i%3 == 0)
				require.Equal(t, want, got, "%s, special %v, chunks of %d: %q", name, special, size, text)
				chunks += n
			}
		}
		assert.Greater(t, chunks, 8*texts, "%s: the texts were cut", name)
	}
}

// chunkSentencePiece is a SentencePiece vocabulary whose pieces join a
// letter and a line break ("d\n", "\nw", "o\r"), so that some cuts are
// forbidden, with a control and a user-defined token.
func chunkSentencePiece(t *testing.T) *Tokenizer {
	return sentencePieceOf(t, []string{"▁", "a", "Z", "9", "d", "w", "o", "é", "\n", "\r", ".", "▁a", "aZ", "Z9", "d\n", "\nw", "o\r", "▁▁", "\n\n", "<user>"})
}

// TestEncodeReaderBounded: a 2.5 MiB text of short lines is encoded in
// chunks of ChunkSize, never holding more; a line longer than a chunk is
// held whole (no cut inside it), and a read error ends the sequence.
func TestEncodeReaderBounded(t *testing.T) {
	tok := loadGPT2(t)
	line := "The quick brown fox jumps over the lazy dog 1234\n"
	text := strings.Repeat(line, 5<<19/len(line))
	var ids []int
	chunks := 0
	for chunk, err := range tok.EncodeReader(strings.NewReader(text), false) {
		require.NoError(t, err)
		require.NotEmpty(t, chunk)
		ids = append(ids, chunk...)
		chunks++
	}
	assert.Equal(t, tok.Encode(text), ids)
	assert.Equal(t, 3, chunks, "2.5 MiB in chunks of at most ChunkSize")

	// No cut in its first 1.5 MiB: the text is held until one, here the end.
	long := strings.Repeat("word, ", ChunkSize/4) + "end\n" + line
	ids, n := chunkedIDs(t, tok, long, false, ChunkSize, false)
	assert.Equal(t, tok.Encode(long), ids)
	assert.Equal(t, 1, n)

	boom := errors.New("boom")
	var got error
	for _, err := range tok.EncodeReader(iotest.DataErrReader(io.MultiReader(strings.NewReader(line), iotest.ErrReader(boom))), false) {
		if err != nil {
			got = err
		}
	}
	assert.ErrorIs(t, got, boom)
}
