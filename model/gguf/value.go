package gguf

import (
	"encoding/binary"
	"math"
)

// Value is one metadata value. Its accessors report false when the value
// is not of the kind asked for.
type Value struct {
	Type ValueType
	bits uint64 // integers (signed ones sign-extended), bool, float64 bits of a float
	str  string
	arr  *ArrayValue
}

// ArrayValue is a metadata array: Len elements of type Elem. Fixed-size
// elements stay in their encoded bytes until asked for, so an array costs
// no more memory than its bytes in the file.
type ArrayValue struct {
	Elem   ValueType
	n      int
	raw    []byte       // fixed-size elements, little-endian, aliasing nothing
	strs   []string     // Elem == String
	arrays []ArrayValue // Elem == Array
}

// Int returns an integer value of any width and signedness; false for other
// types and for a uint64 above math.MaxInt64.
func (v Value) Int() (int64, bool) {
	if !v.Type.isInt() || (v.Type == Uint64 && v.bits > math.MaxInt64) {
		return 0, false
	}
	return int64(v.bits), true
}

// Float returns a float32 or float64 value.
func (v Value) Float() (float64, bool) {
	if v.Type != Float32 && v.Type != Float64 {
		return 0, false
	}
	return math.Float64frombits(v.bits), true
}

// Bool returns a bool value.
func (v Value) Bool() (bool, bool) { return v.bits != 0, v.Type == Bool }

// Text returns a string value.
func (v Value) Text() (string, bool) { return v.str, v.Type == String }

// Array returns an array value.
func (v Value) Array() (*ArrayValue, bool) { return v.arr, v.Type == Array }

// Len is the number of elements.
func (a *ArrayValue) Len() int { return a.n }

// Index returns element i, which must be in 0..Len()-1.
func (a *ArrayValue) Index(i int) Value {
	switch a.Elem {
	case String:
		return Value{Type: String, str: a.strs[i]}
	case Array:
		return Value{Type: Array, arr: &a.arrays[i]}
	}
	sz := a.Elem.size()
	return decodeFixed(a.Elem, a.raw[i*sz:(i+1)*sz])
}

// Strings returns the elements of an array of strings.
func (a *ArrayValue) Strings() ([]string, bool) { return a.strs, a.Elem == String }

// decodeFixed decodes one fixed-size value of type t from b (len t.size()).
func decodeFixed(t ValueType, b []byte) Value {
	v := Value{Type: t}
	switch t {
	case Uint8, Bool:
		v.bits = uint64(b[0])
	case Int8:
		v.bits = uint64(int64(int8(b[0])))
	case Uint16:
		v.bits = uint64(binary.LittleEndian.Uint16(b))
	case Int16:
		v.bits = uint64(int64(int16(binary.LittleEndian.Uint16(b))))
	case Uint32:
		v.bits = uint64(binary.LittleEndian.Uint32(b))
	case Int32:
		v.bits = uint64(int64(int32(binary.LittleEndian.Uint32(b))))
	case Float32:
		v.bits = math.Float64bits(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))))
	case Uint64, Int64:
		v.bits = binary.LittleEndian.Uint64(b)
	case Float64:
		v.bits = binary.LittleEndian.Uint64(b)
	}
	return v
}
