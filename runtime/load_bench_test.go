package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkLoad measures Load, tokenizer included, on the checkpoints listed
// in $GOFORMER_LOAD_BENCH (comma-separated directories or GGUF files, such
// as a GPT-2-124M-shaped one from shared/peers/make_random_gpt2.py and
// gguf_convert.py). The page cache is warm after the first iteration.
func BenchmarkLoad(b *testing.B) {
	list := os.Getenv("GOFORMER_LOAD_BENCH")
	if list == "" {
		b.Skip("skipping: set GOFORMER_LOAD_BENCH to checkpoint directories or GGUF files, comma-separated")
	}
	for _, path := range strings.Split(list, ",") {
		b.Run(filepath.Base(path), func(b *testing.B) {
			for b.Loop() {
				m, err := Load(path, Options{})
				if err != nil {
					b.Fatal(err)
				}
				m.Close()
			}
		})
	}
}
