package safetensors

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// IndexFile is the name of a sharded checkpoint's index.
const IndexFile = "model.safetensors.index.json"

// Index is a sharded checkpoint's model.safetensors.index.json: which shard
// file holds each tensor.
type Index struct {
	Metadata  map[string]any    `json:"metadata"`
	WeightMap map[string]string `json:"weight_map"` // tensor name -> shard file name
}

// ParseIndex reads an index. Shard names must be plain file names, so an
// index cannot point outside its directory.
func ParseIndex(data []byte) (*Index, error) {
	var ix Index
	if err := json.Unmarshal(data, &ix); err != nil {
		return nil, fmt.Errorf("%w: index JSON: %v", ErrInvalid, err)
	}
	if len(ix.WeightMap) == 0 {
		return nil, fmt.Errorf("%w: index has no weight_map", ErrInvalid)
	}
	for _, name := range ix.sortedNames() {
		shard := ix.WeightMap[name]
		if shard == "" || shard == "." || shard == ".." || strings.ContainsAny(shard, `/\`) {
			return nil, fmt.Errorf("%w: index maps tensor %q to %q, which is not a file name", ErrInvalid, name, shard)
		}
	}
	return &ix, nil
}

// Shards lists the distinct shard file names, sorted.
func (ix *Index) Shards() []string {
	seen := map[string]bool{}
	var shards []string
	for _, s := range ix.WeightMap {
		if !seen[s] {
			seen[s] = true
			shards = append(shards, s)
		}
	}
	sort.Strings(shards)
	return shards
}

func (ix *Index) sortedNames() []string {
	names := make([]string, 0, len(ix.WeightMap))
	for n := range ix.WeightMap {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
