//go:build !linux

package runtime

// newHugeArena has no huge pages to offer here: the weights stay where the
// loader put them.
func newHugeArena(int) *weightArena { return nil }
