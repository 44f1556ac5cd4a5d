//go:build !linux

package runtime

// hugePages says whether adviseHugePages can ask for huge pages here: not
// on this platform, where the weights stay where the loader put them.
var hugePages = false

func adviseHugePages([]byte) {}
