package runtime

import (
	"fmt"
	"slices"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/quant"
)

// Weights selects how the linear layers (every block's four matrices and
// an untied output projection) are kept in memory.
type Weights int

const (
	// F32Weights keeps the matrices as the checkpoint has them: fp32 (F16
	// widened), and int8 for a GGUF file's Q8_0 tensors. The default.
	F32Weights Weights = iota
	// Int8Weights quantizes every fp32 matrix at load to int8 blocks of 32
	// values with one scale each (GGUF's Q8_0); activations are quantized
	// on the fly and multiplied with the int8 kernels. It reads a quarter
	// of the bytes per token and changes the perplexity by well under 1%
	// (TestInt8WeightsPerplexity).
	Int8Weights
)

func (w Weights) String() string {
	if w == Int8Weights {
		return "int8"
	}
	return "f32"
}

// ParseWeights reads "f32" or "int8".
func ParseWeights(s string) (Weights, error) {
	switch s {
	case "f32":
		return F32Weights, nil
	case "int8":
		return Int8Weights, nil
	}
	return 0, fmt.Errorf("unknown weights %q (want f32 or int8)", s)
}

// newLinear wraps a weight matrix as the checkpoint keeps it in the linear
// of its type, quantizing an fp32 one when opts ask for int8 weights.
func newLinear(name string, m *model.Matrix, opts Options) (linear, error) {
	twoPass := opts.Activations == TwoPassActivations
	switch {
	case opts.Activations != Int8Activations && !twoPass:
		return nil, fmt.Errorf("unknown activations %d", opts.Activations)
	case m.Blocks != nil:
		return &quantLinear{m: m.Blocks, twoPass: twoPass}, nil
	case m.Type() == kernels.Q8_0:
		return &quantLinear{m: m.Int8, twoPass: twoPass}, nil
	case m.Type() != kernels.F32:
		return nil, fmt.Errorf("%s: weight type %s has no linear", name, m.Type())
	case opts.Weights == F32Weights:
		return &f32Linear{p: kernels.PackPanels(m.F32, m.Rows, m.Cols)}, nil
	case opts.Weights != Int8Weights:
		return nil, fmt.Errorf("unknown weights %d", opts.Weights)
	case m.Cols%kernels.Q8Block != 0:
		return nil, fmt.Errorf("%s: int8 weights need rows of a multiple of %d values, it has %d", name, kernels.Q8Block, m.Cols)
	}
	q, err := quant.QuantizeMatrix(m.F32, m.Rows, m.Cols)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &quantLinear{m: q, twoPass: twoPass}, nil
}

// newLayerLinears builds a block's linears, fusing q/k/v and gate/up.
func newLayerLinears(p string, L *model.Layer, mlp model.MLPKind, opts Options) (layerLinears, error) {
	var ll layerLinears
	var err error
	lin := func(name string, m *model.Matrix) linear {
		var l linear
		if err == nil {
			l, err = newLinear(p+name, m, opts)
		}
		return l
	}
	// fused is one linear of the matrices stacked by rows: one matrix when
	// they share a type, a stackedLinear of one linear each when not.
	fused := func(name string, ms ...*model.Matrix) linear {
		if err != nil {
			return nil
		}
		if !sameType(ms) {
			st := &stackedLinear{}
			for _, m := range ms {
				st.parts = append(st.parts, lin(name, m))
				st.rows = append(st.rows, m.Rows)
				st.out += m.Rows
			}
			return st
		}
		f, ferr := fuseRows(ms...)
		if ferr != nil {
			err = fmt.Errorf("%s%s: %w", p, name, ferr)
			return nil
		}
		return lin(name, f)
	}
	ll.qkv = fused("query, key and value", L.Q, L.K, L.V)
	ll.qkvBias = fuseBiases([]int{L.Q.Rows, L.K.Rows, L.V.Rows}, L.QBias, L.KBias, L.VBias)
	ll.out = lin("attention output", L.O)
	if mlp == model.SwiGLUMLP {
		ll.up = fused("gate and up", L.Gate, L.Up)
		ll.upBias = fuseBiases([]int{L.Gate.Rows, L.Up.Rows}, L.GateBias, L.UpBias)
	} else {
		ll.up, ll.upBias = lin("up", L.Up), L.UpBias
	}
	ll.down = lin("down", L.Down)
	return ll, err
}

// fuseRows stacks matrices of one width and type, in order, into a new one.
func fuseRows(ms ...*model.Matrix) (*model.Matrix, error) {
	rows, cols := 0, ms[0].Cols
	for _, m := range ms {
		if m.Cols != cols || m.Type() != ms[0].Type() {
			return nil, fmt.Errorf("cannot fuse a %s %d×%d matrix with a %s %d×%d one", ms[0].Type(), ms[0].Rows, cols, m.Type(), m.Rows, m.Cols)
		}
		rows += m.Rows
	}
	if b := ms[0].Blocks; b != nil {
		q := &quant.BlockMatrix{Type: b.Type, Rows: rows, Cols: cols}
		for _, m := range ms {
			q.Data = append(q.Data, m.Blocks.Data...)
		}
		return model.BlockMatrix(q), nil
	}
	if ms[0].Int8 == nil {
		w := make([]float32, 0, rows*cols)
		for _, m := range ms {
			w = append(w, m.F32...)
		}
		return model.F32Matrix(w, rows, cols), nil
	}
	q := &quant.Matrix{Rows: rows, Cols: cols}
	for _, m := range ms {
		q.Q = append(q.Q, m.Int8.Q...)
		q.Scales = append(q.Scales, m.Int8.Scales...)
	}
	return model.Int8Matrix(q), nil
}

// sameType reports whether the matrices share one storage type.
func sameType(ms []*model.Matrix) bool {
	for _, m := range ms {
		if m.Type() != ms[0].Type() {
			return false
		}
	}
	return true
}

// fuseBiases concatenates the biases of fused matrices of the given row
// counts; a missing one is zeros, and with none at all the result is nil.
func fuseBiases(rows []int, biases ...[]float32) []float32 {
	if !slices.ContainsFunc(biases, func(b []float32) bool { return b != nil }) {
		return nil
	}
	var out []float32
	for i, b := range biases {
		if b == nil {
			b = make([]float32, rows[i])
		}
		out = append(out, b...)
	}
	return out
}
