package runtime

import (
	"math"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model"
)

// How a token's position enters the forward pass, for each position kind:
// learned and sinusoidal positions are added to the token embedding, RoPE
// rotates every head's query and key.

// sinusoidFreqs returns, for each of the d features, the frequency of the
// original transformer's encoding: PE(p, 2i) = sin(p·f_i) and
// PE(p, 2i+1) = cos(p·f_i) with f_i = 10000^(−2i/d).
func sinusoidFreqs(d int) []float64 {
	f := make([]float64, d)
	for j := range f {
		f[j] = math.Pow(10000, -float64(j&^1)/float64(d))
	}
	return f
}

// addPosition adds position p's encoding to one embedding row. Angles are
// computed in float64, so the encoding stays exact at any position.
func (s *pass) addPosition(row []float32, p int) {
	switch s.m.cfg.Arch.Positions {
	case model.LearnedPositions:
		d := len(row)
		kernels.Add(row, row, s.m.w.PositionEmbedding[p*d:(p+1)*d])
	case model.SinusoidalPositions:
		for j, f := range s.m.sinFreqs {
			if j&1 == 0 {
				row[j] += float32(math.Sin(float64(p) * f))
			} else {
				row[j] += float32(math.Cos(float64(p) * f))
			}
		}
	}
}

// ropeTables fills the rotation tables of the positions of the first t rows.
func (s *pass) ropeTables(t int) {
	c := &s.m.cfg
	rd := c.RotaryDims()
	for i := 0; i < t; i++ {
		kernels.RoPETable(s.ropeCos[i*rd:(i+1)*rd], s.ropeSin[i*rd:(i+1)*rd], s.rows[i].pos, s.m.ropeFreqs, c.Arch.RoPEStyle == model.Interleaved)
	}
}

// rotate applies RoPE to every query head and every key head of the t
// rows of qkv, at their positions: keys enter the cache already rotated, so
// a slot overwritten by the ring never needs re-encoding.
func (s *pass) rotate(qkv []float32, t int) {
	c := &s.m.cfg
	if c.Arch.Positions != model.RoPE {
		return
	}
	hd, rd := c.HeadDim(), c.RotaryDims()
	qk := c.QueryDim() + c.KVDim() // the query heads, then the key heads
	interleaved := c.Arch.RoPEStyle == model.Interleaved
	for i := 0; i < t; i++ {
		cos, sin := s.ropeCos[i*rd:(i+1)*rd], s.ropeSin[i*rd:(i+1)*rd]
		row := qkv[i*s.qkvWidth : i*s.qkvWidth+qk]
		for o := 0; o < qk; o += hd {
			kernels.RoPE(row[o:o+rd], cos, sin, interleaved)
		}
	}
}
