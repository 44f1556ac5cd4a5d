package model

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"

	"github.com/goformer/goformer/model/safetensors"
)

// gpt2Tensor is a tensor a GPT-2 checkpoint must hold, named without the
// "transformer." prefix, and the Weights field it fills.
type gpt2Tensor struct {
	name  string
	shape []int // as stored
	// conv1D marks Hugging Face's Conv1D weights, stored [in, out] for
	// y = x·W; they are transposed once into the run-time [out][in].
	conv1D bool
	dst    *[]float32
}

// gpt2Layout lists the tensors of a GPT-2 checkpoint with config c, in file
// order, pointing into w.
func gpt2Layout(c *Config, w *Weights) []gpt2Tensor {
	d, ff, v := c.NEmbd, c.NInner, c.VocabSize
	ts := []gpt2Tensor{{name: "wte.weight", shape: []int{v, d}, dst: &w.TokenEmbedding}}
	if c.Arch.Positions == LearnedPositions {
		ts = append(ts, gpt2Tensor{name: "wpe.weight", shape: []int{c.NPositions, d}, dst: &w.PositionEmbedding})
	}
	for i := range w.Layers {
		l := &w.Layers[i]
		h := func(s string) string { return "h." + strconv.Itoa(i) + "." + s }
		ts = append(ts,
			gpt2Tensor{name: h("ln_1.weight"), shape: []int{d}, dst: &l.LN1Gain},
			gpt2Tensor{name: h("ln_1.bias"), shape: []int{d}, dst: &l.LN1Bias},
			gpt2Tensor{name: h("attn.c_attn.weight"), shape: []int{d, 3 * d}, conv1D: true, dst: &l.QKV},
			gpt2Tensor{name: h("attn.c_attn.bias"), shape: []int{3 * d}, dst: &l.QKVBias},
			gpt2Tensor{name: h("attn.c_proj.weight"), shape: []int{d, d}, conv1D: true, dst: &l.AttnOut},
			gpt2Tensor{name: h("attn.c_proj.bias"), shape: []int{d}, dst: &l.AttnOutBias},
			gpt2Tensor{name: h("ln_2.weight"), shape: []int{d}, dst: &l.LN2Gain},
			gpt2Tensor{name: h("ln_2.bias"), shape: []int{d}, dst: &l.LN2Bias},
			gpt2Tensor{name: h("mlp.c_fc.weight"), shape: []int{d, ff}, conv1D: true, dst: &l.FC},
			gpt2Tensor{name: h("mlp.c_fc.bias"), shape: []int{ff}, dst: &l.FCBias},
			gpt2Tensor{name: h("mlp.c_proj.weight"), shape: []int{ff, d}, conv1D: true, dst: &l.FCOut},
			gpt2Tensor{name: h("mlp.c_proj.bias"), shape: []int{d}, dst: &l.FCOutBias},
		)
	}
	if c.Arch.FinalNorm {
		ts = append(ts,
			gpt2Tensor{name: "ln_f.weight", shape: []int{d}, dst: &w.FinalGain},
			gpt2Tensor{name: "ln_f.bias", shape: []int{d}, dst: &w.FinalBias})
	}
	return ts
}

// lmHeadName is the untied output projection, an nn.Linear stored [vocab][d].
const lmHeadName = "lm_head.weight"

// layerName matches a block's tensors, to spot a checkpoint with more layers
// than its config and the causal-mask buffers Hugging Face saves.
var layerName = regexp.MustCompile(`^h\.(\d+)\.(.*)$`)

// gpt2Weights checks every tensor of tt against c before converting any, then
// converts them to fp32 in run-time layout. An lm_head equal to wte is tied,
// otherwise it becomes Weights.Output; c.Arch.TiedEmbeddings is set to
// whichever the weights say.
func gpt2Weights(c *Config, tt *tensorTable) (Weights, error) {
	w := Weights{Layers: make([]Layer, c.NLayer)}
	layout := gpt2Layout(c, &w)
	var lmHead []float32
	_, hasHead := tt.byName[lmHeadName]
	if hasHead {
		layout = append(layout, gpt2Tensor{name: lmHeadName, shape: []int{c.VocabSize, c.NEmbd}, dst: &lmHead})
	} else if !c.Arch.TiedEmbeddings {
		return Weights{}, fmt.Errorf("%s: %w: tensor %q %v is missing, and config.json says tie_word_embeddings false",
			tt.source, ErrTensorMismatch, lmHeadName, []int{c.VocabSize, c.NEmbd})
	}

	claimed := make(map[string]bool, len(layout))
	scratch := 0
	for _, want := range layout {
		t, ok := tt.byName[want.name]
		if !ok {
			return Weights{}, fmt.Errorf("%s: %w: tensor %q %v is missing", tt.source, ErrTensorMismatch, want.name, want.shape)
		}
		if !slices.Equal(t.Shape, want.shape) {
			return Weights{}, fmt.Errorf("%s: %w: tensor %q has shape %v, expected %v", t.file, ErrTensorMismatch, t.Name, t.Shape, want.shape)
		}
		switch t.DType {
		case safetensors.F32, safetensors.F16, safetensors.BF16:
		default:
			return Weights{}, fmt.Errorf("%s: %w: tensor %q %v has dtype %s; goformer reads F32, F16 and BF16",
				t.file, ErrTensorMismatch, t.Name, t.Shape, t.DType)
		}
		claimed[want.name] = true
		if want.conv1D {
			scratch = max(scratch, t.NumElements())
		}
	}
	if err := checkUnknown(c, tt, claimed); err != nil {
		return Weights{}, err
	}

	buf := make([]float32, scratch)
	for _, want := range layout {
		t := tt.byName[want.name]
		n := t.NumElements()
		*want.dst = make([]float32, n)
		src := *want.dst
		if want.conv1D {
			src = buf[:n]
		}
		if err := t.Float32(src); err != nil {
			return Weights{}, fmt.Errorf("%s: %w", t.file, err)
		}
		if want.conv1D {
			transpose(*want.dst, src, t.Shape[0], t.Shape[1])
		}
	}

	c.Arch.TiedEmbeddings = !hasHead || sameBits(lmHead, w.TokenEmbedding)
	if !c.Arch.TiedEmbeddings {
		w.Output = lmHead
	}
	return w, nil
}

// checkUnknown rejects any tensor the layout did not claim, except the causal
// mask buffers (h.N.attn.bias, h.N.attn.masked_bias) that goformer computes.
func checkUnknown(c *Config, tt *tensorTable, claimed map[string]bool) error {
	names := make([]string, 0, len(tt.byName))
	for name := range tt.byName {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if claimed[name] {
			continue
		}
		t := tt.byName[name]
		if m := layerName.FindStringSubmatch(name); m != nil {
			layer, err := strconv.Atoi(m[1])
			if err == nil && layer < c.NLayer && (m[2] == "attn.bias" || m[2] == "attn.masked_bias") {
				continue
			}
			if err != nil || layer >= c.NLayer {
				return fmt.Errorf("%s: %w: unknown tensor %q %v: config.json has n_layer %d",
					t.file, ErrTensorMismatch, t.Name, t.Shape, c.NLayer)
			}
		}
		return fmt.Errorf("%s: %w: unknown tensor %q %v", t.file, ErrTensorMismatch, t.Name, t.Shape)
	}
	return nil
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

// transpose writes the rows×cols matrix src into dst as cols×rows:
//
//	for i := range rows {
//		for j := range cols {
//			dst[j*rows+i] = src[i*cols+j]
//		}
//	}
//
// in 16×16 tiles, writing each tile row of dst sequentially, so that both
// sides stay in cache on GPT-2-sized matrices.
func transpose(dst, src []float32, rows, cols int) {
	const tile = 16
	for j0 := 0; j0 < cols; j0 += tile {
		j1 := min(j0+tile, cols)
		for i0 := 0; i0 < rows; i0 += tile {
			i1 := min(i0+tile, rows)
			for j := j0; j < j1; j++ {
				d := dst[j*rows+i0 : j*rows+i1]
				s := src[i0*cols+j:]
				for k := range d {
					d[k] = s[k*cols]
				}
			}
		}
	}
}
