package model

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
)

// gpt2Layout lists the tensors of a GPT-2 checkpoint with config c, in file
// order, pointing into w; each block's fused query/key/value matrix goes to
// qkv[i], which gpt2Weights splits.
func gpt2Layout(c *Config, w *Weights, qkv []*Matrix) []hfTensor {
	d, ff, v := c.NEmbd, c.NInner, c.VocabSize
	conv := func(name string, in, out int, dst **Matrix) hfTensor {
		return hfTensor{name: name, shape: []int{in, out}, conv1D: true, matrix: dst}
	}
	ts := []hfTensor{hfMatrix("wte.weight", v, d, &w.TokenEmbedding)}
	if c.Arch.Positions == LearnedPositions {
		ts = append(ts, hfVector("wpe.weight", c.NPositions*d, &w.PositionEmbedding))
		ts[len(ts)-1].shape = []int{c.NPositions, d}
	}
	for i := range w.Layers {
		l := &w.Layers[i]
		h := func(s string) string { return "h." + strconv.Itoa(i) + "." + s }
		ts = append(ts,
			hfVector(h("ln_1.weight"), d, &l.AttnNorm.Gain),
			hfVector(h("ln_1.bias"), d, &l.AttnNorm.Bias),
			conv(h("attn.c_attn.weight"), d, 3*d, &qkv[i]),
			hfVector(h("attn.c_attn.bias"), 3*d, &l.QBias), // split with the matrix
			conv(h("attn.c_proj.weight"), d, d, &l.O),
			hfVector(h("attn.c_proj.bias"), d, &l.OBias),
			hfVector(h("ln_2.weight"), d, &l.MLPNorm.Gain),
			hfVector(h("ln_2.bias"), d, &l.MLPNorm.Bias),
			conv(h("mlp.c_fc.weight"), d, ff, &l.Up),
			hfVector(h("mlp.c_fc.bias"), ff, &l.UpBias),
			conv(h("mlp.c_proj.weight"), ff, d, &l.Down),
			hfVector(h("mlp.c_proj.bias"), d, &l.DownBias),
		)
	}
	if c.Arch.FinalNorm {
		ts = append(ts,
			hfVector("ln_f.weight", d, &w.FinalNorm.Gain),
			hfVector("ln_f.bias", d, &w.FinalNorm.Bias))
	}
	return ts
}

// lmHeadName is the untied output projection, an nn.Linear stored [vocab][d].
const lmHeadName = "lm_head.weight"

// layerName matches a block's tensors, to spot a checkpoint with more layers
// than its config and the causal-mask buffers Hugging Face saves.
var layerName = regexp.MustCompile(`^h\.(\d+)\.(.*)$`)

// gpt2Weights checks every tensor of tt against c before converting any, then
// converts them to fp32 in run-time layout. With tie_word_embeddings true
// (GPT-2's default) the output projection is wte, as Hugging Face ties it;
// a stored lm_head that differs is not used, and the returned warning says
// so (tiedHeadWarning). With tie_word_embeddings false an lm_head equal to
// wte is still tied (one table), otherwise it becomes Weights.Output.
func gpt2Weights(c *Config, tt *tensorTable) (Weights, string, error) {
	w := Weights{Layers: make([]Layer, c.NLayer)}
	qkv := make([]*Matrix, c.NLayer)
	layout := gpt2Layout(c, &w, qkv)
	var lmHead *Matrix
	_, hasHead := tt.byName[lmHeadName]
	if hasHead {
		layout = append(layout, hfMatrix(lmHeadName, c.VocabSize, c.NEmbd, &lmHead))
	} else if !c.Arch.TiedEmbeddings {
		return Weights{}, "", fmt.Errorf("%s: %w: tensor %q %v is missing, and config.json says tie_word_embeddings false",
			tt.source, ErrTensorMismatch, lmHeadName, []int{c.VocabSize, c.NEmbd})
	}
	if err := loadHFTensors(tt, layout, func(name string, t storedTensor) error {
		return gpt2Unknown(c, name, t)
	}); err != nil {
		return Weights{}, "", err
	}
	d := c.NEmbd
	for i := range w.Layers {
		l := &w.Layers[i]
		l.Q, l.K, l.V = qkv[i].RowRange(0, d), qkv[i].RowRange(d, 2*d), qkv[i].RowRange(2*d, 3*d)
		b := l.QBias
		l.QBias, l.KBias, l.VBias = b[:d:d], b[d:2*d:2*d], b[2*d:]
	}
	if c.Arch.TiedEmbeddings {
		return w, tiedHeadWarning(tt, lmHead, w.TokenEmbedding, "wte.weight"), nil
	}
	if sameBits(lmHead.F32, w.TokenEmbedding.F32) {
		c.Arch.TiedEmbeddings = true
	} else {
		w.Output = lmHead
	}
	return w, "", nil
}

// gpt2Unknown rejects a tensor the layout did not claim, except the causal
// mask buffers (h.N.attn.bias, h.N.attn.masked_bias) that goformer computes.
func gpt2Unknown(c *Config, name string, t storedTensor) error {
	if m := layerName.FindStringSubmatch(name); m != nil {
		layer, err := strconv.Atoi(m[1])
		if err == nil && layer < c.NLayer && (m[2] == "attn.bias" || m[2] == "attn.masked_bias") {
			return nil
		}
		if err != nil || layer >= c.NLayer {
			return unknownTensor(t, fmt.Sprintf(": config.json has n_layer %d", c.NLayer))
		}
	}
	return unknownTensor(t, "")
}

// sameBits reports whether a and b hold the same float32 encodings.
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
