// Package dataarea finds the bytes of a weights container's data area that
// no tensor holds, for safetensors and GGUF alike: stray bytes mean the
// header and the data disagree.
package dataarea

// Span is one tensor's bytes in the data area: [Begin, End).
type Span struct {
	Name       string
	Begin, End uint64
}

// Gap is a run of data-area bytes no tensor holds: [Begin, End), before
// the tensor Next, or at the end of the area when Next is "".
type Gap struct {
	Begin, End uint64
	Next       string
}

// Uncovered returns the first gap of a data area of dataLen bytes that
// spans leave, beyond the padding of an aligned layout: tensors lie back to
// back from byte 0, each starting at the first multiple of align (1: no
// padding) after the end of the one before, and the area ends at the
// latest at the first multiple of align after the last. spans are sorted
// by Begin and do not overlap; empty spans hold nothing and are skipped.
func Uncovered(spans []Span, dataLen, align uint64) (Gap, bool) {
	up := func(n uint64) uint64 { return (n + align - 1) / align * align }
	var end uint64
	for _, s := range spans {
		if s.Begin == s.End {
			continue
		}
		if s.Begin > up(end) {
			return Gap{Begin: end, End: s.Begin, Next: s.Name}, true
		}
		end = max(end, s.End)
	}
	if dataLen > up(end) {
		return Gap{Begin: end, End: dataLen}, true
	}
	return Gap{}, false
}
