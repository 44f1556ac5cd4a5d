package server

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// BenchmarkStreams runs streaming greedy completions of 64 tokens, mixed
// prompt lengths, at 1, 4, 16 and 64 concurrent clients on 8 slots of the
// demo model, through HTTP on 127.0.0.1, and reports the aggregate
// tokens/s and the median time to first token.
func BenchmarkStreams(b *testing.B) {
	for _, clients := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			ts := newTestServer(b, Config{Slots: 8, MaxQueue: 256, Logger: discardLogger()})
			client := ts.ts.Client()
			client.Transport.(*http.Transport).MaxIdleConnsPerHost = clients
			var (
				mu     sync.Mutex
				tokens int
				ttft   time.Duration
				n      int
			)
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				var wg sync.WaitGroup
				for i := range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r := streamCompletion(context.Background(), client, ts.ts.URL, obj{"prompt": loadPrompt(i), "max_tokens": 64, "temperature": 0, "ignore_eos": true, "stream": true})
						mu.Lock()
						tokens += r.tokens
						ttft += r.ttft
						n++
						mu.Unlock()
					}()
				}
				wg.Wait()
			}
			b.ReportMetric(float64(tokens)/time.Since(start).Seconds(), "tok/s")
			b.ReportMetric(float64(ttft.Milliseconds())/float64(n), "ttft-ms")
		})
	}
}
