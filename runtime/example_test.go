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
	prompt := m.Tokenizer().Encode("The meaning of life is")
	opts := runtime.GenerateOptions{MaxTokens: 3} // greedy: see SampleOptions for sampling
	for text, err := range s.GenerateText(context.Background(), prompt, opts) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%q\n", text)
	}
	// Output:
	// " the"
	// " world"
	// "."
}

// Generate tokens with their log-probabilities, turning the ids into text
// with the tokenizer's stream decoder.
func ExampleSession_Generate() {
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
		fmt.Printf("%d %q %.2f\n", t.ID, piece, t.Logprob)
	}
	// Output:
	// 262 " the" -2.78
	// 995 " world" -3.69
	// 13 "." -1.49
}

// Load a checkpoint from disk: a Hugging Face directory or a GGUF file. It
// is compiled, not run, as go test has no checkpoint at that path.
func ExampleLoad() {
	m, err := runtime.Load("path/to/model", runtime.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewSession(runtime.SessionOptions{})
	if err != nil {
		log.Fatal(err)
	}
	prompt := m.Tokenizer().Encode("Hello")
	for t, err := range s.Generate(context.Background(), prompt, runtime.GenerateOptions{MaxTokens: 20}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(t.ID, t.Logprob)
	}
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

// Generate from several prompts at once: one forward pass per step for all
// of them, each sequence with its own cache and options. The empty prompt
// starts from the beginning-of-text token, as in a Session.
func ExampleBatch_Generate() {
	m, err := runtime.LoadFS(demo.FS, runtime.Options{})
	if err != nil {
		log.Fatal(err)
	}
	b, err := m.NewBatch(runtime.BatchOptions{Sequences: 2})
	if err != nil {
		log.Fatal(err)
	}
	tok := m.Tokenizer()
	opts := runtime.GenerateOptions{MaxTokens: 3}
	reqs := []runtime.BatchRequest{
		{Prompt: tok.Encode("The meaning of life is"), GenerateOptions: opts},
		{Prompt: nil, GenerateOptions: opts},
		{Prompt: tok.Encode("Once upon a time"), GenerateOptions: opts},
	}
	texts := make([]string, len(reqs))
	for ev, err := range b.Generate(context.Background(), reqs) {
		if err != nil {
			log.Fatal(err)
		}
		switch {
		case ev.Err != nil:
			texts[ev.Seq] = "error: " + ev.Err.Error()
		case !ev.Done:
			piece, _ := tok.Decode([]int{ev.Token.ID})
			texts[ev.Seq] += piece
		}
	}
	for _, t := range texts {
		fmt.Printf("%q\n", t)
	}
	// Output:
	// " the world."
	// "The first time"
	// ".\n\n"
}

// Run sequences that come and go, as a server's scheduler does: Join puts
// a request in a free slot, each Step runs one forward pass for every
// sequence in flight and returns its events by slot, and Leave frees a
// slot early (here the second sequence after its first token).
func ExampleBatch_Step() {
	m, err := runtime.LoadFS(demo.FS, runtime.Options{})
	if err != nil {
		log.Fatal(err)
	}
	b, err := m.NewBatch(runtime.BatchOptions{Sequences: 2})
	if err != nil {
		log.Fatal(err)
	}
	tok := m.Tokenizer()
	opts := runtime.GenerateOptions{MaxTokens: 3}
	first, err := b.Join(runtime.BatchRequest{Prompt: tok.Encode("The meaning of life is"), GenerateOptions: opts})
	if err != nil {
		log.Fatal(err)
	}
	texts := map[int]string{}
	for step := 0; b.Free() < 2; step++ {
		if step == 1 { // a request that arrives while the first decodes
			if _, err := b.Join(runtime.BatchRequest{Prompt: tok.Encode("Once upon a time"), GenerateOptions: opts}); err != nil {
				log.Fatal(err)
			}
		}
		events, err := b.Step()
		if err != nil {
			log.Fatal(err)
		}
		for _, ev := range events {
			if ev.Done {
				continue
			}
			piece, _ := tok.Decode([]int{ev.Token.ID})
			texts[ev.Seq] += piece
			if ev.Seq != first {
				b.Leave(ev.Seq)
			}
		}
	}
	fmt.Printf("%q\n%q\n", texts[0], texts[1])
	// Output:
	// " the world."
	// "."
}
