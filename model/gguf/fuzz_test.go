package gguf

import (
	"testing"

	gt "github.com/goformer/goformer/model/internal/gguftest"
)

// FuzzParse feeds Parse arbitrary bytes, seeded with well-formed files. Parse
// must never panic, never allocate beyond what the input can describe, and
// whatever it accepts must be consistent: every tensor's bytes lie inside
// the input, match its type and shape, and sit at the alignment; every
// metadata value can be read back.
func FuzzParse(f *testing.F) {
	f.Add(sample().Bytes())
	s := sample()
	s.Alignment = 64
	s.KVs = append(s.KVs, gt.KV{Key: AlignmentKey, Type: gt.Uint32, Value: 64})
	f.Add(s.Bytes())
	f.Add(gt.File{KVs: []gt.KV{{Key: "n", Type: gt.Array, Elem: gt.Array, Value: []any{}}}}.Bytes())
	f.Add([]byte("GGUF\x03\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, buf []byte) {
		file, err := Parse(buf)
		if err != nil {
			return
		}
		for _, kv := range file.KVs {
			if v, ok := file.Lookup(kv.Key); !ok || v.Type != kv.Value.Type {
				t.Fatalf("key %q not found", kv.Key)
			}
			if a, ok := kv.Value.Array(); ok {
				for i := range a.Len() {
					a.Index(i)
				}
			}
		}
		for i := range file.Tensors {
			tn := &file.Tensors[i]
			n := tn.NumElements()
			want := n / tn.Type.BlockLen() * tn.Type.BlockBytes()
			if len(tn.Data) != want {
				t.Fatalf("tensor %q %s %v has %d bytes, want %d", tn.Name, tn.Type, tn.Dims, len(tn.Data), want)
			}
			if (file.DataOffset+tn.Offset)%file.Alignment != 0 {
				t.Fatalf("tensor %q at %d is not aligned to %d", tn.Name, tn.Offset, file.Alignment)
			}
		}
	})
}
