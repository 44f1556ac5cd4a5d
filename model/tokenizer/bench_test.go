package tokenizer

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestEncodeToAllocatesNothing: with a warm cache and room in dst, encoding
// allocates nothing, whether pieces come from the cache, from the array
// merge (33..127 bytes) or from the heap merge (128 bytes and more).
func TestEncodeToAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	tok := loadGPT2(t)
	text := strings.Join([]string{
		"The quick brown fox jumps over the lazy dog, isn't it?",
		"我爱自然语言处理今天天气很好我们去公园散步吧", // one 66-byte piece
		strings.Repeat("的", 60),  // one 180-byte piece
		"emoji 👨‍👩‍👧‍👦 and\r\n\ttabs   ",
	}, " ")
	dst := make([]int, 0, 4096)
	tok.EncodeTo(dst, text)
	allocs := testing.AllocsPerRun(100, func() { dst = tok.EncodeTo(dst[:0], text) })
	assert.Zero(t, allocs)
}

// benchText is a text of at least 1 MiB: what is given, repeated.
func benchText(text string) string {
	return strings.Repeat(text, (1<<20)/len(text)+1)
}

// englishProse is Newton's Opticks from the Go installation, or the
// English UDHR where that is missing.
func englishProse(b *testing.B) string {
	if data, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", "testdata", "Isaac.Newton-Opticks.txt")); err == nil {
		return string(data)
	}
	b.Log("Opticks not found in GOROOT: using the English UDHR")
	return strings.SplitN(readGzip(b, "testdata/udhr.txt.gz"), "\n\n", 2)[0]
}

// cjkText is the UDHR in Chinese (simplified, traditional, Cantonese,
// Chữ Nôm), Japanese (standard, Osaka) and Korean: parts 1..7 of
// testdata/udhr.txt.gz (see testdata/README.md).
func cjkText(b *testing.B) string {
	parts := strings.Split(readGzip(b, "testdata/udhr.txt.gz"), "\n\n")
	if len(parts) < 8 || !strings.HasPrefix(parts[1], "世界人权宣言") {
		b.Fatal("testdata/udhr.txt.gz does not hold the CJK texts where expected")
	}
	return strings.Join(parts[1:8], "\n\n")
}

// BenchmarkEncode measures Encode's throughput beside tiktoken-go's
// r50k_base on the same text: warm is the steady state, where the word
// cache holds the text's words; cold empties the cache before each pass.
func BenchmarkEncode(b *testing.B) {
	tok, ref := loadGPT2(b), loadR50k(b)
	for _, c := range []struct {
		name string
		text func(*testing.B) string
	}{
		{"english", englishProse},
		{"cjk", cjkText},
	} {
		text := benchText(c.text(b))
		b.Run(c.name+"/goformer-warm", func(b *testing.B) {
			dst := tok.EncodeTo(nil, text)
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				dst = tok.EncodeTo(dst[:0], text)
			}
		})
		b.Run(c.name+"/goformer-cold", func(b *testing.B) {
			dst := tok.EncodeTo(nil, text)
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				tok.cache.reset()
				dst = tok.EncodeTo(dst[:0], text)
			}
		})
		b.Run(c.name+"/tiktoken-go", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				ref.EncodeOrdinary(text)
			}
		})
	}
}
