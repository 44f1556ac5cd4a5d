package gguf

import "fmt"

// ValueType is the type of a metadata value.
type ValueType uint32

// The metadata value types of GGUF v3.
const (
	Uint8 ValueType = iota
	Int8
	Uint16
	Int16
	Uint32
	Int32
	Float32
	Bool
	String
	Array
	Uint64
	Int64
	Float64
)

var valueTypeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32",
	"float32", "bool", "string", "array", "uint64", "int64", "float64"}

func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("type %d", uint32(t))
}

// size is the encoded size of a fixed-size value, 0 for string, array and
// unknown types.
func (t ValueType) size() int {
	switch t {
	case Uint8, Int8, Bool:
		return 1
	case Uint16, Int16:
		return 2
	case Uint32, Int32, Float32:
		return 4
	case Uint64, Int64, Float64:
		return 8
	}
	return 0
}

func (t ValueType) isInt() bool {
	switch t {
	case Uint8, Int8, Uint16, Int16, Uint32, Int32, Uint64, Int64:
		return true
	}
	return false
}

// minSize is the fewest bytes a value of type t takes in a file: a string
// or array is at least its 8-byte length (an array also its element type).
func (t ValueType) minSize() int {
	switch t {
	case String:
		return 8
	case Array:
		return 12
	}
	return t.size()
}

// TensorType is a ggml tensor type: how a tensor's elements are stored.
type TensorType uint32

// The ggml tensor types goformer names in messages; only F32, F16 and Q8_0
// are read by model.
const (
	F32  TensorType = 0
	F16  TensorType = 1
	Q8_0 TensorType = 8
	BF16 TensorType = 30
)

// tensorTraits are a ggml type's name and block layout: elements per block
// and bytes per block (ggml's type_traits blck_size and type_size).
type tensorTraits struct {
	name             string
	blockLen, blockB int
}

var tensorTypes = map[TensorType]tensorTraits{
	0: {"F32", 1, 4}, 1: {"F16", 1, 2}, 2: {"Q4_0", 32, 18}, 3: {"Q4_1", 32, 20},
	6: {"Q5_0", 32, 22}, 7: {"Q5_1", 32, 24}, 8: {"Q8_0", 32, 34}, 9: {"Q8_1", 32, 36},
	10: {"Q2_K", 256, 84}, 11: {"Q3_K", 256, 110}, 12: {"Q4_K", 256, 144}, 13: {"Q5_K", 256, 176},
	14: {"Q6_K", 256, 210}, 15: {"Q8_K", 256, 292}, 16: {"IQ2_XXS", 256, 66}, 17: {"IQ2_XS", 256, 74},
	18: {"IQ3_XXS", 256, 98}, 19: {"IQ1_S", 256, 50}, 20: {"IQ4_NL", 32, 18}, 21: {"IQ3_S", 256, 110},
	22: {"IQ2_S", 256, 82}, 23: {"IQ4_XS", 256, 136}, 24: {"I8", 1, 1}, 25: {"I16", 1, 2},
	26: {"I32", 1, 4}, 27: {"I64", 1, 8}, 28: {"F64", 1, 8}, 29: {"IQ1_M", 256, 56},
	30: {"BF16", 1, 2}, 34: {"TQ1_0", 256, 54}, 35: {"TQ2_0", 256, 66}, 39: {"MXFP4", 32, 17},
}

func (t TensorType) String() string {
	if tr, ok := tensorTypes[t]; ok {
		return tr.name
	}
	return fmt.Sprintf("type %d", uint32(t))
}

// BlockLen is the number of elements in one block of t (1 for F32 and F16,
// 32 for Q8_0), 0 for a type this package does not know.
func (t TensorType) BlockLen() int { return tensorTypes[t].blockLen }

// BlockBytes is the size of one block of t in bytes, 0 for an unknown type.
func (t TensorType) BlockBytes() int { return tensorTypes[t].blockB }
