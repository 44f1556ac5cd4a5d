package runtime

import "github.com/goformer/goformer/kernels"

// Footprint is how a loaded model keeps its weights in memory, as it runs
// them: every type is named as GGUF names it ("F32", "Q8_0", "Q4_K", …).
type Footprint struct {
	// Layers counts the layers' matrices by type. A fused query/key/value
	// (or gate/up) matrix counts once, or once per part where its parts
	// have different types, as in a Q4_K_M file whose value matrices are
	// Q6_K.
	Layers map[string]int
	// TokenTable is the type of the token embedding; Output that of an
	// untied output projection ("" when tied).
	TokenTable, Output string
	// BytesPerToken is the weight bytes a decode step reads: every layer's
	// matrices, the output projection (the token table, tied), and one row
	// of the token table.
	BytesPerToken int
}

// Footprint reports how m keeps its weights.
func (m *Model) Footprint() Footprint {
	f := Footprint{Layers: map[string]int{}}
	var count func(l linear)
	count = func(l linear) {
		if st, ok := l.(*stackedLinear); ok {
			for _, p := range st.parts {
				count(p)
			}
			return
		}
		f.Layers[linearType(l).String()]++
		f.BytesPerToken += l.bytes()
	}
	for _, L := range m.layers {
		for _, l := range []linear{L.qkv, L.out, L.up, L.down} {
			count(l)
		}
	}
	f.TokenTable = tableType(m.tokens).String()
	f.BytesPerToken += m.head.bytes() + m.tokens.bytes()/m.cfg.VocabSize
	if m.head != m.tokens {
		f.Output = tableType(m.head).String()
	}
	return f
}

func linearType(l linear) kernels.WeightType {
	if q, ok := l.(*quantLinear); ok {
		return q.m.WeightType().Plain() // as the file names it, interleaved or not
	}
	return kernels.F32
}

func tableType(t tokenTable) kernels.WeightType {
	if q, ok := t.(*quantTable); ok {
		return q.m.WeightType()
	}
	return kernels.F32
}
