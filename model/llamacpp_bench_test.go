package model

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkTokenizerVsLlamaCpp encodes the same ≥ 1 MiB texts with
// goformer's tokenizer and with llama.cpp's (llama_tokenize in
// bench/llamacpp_tokenize.cpp, best of 3 runs after a warm-up, timing only
// the call) on llama.cpp's Llama 2 (llama-spm, SentencePiece) and Llama 3
// (llama-bpe) vocabularies, in one run: MB/s and tokens/s for goformer,
// llamacpp-MB/s for llama.cpp, and x-llamacpp, goformer's speed over
// llama.cpp's; NAME/cold is goformer's MB/s on a tokenizer just loaded,
// whose word cache is empty (llama.cpp keeps none). Needs GOFORMER_LLAMACPP_SRC (or GOFORMER_LLAMACPP) and,
// for the llama.cpp side, GOFORMER_LLAMACPP_NATIVE.
//
//	GOFORMER_LLAMACPP_SRC=/tmp/llama-src GOFORMER_LLAMACPP_NATIVE=/tmp/llamacpp-native/build/bin \
//	  go test ./model -run '^$' -bench TokenizerVsLlamaCpp -benchtime 5x
func BenchmarkTokenizerVsLlamaCpp(b *testing.B) {
	src := llamaCppSource(b)
	tool := llamaCppTokenizeTool(b, src)
	texts := []struct{ name, text string }{
		{"english", readOpticks(b)},
		{"udhr-multilingual", readUDHR(b)},
	}
	for _, vocab := range []string{"llama-spm", "llama-bpe"} {
		path := filepath.Join(src, "models", "ggml-vocab-"+vocab+".gguf")
		tok, err := LoadGGUFTokenizer(path)
		require.NoError(b, err)
		for _, tx := range texts {
			text := strings.Repeat(tx.text, (1<<20)/len(tx.text)+1)
			b.Run(vocab+"/"+tx.name, func(b *testing.B) {
				peer := 0.0
				if tool != "" {
					peer = llamaCppBench(b, tool, path, text)
				}
				dst := tok.EncodeTo(nil, text)
				n := len(dst)
				b.SetBytes(int64(len(text)))
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					dst = tok.EncodeTo(dst[:0], text)
				}
				sec := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(float64(n)/sec, "tokens/s")
				if peer > 0 {
					mbs := float64(len(text)) / sec / 1e6
					b.ReportMetric(peer, "llamacpp-MB/s")
					b.ReportMetric(mbs/peer, "x-llamacpp")
				}
			})
			// cold: each pass on a tokenizer just loaded, whose word cache
			// is empty (llama.cpp's has none).
			b.Run(vocab+"/"+tx.name+"/cold", func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				var dst []int
				for b.Loop() {
					b.StopTimer()
					fresh, err := LoadGGUFTokenizer(path)
					require.NoError(b, err)
					b.StartTimer()
					dst = fresh.EncodeTo(dst[:0], text)
				}
			})
		}
	}
}

// llamaCppBench is llama.cpp's MB/s on text with the vocabulary at path.
func llamaCppBench(b *testing.B, tool, path, text string) float64 {
	b.Helper()
	f := filepath.Join(b.TempDir(), "text")
	require.NoError(b, os.WriteFile(f, []byte(text), 0o644))
	out, err := exec.Command(tool, path, "bench", f, strconv.Itoa(3)).Output()
	require.NoError(b, err)
	var r struct {
		Bytes  int     `json:"bytes"`
		Tokens int     `json:"tokens"`
		Best   float64 `json:"best_s"`
	}
	require.NoError(b, json.Unmarshal(out, &r), "%s", out)
	b.Logf("llama.cpp: %d bytes, %d tokens, best %.3f s: %.2f MB/s, %.0f tokens/s", r.Bytes, r.Tokens, r.Best, float64(r.Bytes)/r.Best/1e6, float64(r.Tokens)/r.Best)
	return float64(r.Bytes) / r.Best / 1e6
}

// readOpticks is Newton's Opticks from the Go installation.
func readOpticks(b *testing.B) string {
	data, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", "testdata", "Isaac.Newton-Opticks.txt"))
	if err != nil {
		b.Skipf("skipping: no Opticks in GOROOT: %v", err)
	}
	return string(data)
}

// readUDHR is the Universal Declaration of Human Rights in the languages
// of tokenizer/testdata/udhr.txt.gz (see its README.md).
func readUDHR(b *testing.B) string {
	f, err := os.Open(filepath.Join("tokenizer", "testdata", "udhr.txt.gz"))
	require.NoError(b, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(b, err)
	data, err := io.ReadAll(zr)
	require.NoError(b, err)
	return string(data)
}
