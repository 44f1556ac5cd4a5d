package model

import (
	"fmt"
	"regexp"
	"strconv"
)

// llamaBiases says which biases a Llama-family checkpoint holds: Qwen2 has
// them on q, k and v; attention_bias and mlp_bias turn on the others.
type llamaBiases struct{ qkv, out, mlp bool }

// llamaLayout lists the tensors of a Hugging Face Llama, Mistral or Qwen2
// checkpoint with config c, pointing into w. lm_head is added by
// llamaWeights when the model is untied.
func llamaLayout(c *Config, w *Weights, b llamaBiases) []hfTensor {
	d, ff, v := c.NEmbd, c.NInner, c.VocabSize
	qd, kvd := c.QueryDim(), c.KVDim()
	ts := []hfTensor{hfMatrix("model.embed_tokens.weight", v, d, &w.TokenEmbedding)}
	bias := func(on bool, name string, n int, dst *[]float32) []hfTensor {
		if !on {
			return nil
		}
		return []hfTensor{hfVector(name, n, dst)}
	}
	for i := range w.Layers {
		l := &w.Layers[i]
		p := "model.layers." + strconv.Itoa(i) + "."
		ts = append(ts,
			hfVector(p+"input_layernorm.weight", d, &l.AttnNorm.Gain),
			hfMatrix(p+"self_attn.q_proj.weight", qd, d, &l.Q),
			hfMatrix(p+"self_attn.k_proj.weight", kvd, d, &l.K),
			hfMatrix(p+"self_attn.v_proj.weight", kvd, d, &l.V),
			hfMatrix(p+"self_attn.o_proj.weight", d, qd, &l.O),
			hfVector(p+"post_attention_layernorm.weight", d, &l.MLPNorm.Gain),
			hfMatrix(p+"mlp.gate_proj.weight", ff, d, &l.Gate),
			hfMatrix(p+"mlp.up_proj.weight", ff, d, &l.Up),
			hfMatrix(p+"mlp.down_proj.weight", d, ff, &l.Down),
		)
		ts = append(ts, bias(b.qkv, p+"self_attn.q_proj.bias", qd, &l.QBias)...)
		ts = append(ts, bias(b.qkv, p+"self_attn.k_proj.bias", kvd, &l.KBias)...)
		ts = append(ts, bias(b.qkv, p+"self_attn.v_proj.bias", kvd, &l.VBias)...)
		ts = append(ts, bias(b.out, p+"self_attn.o_proj.bias", d, &l.OBias)...)
		ts = append(ts, bias(b.mlp, p+"mlp.gate_proj.bias", ff, &l.GateBias)...)
		ts = append(ts, bias(b.mlp, p+"mlp.up_proj.bias", ff, &l.UpBias)...)
		ts = append(ts, bias(b.mlp, p+"mlp.down_proj.bias", d, &l.DownBias)...)
	}
	return append(ts, hfVector("model.norm.weight", d, &w.FinalNorm.Gain))
}

// llamaLayerName matches a block's tensors, to spot a checkpoint with more
// layers than its config and the rotary buffers older checkpoints save.
var llamaLayerName = regexp.MustCompile(`^model\.layers\.(\d+)\.(.*)$`)

// llamaWeights checks every tensor of tt against c before converting any,
// then converts them to fp32 in run-time layout. A tied model may still
// store lm_head; the output projection is the embedding, as the config says,
// and a stored lm_head that differs is not used (tiedHeadWarning).
func llamaWeights(c *Config, tt *tensorTable) (Weights, string, error) {
	w := Weights{Layers: make([]Layer, c.NLayer)}
	layout := llamaLayout(c, &w, llamaBiasesOf(c))
	var lmHead *Matrix
	_, hasHead := tt.byName[lmHeadName]
	switch {
	case hasHead:
		layout = append(layout, hfMatrix(lmHeadName, c.VocabSize, c.NEmbd, &lmHead))
	case !c.Arch.TiedEmbeddings:
		return Weights{}, "", fmt.Errorf("%s: %w: tensor %q %v is missing, and config.json says tie_word_embeddings false",
			tt.source, ErrTensorMismatch, lmHeadName, []int{c.VocabSize, c.NEmbd})
	}
	err := loadHFTensors(tt, layout, func(name string, t storedTensor) error {
		if m := llamaLayerName.FindStringSubmatch(name); m != nil {
			layer, err := strconv.Atoi(m[1])
			if err == nil && layer < c.NLayer && m[2] == "self_attn.rotary_emb.inv_freq" {
				return nil // computed from the config
			}
			if err != nil || layer >= c.NLayer {
				return unknownTensor(t, fmt.Sprintf(": config.json has num_hidden_layers %d", c.NLayer))
			}
		}
		return unknownTensor(t, "")
	})
	if err != nil {
		return Weights{}, "", err
	}
	if !c.Arch.TiedEmbeddings {
		w.Output = lmHead
		return w, "", nil
	}
	return w, tiedHeadWarning(tt, lmHead, w.TokenEmbedding, "model.embed_tokens.weight"), nil
}

// llamaBiasesOf says which biases a checkpoint of config c holds.
func llamaBiasesOf(c *Config) llamaBiases {
	return llamaBiases{qkv: c.ModelType == "qwen2" || c.AttentionBias, out: c.AttentionBias, mlp: c.MLPBias}
}
