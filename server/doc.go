// Package server is goformer's OpenAI-compatible HTTP server: POST
// /v1/completions and /v1/chat/completions (streamed as server-sent events
// when asked), GET /v1/models, /health and /metrics, and llama-server's POST
// /tokenize and /detokenize, on net/http.
//
// One model serves every request. One scheduler goroutine drives one
// runtime.Batch: each running request is a slot of the batch, a new request
// joins the next forward pass (its prompt prefilled beside the decode rows
// of the others), and a request that ends, stops at a stop string or whose
// client goes away leaves its slot at once. Requests beyond the free slots
// wait in a bounded queue; beyond that they get a 429. A sequence in the
// batch generates what it would alone (runtime.Batch), so a greedy request
// returns the same text whatever else the server is doing.
//
// The server keeps no state between requests but its slots, so more
// machines means more replicas behind any HTTP load balancer, each
// answering /health for readiness and /metrics for scraping.
//
// server imports runtime and model; it must never import cmd.
package server
