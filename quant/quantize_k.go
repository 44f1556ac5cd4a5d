package quant

import "math"

// groupMaxEps is ggml's GROUP_MAX_EPS: a group whose largest magnitude is
// below it is all zeros.
const groupMaxEps = 1e-15

// nearestInt rounds v to the nearest integer, ties to even, the way ggml's
// nearest_int does (adding 1.5·2^23 and reading the mantissa), for
// |v| ≤ 2^22.
func nearestInt(v float32) int {
	bits := math.Float32bits(v + 12582912)
	return int(bits&0x007fffff) - 0x00400000
}

// bestScaleMin is ggml's make_qkx2_quants: codes L[i] in 0..nmax and a
// scale s and min m (returned as −m ≥ 0) for x ≈ s·L + m, chosen to
// minimise Σ w·(s·L + m − x)². It starts from the codes that span
// min(x, 0)..max(x), then tries nstep+1 other spans, nmax + rmin + rdelta·k
// steps over the same range, solving the weighted least squares for s and m
// on each one's codes, and keeps the best (a positive m is clamped to 0).
// aux is scratch of len(x).
func bestScaleMin(x, w []float32, nmax int, L, aux []uint8, rmin, rdelta float32, nstep int) (scale, negMin float32) {
	lo, hi := x[0], x[0]
	sumW := w[0]
	sumX := sumW * x[0]
	for i := 1; i < len(x); i++ {
		if x[i] < lo {
			lo = x[i]
		}
		if x[i] > hi {
			hi = x[i]
		}
		sumW += w[i]
		sumX += float32(w[i] * x[i])
	}
	if lo > 0 {
		lo = 0
	}
	if hi == lo {
		clear(L)
		return 0, -lo
	}
	fmax := float32(nmax)
	iscale := fmax / (hi - lo)
	scale = 1 / iscale
	var bestErr float32
	for i, v := range x {
		L[i] = uint8(max(0, min(nmax, nearestInt(float32(iscale*(v-lo))))))
		diff := float32(float32(scale*float32(L[i]))+lo) - v
		bestErr += float32(w[i] * float32(diff*diff))
	}
	for is := 0; is <= nstep; is++ {
		iscale := (float32(rmin+float32(rdelta*float32(is))) + fmax) / (hi - lo)
		var sumL, sumL2, sumXL float32
		for i, v := range x {
			l := max(0, min(nmax, nearestInt(float32(iscale*(v-lo)))))
			aux[i] = uint8(l)
			fl := float32(l)
			wl := float32(w[i] * fl)
			sumL += wl
			sumL2 += float32(wl * fl)
			sumXL += float32(wl * v)
		}
		D := float32(sumW*sumL2) - float32(sumL*sumL)
		if !(D > 0) {
			continue
		}
		thisScale := (float32(sumW*sumXL) - float32(sumX*sumL)) / D
		thisMin := (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
		if thisMin > 0 {
			thisMin = 0
			thisScale = sumXL / sumL2
		}
		var curErr float32
		for i, v := range x {
			diff := float32(float32(thisScale*float32(aux[i]))+thisMin) - v
			curErr += float32(w[i] * float32(diff*diff))
		}
		if curErr < bestErr {
			copy(L, aux)
			bestErr, scale, lo = curErr, thisScale, thisMin
		}
	}
	return scale, -lo
}

// bestSymmetricScale is ggml's make_qx_quants with rmse_type 1 and no
// importance weights: codes L[i] = l + nmax for l in −nmax..nmax−1 and a
// scale s for x ≈ s·l, from the span that maps the value of largest
// magnitude to −nmax and 18 spans nmax ± 0.1k around it, keeping the one
// that minimises Σ x²·(s·l − x)² at its least-squares s.
func bestSymmetricScale(x []float32, nmax int, L []int8) float32 {
	big, amax := absMax(x)
	if amax < groupMaxEps {
		clear(L)
		return 0
	}
	fmax := float32(nmax)
	code := func(iscale, v float32) int { return max(-nmax, min(nmax-1, nearestInt(float32(iscale*v)))) }
	sums := func(iscale float32, store bool) (sumLX, sumL2 float32) {
		for i, v := range x {
			l := code(iscale, v)
			if store {
				L[i] = int8(l + nmax)
			}
			fl := float32(l)
			w := float32(v * v)
			sumLX += float32(float32(w*v) * fl)
			sumL2 += float32(float32(w*fl) * fl)
		}
		return sumLX, sumL2
	}
	sumLX, sumL2 := sums(-fmax/big, true)
	var scale float32
	if sumL2 != 0 {
		scale = sumLX / sumL2
	}
	best := scale * sumLX
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale := -(fmax + float32(0.1*float32(is))) / big
		sumLX, sumL2 := sums(iscale, false)
		if sumL2 > 0 && float32(sumLX*sumLX) > float32(best*sumL2) {
			sums(iscale, true)
			scale = sumLX / sumL2
			best = scale * sumLX
		}
	}
	return scale
}

// subBlockWeights are the weights Q4_K and Q5_K fit a sub-block of 32
// with: w_i = rms(x) + |x_i|.
func subBlockWeights(w, x []float32) {
	var sumX2 float32
	for _, v := range x {
		sumX2 += float32(v * v)
	}
	av := float32(math.Sqrt(float64(sumX2 / 32)))
	for i, v := range x {
		w[i] = av + abs32(v)
	}
}

// packScalesMins stores the 8 six-bit scales and mins of a Q4_K or Q5_K
// super-block in its 12 bytes: sub-blocks 0..3 in the low six bits of bytes
// 0..3 (scales) and 4..7 (mins), sub-blocks 4..7 as nibbles of bytes 8..11
// with their top two bits in the top bits of bytes 0..7.
func packScalesMins(dst []byte, ls, lm *[8]uint8) {
	for j := range 8 {
		if j < 4 {
			dst[j], dst[j+4] = ls[j], lm[j]
			continue
		}
		dst[j+4] = ls[j]&0xF | (lm[j]&0xF)<<4
		dst[j-4] |= ls[j] >> 4 << 6
		dst[j] |= lm[j] >> 4 << 6
	}
}

// quantScaledK fits a Q4_K or Q5_K super-block (nmax 15 or 31): each
// sub-block of 32 gets bestScaleMin's scale and min, those are rounded to
// six bits of the super-block's largest scale and min (d and dmin), and
// the codes are recomputed from the rounded scales. It writes d, dmin and
// the 12 scale bytes at blk[0:16] and the codes to L.
func quantScaledK(blk []byte, x []float32, nmax int, rmin float32, nstep int, L *[QK]uint8) {
	var w [32]float32
	var aux [32]uint8
	var scales, mins [8]float32
	var maxScale, maxMin float32
	for j := range 8 {
		xs := x[32*j : 32*j+32]
		subBlockWeights(w[:], xs)
		scales[j], mins[j] = bestScaleMin(xs, w[:], nmax, L[32*j:32*j+32], aux[:], rmin, 0.1, nstep)
		if scales[j] > maxScale {
			maxScale = scales[j]
		}
		if mins[j] > maxMin {
			maxMin = mins[j]
		}
	}
	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxMin > 0 {
		invMin = 63 / maxMin
	}
	var ls, lm [8]uint8
	for j := range 8 {
		ls[j] = min(63, uint8(nearestInt(float32(invScale*scales[j]))))
		lm[j] = min(63, uint8(nearestInt(float32(invMin*mins[j]))))
	}
	putFP16(blk, maxScale/63)
	putFP16(blk[2:], maxMin/63)
	clear(blk[4:16])
	packScalesMins(blk[4:16], &ls, &lm)
	d, dmin := fp16(blk), fp16(blk[2:])
	for j := range 8 {
		sd := d * float32(ls[j])
		if sd == 0 {
			continue
		}
		dm := dmin * float32(lm[j])
		for i, v := range x[32*j : 32*j+32] {
			L[32*j+i] = uint8(max(0, min(nmax, nearestInt((v+dm)/sd))))
		}
	}
}

// Q4_K: d, dmin, 12 bytes of scales and mins, then the 4-bit codes, values
// 0..31 of each 64 in the low nibbles and 32..63 in the high ones.
func quantQ4_K(blk []byte, x []float32) {
	var L [QK]uint8
	quantScaledK(blk, x, 15, -1, 20, &L)
	q := blk[16:144]
	for j := 0; j < QK; j += 64 {
		for l := range 32 {
			q[j/2+l] = L[j+l] | L[j+l+32]<<4
		}
	}
}

// Q5_K: as Q4_K with 5-bit codes: the low four bits as Q4_K's, the fifth
// bit of value j+64k in bit 2k of qh[j] (and of j+32+64k in bit 2k+1).
func quantQ5_K(blk []byte, x []float32) {
	var L [QK]uint8
	quantScaledK(blk, x, 31, -0.5, 15, &L)
	qh, ql := blk[16:48], blk[48:176]
	clear(qh)
	for n := 0; n < QK; n += 64 {
		bit := uint(n / 32)
		for j := range 32 {
			l1, l2 := L[n+j], L[n+j+32]
			qh[j] |= l1 >> 4 << bit
			qh[j] |= l2 >> 4 << (bit + 1)
			ql[n/2+j] = l1&0xF | (l2&0xF)<<4
		}
	}
}

// Q6_K: 128 bytes of low nibbles, 64 of high two bits, 16 int8 sub-block
// scales and d. Each sub-block of 16 gets bestSymmetricScale's scale; the
// scales are rounded to int8 steps of d = (largest-magnitude scale)/−128
// and the 6-bit codes recomputed from them.
func quantQ6_K(blk []byte, x []float32) {
	var L [QK]int8
	var scales [QK / 16]float32
	var maxScale, maxAbs float32
	for ib := range QK / 16 {
		s := bestSymmetricScale(x[16*ib:16*ib+16], 32, L[16*ib:16*ib+16])
		scales[ib] = s
		if a := abs32(s); a > maxAbs {
			maxAbs, maxScale = a, s
		}
	}
	if maxAbs < groupMaxEps {
		clear(blk[:210])
		return
	}
	iscale := -128 / maxScale
	putFP16(blk[208:], 1/iscale)
	sc := blk[192:208]
	for ib := range QK / 16 {
		sc[ib] = byte(int8(min(127, nearestInt(float32(iscale*scales[ib])))))
	}
	d := fp16(blk[208:])
	for j := range QK / 16 {
		sd := d * float32(int8(sc[j]))
		if sd == 0 {
			continue
		}
		for i, v := range x[16*j : 16*j+16] {
			L[16*j+i] = int8(max(-32, min(31, nearestInt(v/sd))) + 32)
		}
	}
	ql, qh := blk[0:128], blk[128:192]
	for j := 0; j < QK; j += 128 {
		for l := range 32 {
			q1, q2, q3, q4 := uint8(L[j+l]), uint8(L[j+l+32]), uint8(L[j+l+64]), uint8(L[j+l+96])
			ql[j/2+l] = q1&0xF | (q3&0xF)<<4
			ql[j/2+l+32] = q2&0xF | (q4&0xF)<<4
			qh[j/4+l] = q1>>4 | q2>>4<<2 | q3>>4<<4 | q4>>4<<6
		}
	}
}
