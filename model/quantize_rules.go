package model

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/goformer/goformer/model/gguf"
)

// QuantizePreset is a llama-quantize file type goformer writes: the type of
// most matrices, and the number general.file_type records (llama.cpp's
// llama_ftype).
type QuantizePreset struct {
	Name     string
	Default  gguf.TensorType
	FileType uint32
}

// QuantizePresets are the presets of goformer quantize, as llama-quantize
// names them.
var QuantizePresets = []QuantizePreset{
	{"Q8_0", gguf.Q8_0, 7},
	{"Q4_0", tQ4_0, 2},
	{"Q4_K_M", tQ4_K, 15},
	{"Q5_K_M", tQ5_K, 17},
	{"Q6_K", tQ6_K, 18},
}

// The block types the rules name (gguf.TensorType numbers).
const (
	tQ4_0 gguf.TensorType = 2
	tQ4_1 gguf.TensorType = 3
	tQ5_0 gguf.TensorType = 6
	tQ5_1 gguf.TensorType = 7
	tQ3_K gguf.TensorType = 11
	tQ4_K gguf.TensorType = 12
	tQ5_K gguf.TensorType = 13
	tQ6_K gguf.TensorType = 14
)

// LookupQuantizePreset returns the preset called name.
func LookupQuantizePreset(name string) (QuantizePreset, error) {
	var names []string
	for _, p := range QuantizePresets {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return QuantizePreset{}, fmt.Errorf("%w: quantization type %q (goformer writes %s)", ErrUnsupported, name, strings.Join(names, ", "))
}

// QuantizeRule is the rule by which goformer quantize picks each tensor's
// type, the one llama-quantize applies (llama_tensor_get_type in llama.cpp's
// src/llama-quant.cpp) without an importance matrix, for a model with no
// experts; printed by goformer quantize -h.
const QuantizeRule = `Which tensors are quantized: those of 2 or more dimensions (trailing 1s
do not count) whose names end in "weight", except norms (*_norm.weight),
position_embd, token_types, ffn_gate_inp and other small tables llama.cpp
keeps; every other tensor is copied as it is.

Type of each quantized tensor, for preset P with default type D
(Q8_0→Q8_0, Q4_0→Q4_0, Q4_K_M→Q4_K, Q5_K_M→Q5_K, Q6_K→Q6_K):
  output.weight (or token_embd.weight when there is no output.weight):
      Q8_0 if its row width is not a multiple of D's block, or D is Q8_0;
      else Q6_K
  attn_v / attn_qkv / attn_kv_b, the i-th of n (in file order by layer):
      Q4_K_M, Q5_K_M: Q6_K if more(i, n), else D
      (a 70B Llama, 80 layers with grouped keys: Q4_K becomes Q5_K)
  ffn_down, the i-th (its layer) of n layers:
      Q4_K_M, Q5_K_M: Q6_K if more(i, n), else D
  everything else (token_embd with an output, attn_q/k/output, ffn_up/gate): D
  where more(i, n) = i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2.

Fallback when a row width is not a multiple of the chosen type's block
(256 for K-quants, e.g. SmolLM2's 576 or Qwen2.5-0.5B's 896):
  Q4_K→Q5_0, Q5_K→Q5_1, Q6_K→Q8_0; and F16 if even that does not fit (32).
A tensor already in its chosen type is copied; F16, BF16 and quantized
inputs are expanded to F32 first (requantizing, as llama-quantize
--allow-requantize), but an input already coarser than its target
(fewer bits per weight) is an error.`

// moreBits is llama.cpp's use_more_bits: the layers of n that Q4_K_M and
// Q5_K_M give Q6_K — the first and last eighth and every third between.
func moreBits(i, n int) bool {
	return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2
}

// tensorLayer is the N of a "blk.N." name, -1 for others.
func tensorLayer(name string) int {
	rest, ok := strings.CutPrefix(name, "blk.")
	if !ok {
		return -1
	}
	n, _, ok := strings.Cut(rest, ".")
	if !ok {
		return -1
	}
	i, err := strconv.Atoi(n)
	if err != nil {
		return -1
	}
	return i
}

// llamaQuantizeOrder is the order llama-quantize writes tensors in (its
// loader's weight_name_comparer): by layer, tensors outside layers first,
// then by name.
func llamaQuantizeOrder(a, b string) int {
	if la, lb := tensorLayer(a), tensorLayer(b); la != lb {
		return la - lb
	}
	return strings.Compare(a, b)
}

// nDims is ggml_n_dims: the dimensions up to the last one above 1.
func nDims(dims []int) int {
	n := 1
	for i, d := range dims {
		if d > 1 {
			n = i + 1
		}
	}
	return n
}

// keptTensors are the name fragments of 2-D weights llama-quantize never
// quantizes (tensor_allows_quantization).
var keptTensors = []string{"_norm.weight", "ffn_gate_inp.weight", "altup", "laurel", "per_layer_model_proj",
	"ssm_conv1d", "attn_rel_b.weight", ".position_embd", ".rel_pos", ".patch_embd",
	"time_mix_first.weight", "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight"}

// allowsQuantization is whether llama-quantize would quantize the tensor.
func allowsQuantization(name string, dims []int) bool {
	if nDims(dims) < 2 || !strings.HasSuffix(name, "weight") {
		return false
	}
	if name == "position_embd.weight" || name == "token_types.weight" {
		return false
	}
	for _, k := range keptTensors {
		if strings.Contains(name, k) {
			return false
		}
	}
	return true
}

// quantPlan holds the counts the rule needs across tensors.
type quantPlan struct {
	preset       QuantizePreset
	nLayer       int
	tied         bool // no output.weight: token_embd is the output
	llama70B     bool
	nAttnV, iAtt int
	iDown        int
}

func isAttnV(name string) bool {
	return strings.Contains(name, "attn_v.weight") || strings.Contains(name, "attn_qkv.weight") || strings.Contains(name, "attn_kv_b.weight")
}

// newQuantPlan counts what the rule needs over the names, in
// llamaQuantizeOrder.
func newQuantPlan(p QuantizePreset, names []string, nLayer int, llama70B bool) *quantPlan {
	q := &quantPlan{preset: p, nLayer: nLayer, tied: true, llama70B: llama70B}
	for _, n := range names {
		if isAttnV(n) {
			q.nAttnV++
		}
		if n == "output.weight" {
			q.tied = false
		}
	}
	return q
}

// choose returns the type of the tensor called name with ne dims, and
// whether the shape forced a fallback. Call it once per tensor that
// allowsQuantization, in llamaQuantizeOrder: the attn_v and ffn_down
// counts advance (llama.cpp counts them, and its order makes the count the
// layer).
func (q *quantPlan) choose(name string, dims []int) (t gguf.TensorType, fallback bool) {
	d := q.preset.Default
	t = d
	cols := dims[0]
	kQuantMix := q.preset.Name == "Q4_K_M" || q.preset.Name == "Q5_K_M"
	switch {
	case name == "output.weight" || q.tied && name == "token_embd.weight":
		if cols%d.BlockLen() != 0 {
			t = gguf.Q8_0
		} else if d != gguf.Q8_0 {
			t = tQ6_K
		}
	case name == "token_embd.weight":
	case isAttnV(name):
		if kQuantMix && moreBits(q.iAtt, q.nAttnV) {
			t = tQ6_K
		}
		if q.llama70B && (t == tQ3_K || t == tQ4_K) {
			t = tQ5_K
		}
		q.iAtt++
	case strings.Contains(name, "ffn_down"):
		if kQuantMix && moreBits(q.iDown, q.nLayer) {
			t = tQ6_K
		}
		q.iDown++
	}
	if cols%t.BlockLen() == 0 {
		return t, false
	}
	switch t {
	case tQ4_K:
		t = tQ5_0
	case tQ5_K:
		t = tQ5_1
	case tQ6_K:
		t = gguf.Q8_0
	}
	if cols%t.BlockLen() != 0 {
		t = gguf.F16
	}
	return t, true
}
