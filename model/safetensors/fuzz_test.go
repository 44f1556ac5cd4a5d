package safetensors

import (
	"testing"

	"github.com/goformer/goformer/model/internal/safetensorstest"
)

// FuzzParseHeader feeds Parse a header and a data area of the fuzzer's
// choosing. Parse must never panic, and whatever it accepts must be
// internally consistent: every tensor's bytes match its dtype and shape and
// convert without fault.
func FuzzParseHeader(f *testing.F) {
	f.Add([]byte(`{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}`), uint16(16))
	f.Add([]byte(`{"__metadata__": {"format": "pt"}, "a": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]},
		"b": {"dtype": "F16", "shape": [], "data_offsets": [6, 8]}}`), uint16(8))
	f.Add([]byte(`{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}`), uint16(12))
	f.Add([]byte(`{"w": {"dtype": "F64", "shape": [4611686018427387904], "data_offsets": [0, 0]}}`), uint16(0))
	f.Add([]byte(`{"w": {"dtype": "I64", "shape": [0, 7], "data_offsets": [3, 3]}}`), uint16(3))
	f.Add([]byte(`{}`), uint16(0))
	f.Fuzz(func(t *testing.T, header []byte, dataLen uint16) {
		data := make([]byte, dataLen)
		for i := range data {
			data[i] = byte(i * 7)
		}
		file, err := Parse(safetensorstest.Raw(header, data))
		if err != nil {
			return
		}
		for _, tn := range file.Tensors() {
			if len(tn.Data) != tn.NumElements()*tn.DType.Size() {
				t.Fatalf("tensor %q %s %v has %d bytes", tn.Name, tn.DType, tn.Shape, len(tn.Data))
			}
			if got, ok := file.Tensor(tn.Name); !ok || got.Name != tn.Name {
				t.Fatalf("tensor %q not found by name", tn.Name)
			}
			switch tn.DType {
			case F32, F16, BF16:
				if err := tn.Float32(make([]float32, tn.NumElements())); err != nil {
					t.Fatalf("tensor %q: %v", tn.Name, err)
				}
			}
		}
	})
}
