// Package runtime is goformer's public API: load a checkpoint, open sessions
// on it, generate, score.
//
//	m, err := runtime.Load("path/to/gpt2")
//	s := m.NewSession(runtime.SessionOptions{})
//	for tok, err := range s.Generate(ctx, prompt, runtime.GenerateOptions{MaxTokens: 20}) { ... }
//
// A Model is read-only once loaded and may be shared by any number of
// goroutines. A Session owns everything a sequence needs (the ring-buffer KV
// cache, activations, logits, sampler state), allocated once when it is
// made: a decode step allocates nothing. A Session is used by one goroutine
// at a time.
//
// runtime imports model, quant and kernels; it must never import cmd.
package runtime
