package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/goformer/goformer/kernels"
)

// DType is a tensor's element type as the header spells it: "F32", "BF16", ...
type DType string

// The element types Float32 converts from.
const (
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
)

// dtypeSizes lists every dtype the format defines, so that a file holding
// tensors goformer never converts (an I64 buffer, say) still parses.
var dtypeSizes = map[DType]int{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, F16: 2, BF16: 2,
	"I32": 4, "U32": 4, F32: 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// Size is the dtype's element size in bytes, 0 for a dtype the format does not define.
func (d DType) Size() int { return dtypeSizes[d] }

// decodeFloat32 converts little-endian elements of dtype d in src to dst;
// len(src) is len(dst)·d.Size().
func decodeFloat32(dst []float32, src []byte, d DType) error {
	switch d {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case F16:
		for i := range dst {
			dst[i] = kernels.Float16ToFloat32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case BF16:
		// bfloat16 is the top half of a float32.
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
		}
	default:
		return fmt.Errorf("dtype %s cannot be converted to float32 (F32, F16 and BF16 can)", d)
	}
	return nil
}
