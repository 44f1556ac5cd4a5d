package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWarnsOfUnusedLMHead: the demo checkpoint (tie_word_embeddings true)
// with an lm_head that differs from wte in one value runs as the config
// says, and the command says so on stderr in one line naming the file and
// the tensor, as it does for a merges file cut short.
func TestWarnsOfUnusedLMHead(t *testing.T) {
	dir := demoWith(t, "model.safetensors", func(path string) {
		st, err := os.ReadFile(filepath.Join("..", "..", "model", "demo", "model.safetensors"))
		require.NoError(t, err)
		n := binary.LittleEndian.Uint64(st)
		var header map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(st[8:8+n], &header))
		var wte struct {
			DType   string `json:"dtype"`
			Shape   []int  `json:"shape"`
			Offsets [2]int `json:"data_offsets"`
		}
		require.NoError(t, json.Unmarshal(header["wte.weight"], &wte))
		data := st[8+n:]
		head := append([]byte(nil), data[wte.Offsets[0]:wte.Offsets[1]]...)
		head[1] ^= 0x80 // the first value's sign
		lm := wte
		lm.Offsets = [2]int{len(data), len(data) + len(head)}
		header["lm_head.weight"], err = json.Marshal(lm)
		require.NoError(t, err)
		h, err := json.Marshal(header)
		require.NoError(t, err)
		out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		out = append(append(append(out, h...), data...), head...)
		require.NoError(t, os.WriteFile(path, out, 0o644))
	})
	code, out, errOut := runCLI("", "run", "-m", dir, "-n", "2", "--temp", "0", "Hello")
	require.Equal(t, 0, code, errOut)
	_, want, _ := runCLI("", "run", "-n", "2", "--temp", "0", "Hello")
	assert.Equal(t, want, out, "the demo's output: wte is the output projection")
	assert.Equal(t, "goformer: warning: "+filepath.Join(dir, "model.safetensors")+`: tensor "lm_head.weight" differs from "wte.weight", but config.json says tie_word_embeddings true: the output projection is "wte.weight", as the config says, and "lm_head.weight" is not used`+"\n",
		errOut)
	assert.Equal(t, 1, strings.Count(errOut, "\n"))
}
