package tokenizer

import (
	"testing"
)

// FuzzRoundTrip: every string, valid UTF-8 or not, decodes back to itself,
// the two merge strategies agree on each piece, and streaming gives the same
// bytes as Decode.
func FuzzRoundTrip(f *testing.F) {
	for _, c := range edgeCases {
		f.Add(c.text)
	}
	f.Add("\xff\xfe\x00invalid \xe4\xb8 utf-8 \x80")
	tok := loadGPT2(f)
	bmp := bmpClasses()
	sc := new(heapScratch)
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Encode(s)
		back, err := tok.Decode(ids)
		if err != nil {
			t.Fatal(err)
		}
		if back != s {
			t.Fatalf("Decode(Encode(%q)) = %q (ids %v)", s, back, ids)
		}
		for i := 0; i < len(s); {
			j := pieceEnd(s, i, bmp)
			if j <= i {
				t.Fatalf("piece at %d of %q does not advance", i, s)
			}
			if p := s[i:j]; len(p) < 4*heapThreshold {
				scan, heap := tok.bpeScanAny(p), tok.bpeHeap(nil, p, sc)
				if !equalInts(scan, heap) {
					t.Fatalf("piece %q: scan %v, heap %v", p, scan, heap)
				}
			}
			i = j
		}
		d := tok.NewStreamDecoder()
		var streamed []byte
		for _, id := range ids {
			out, err := d.Add(id)
			if err != nil {
				t.Fatal(err)
			}
			streamed = append(streamed, out...)
		}
		if string(append(streamed, d.Flush()...)) != s {
			t.Fatalf("stream of %q gave %q", s, streamed)
		}
	})
}

// bpeScanAny runs the scan strategy on a piece of any length, beyond the
// threshold where bpe switches to the heap, by scanning in a heap-sized
// copy of the algorithm's memory.
func (t *Tokenizer) bpeScanAny(piece string) []int {
	if len(piece) < heapThreshold {
		return t.bpeScan(nil, piece)
	}
	syms := make([]int32, 0, len(piece))
	for i := 0; i < len(piece); i++ {
		syms = append(syms, t.byteToken[piece[i]])
	}
	for {
		best, at := int32(noMerge), -1
		for i := 0; i+1 < len(syms); i++ {
			if r := t.merges.rank(syms[i], syms[i+1]); r < best {
				best, at = r, i
			}
		}
		if at < 0 {
			break
		}
		rule, _ := t.merges.get(syms[at], syms[at+1])
		syms[at] = rule.result
		syms = append(syms[:at+1], syms[at+2:]...)
	}
	out := make([]int, len(syms))
	for i, s := range syms {
		out[i] = int(s)
	}
	return out
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
