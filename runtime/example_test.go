package runtime_test

import (
	"context"
	"fmt"
	"log"

	"github.com/goformer/goformer/model/demo"
	"github.com/goformer/goformer/runtime"
)

// Generate greedily from the demo model built into goformer, streaming the
// text as it comes.
func Example() {
	m, err := runtime.LoadFS(demo.FS, runtime.Options{})
	if err != nil {
		log.Fatal(err)
	}
	s, err := m.NewSession(runtime.SessionOptions{})
	if err != nil {
		log.Fatal(err)
	}
	tok := m.Tokenizer()
	dec := tok.NewStreamDecoder()
	prompt := tok.Encode("The meaning of life is")
	for t, err := range s.Generate(context.Background(), prompt, runtime.GenerateOptions{MaxTokens: 3}) {
		if err != nil {
			log.Fatal(err)
		}
		piece, _ := dec.Add(t.ID)
		fmt.Printf("%q %.2f\n", piece, t.Logprob)
	}
	// Output:
	// " the" -2.76
	// " world" -3.69
	// "." -1.48
}

// Score a text by teacher forcing.
func ExampleSession_Score() {
	m, err := runtime.LoadFS(demo.FS, runtime.Options{Embeddings: runtime.F32Embeddings})
	if err != nil {
		log.Fatal(err)
	}
	s, err := m.NewSession(runtime.SessionOptions{})
	if err != nil {
		log.Fatal(err)
	}
	ids := m.Tokenizer().Encode("The man walked into the room and sat down.")
	sc, err := s.Score(context.Background(), ids)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d tokens, perplexity %.0f\n", sc.Tokens, sc.Perplexity)
	// Output: 10 tokens, perplexity 42
}
