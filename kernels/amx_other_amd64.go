//go:build amd64 && !purego && !linux

package kernels

// amxPermitted: goformer asks for AMX only on Linux.
func amxPermitted() bool { return false }
