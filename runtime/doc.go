// Package runtime is goformer's public API: load a checkpoint, open sessions
// on it, generate, score. The package Example loads the demo model built
// into goformer and generates from it; ExampleLoad is the same program for a
// checkpoint on disk, and ExampleSession_Score scores a text. Each is
// compiled and run by go test, as is every Go block of the README (which
// copies them).
//
// A Model is read-only once loaded and may be shared by any number of
// goroutines. A Session owns everything a sequence needs (the ring-buffer KV
// cache, activations, logits, sampler state), allocated once when it is
// made: a decode step allocates nothing. A Session is used by one goroutine
// at a time.
//
// A Batch runs many sequences on one model together: each forward pass
// packs one token of every decoding sequence and chunks of new prompts into
// one matrix product per weight matrix, while each sequence keeps its own
// KV cache, position and sampler, and a finished sequence's slot goes to the
// next waiting request. Attention for a row reads only its own sequence's
// cache up to its own position, so each sequence's logits are what it gets
// alone in a Session. Batch.Generate runs a list of requests to their end;
// Join, Step and Leave let requests come and go between passes, as the
// server's scheduler does (ExampleBatch_Step).
//
// Large matrix products and attention (split by heads) run on the kernels'
// worker pool, shared by every model, session and batch of the process:
// its thread count is a process-wide setting, kernels.SetThreads (by
// default kernels.DefaultThreads(), one per physical core), which loading
// a model leaves alone. A split never changes a result: logits on any
// number of threads equal the one-thread logits bit for bit.
//
// At the end of a session's capacity (SessionOptions.Capacity, by default the
// model's n_positions) each position kind does what it can, in the same
// fixed memory:
//   - RoPE: the session slides. Keys are cached already rotated, so the ring
//     overwrites its oldest slot; the first SessionOptions.Keep positions stay
//     as attention sinks, and the query at position p attends to them and to
//     positions p−(Capacity−Keep)+1 .. p.
//   - learned and sinusoidal (absolute) positions: a Prefill or Decode that
//     does not fit fails with ErrContextFull, naming the limit, unless
//     SessionOptions.ContextShift is set; then the session keeps the first
//     Keep tokens and the most recent half of the others, runs them again at
//     positions 0, 1, ... (one prefill of about Capacity/2 tokens) and goes on.
//     Learned positions also cap Capacity at n_positions.
//
// runtime imports model, quant and kernels; it must never import cmd.
package runtime
