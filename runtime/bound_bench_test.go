package runtime

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model"
)

// streamedBytes is what one decode step at position pos reads from memory:
// the weights Footprint counts, and pos+1 keys and values per layer.
func (m *Model) streamedBytes(pos int) int {
	return m.Footprint().BytesPerToken + (pos+1)*2*m.cfg.NLayer*m.cfg.KVDim()*4
}

// BenchmarkDecodeShareOfBound measures decode against the memory bound on
// the same minutes: it alternates 16 decode steps at position 128 with a
// read of the same number of bytes from huge-page memory (kernels.Dot over
// a 512 MiB buffer, one contiguous part per thread, as
// BenchmarkReadBandwidth reads it), and reports the median over rounds of
// decode's bytes/s over the read's. On a machine whose bandwidth other
// tenants take a share of, the ratio of neighbouring measurements holds
// still where each alone does not.
func BenchmarkDecodeShareOfBound(b *testing.B) {
	const size = 512 << 20
	buf := hugePageFloats(size / 4)
	for i := range buf {
		buf[i] = float32(i%1000) * 1e-3
	}
	defer kernels.SetThreads(0)
	for _, o := range benchOptions {
		for i := range benchShapes {
			if benchShapes[i].cfg.Arch.NormKind != model.RMSNorm {
				continue // the Llama shapes
			}
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/%s/threads=%d", benchShapes[i].name, o.name, threads), func(b *testing.B) {
					m := benchModel(b, i, o.opts)
					kernels.SetThreads(threads)
					s, err := m.NewSession(SessionOptions{})
					if err != nil {
						b.Fatal(err)
					}
					if _, err := s.Prefill(randomIDs(1, 128, m.cfg.VocabSize)); err != nil {
						b.Fatal(err)
					}
					const steps = 16
					bytes := m.streamedBytes(128)
					// The read covers bytes·steps, wrapping around the buffer.
					read := func() {
						left := bytes * steps / 4
						var sink [2]float32
						for left > 0 {
							n := min(left, len(buf))
							part := n / threads
							kernels.Parallel(threads, func(lo, hi int) {
								for p := lo; p < hi; p++ {
									s := buf[p*part : (p+1)*part]
									sink[p] = kernels.Dot(s, s)
								}
							})
							left -= n
						}
					}
					var shares, rates []float64
					for range b.N {
						t0 := time.Now()
						for range steps {
							s.pos = 128
							if _, err := s.Decode(42); err != nil {
								b.Fatal(err)
							}
						}
						t1 := time.Now()
						read()
						t2 := time.Now()
						shares = append(shares, t2.Sub(t1).Seconds()/t1.Sub(t0).Seconds())
						rates = append(rates, float64(bytes*steps)/t1.Sub(t0).Seconds())
					}
					slices.Sort(shares)
					slices.Sort(rates)
					b.ReportMetric(100*shares[len(shares)/2], "%bound")
					b.ReportMetric(rates[len(rates)/2]*1e-9, "GB/s")
					b.ReportMetric(rates[len(rates)/2]/float64(bytes), "tokens/s")
				})
			}
		}
	}
}
