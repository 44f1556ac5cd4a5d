package runtime

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/goformer/goformer/kernels"
)

// BenchmarkReadBandwidth measures the memory bandwidth a decode step is
// bound by: kernels.Dot of a 512 MiB buffer with itself (one stream, ten
// times the L3 of the machines we measure) on 1 and 2 threads, each thread
// reading its own contiguous half, from the Go heap (4 KiB pages where the
// kernel gives no huge pages unasked) and from memory advised to use huge
// pages, as the weights and KV caches are (hugePageFloats). Decode tokens/s can never exceed this GB/s
// divided by the bytes of weights a token reads.
func BenchmarkReadBandwidth(b *testing.B) {
	const size = 512 << 20
	n := size / 4
	buffers := map[string][]float32{"heap": make([]float32, n)}
	if hugePages {
		buffers["huge-pages"] = hugePageFloats(n)
	}
	for _, name := range []string{"heap", "huge-pages"} {
		buf := buffers[name]
		if buf == nil {
			continue
		}
		for i := range buf {
			buf[i] = float32(i%1000) * 1e-3
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", name, threads), func(b *testing.B) {
				kernels.SetThreads(threads)
				defer kernels.SetThreads(0)
				part := n / threads
				var sink [2]float32
				for b.Loop() {
					kernels.Parallel(threads, func(lo, hi int) {
						for p := lo; p < hi; p++ {
							s := buf[p*part : (p+1)*part]
							sink[p] = kernels.Dot(s, s)
						}
					})
				}
				b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds()*1e-9, "GB/s")
			})
		}
	}
	// One stream a thread can read less than a decode step's GEMVs do: on
	// a Zen 4, two threads' Dot read 26-33 GB/s while a Qwen2.5 f32 decode
	// read 42.8. So two more readers over 512 MiB in huge pages, the
	// decode GEMVs themselves: the fp32 panel GEMV (kernels.Panels, one
	// stream of whole panel rows) and, where the tier has them, the int8
	// panel GEMV (five streams a thread, each asked into L2 a block
	// ahead). The bound is the fastest reader.
	if !hugePages {
		return
	}
	width := kernels.PackPanels(make([]float32, 1), 1, 1).Width
	const f32Cols = 4096
	f32Rows := size / 4 / f32Cols / width * width
	fp := &kernels.Panels{Rows: f32Rows, Cols: f32Cols, Width: width, Data: hugePageFloats(f32Rows * f32Cols)}
	for i := range fp.Data {
		fp.Data[i] = float32(i%1000) * 1e-3
	}
	fx, fy := make([]float32, f32Cols), make([]float32, f32Rows)
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("f32-panels/threads=%d", threads), func(b *testing.B) {
			kernels.SetThreads(threads)
			defer kernels.SetThreads(0)
			for b.Loop() {
				fp.MatMul(fy, fx, 1, nil)
			}
			b.ReportMetric(float64(fp.Bytes())*float64(b.N)/b.Elapsed().Seconds()*1e-9, "GB/s")
		})
	}
	if !kernels.PrefersQ8Panels() {
		return
	}
	const cols = 4096
	rows := size / kernels.Q8PanelBytes(kernels.Q8PanelRows, cols) * kernels.Q8PanelRows
	data := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(hugePageFloats(size/4)))), size)
	p := &kernels.Q8Panels{Rows: rows, Cols: cols, Data: data[:kernels.Q8PanelBytes(rows, cols)]}
	for i := range p.Data {
		p.Data[i] = byte(i % 251)
	}
	xq := make([]int8, cols)
	xs := make([]float32, cols/kernels.Q8Block)
	for i := range xs {
		xs[i] = 1e-3
	}
	y := make([]float32, rows)
	var buf kernels.Q8PanelBuffer
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("int8-panels/threads=%d", threads), func(b *testing.B) {
			kernels.SetThreads(threads)
			defer kernels.SetThreads(0)
			for b.Loop() {
				p.MatVec(y, xq, xs, &buf)
			}
			b.ReportMetric(float64(p.Bytes())*float64(b.N)/b.Elapsed().Seconds()*1e-9, "GB/s")
		})
	}
}
