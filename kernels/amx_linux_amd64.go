//go:build amd64 && !purego && linux

package kernels

import "syscall"

// amxPermitted asks Linux for the AMX tile data state (arch_prctl
// ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA), without which the first tile
// instruction faults. The permission is the process's, for all its
// threads; Go's signal stacks (32 KiB) hold the larger signal frame it
// brings (AT_MINSIGSTKSZ is 11,952 bytes on a Sapphire Rapids-class Xeon
// under Linux 6.18).
func amxPermitted() bool {
	const archReqXcompPerm, xfeatureXTileData = 0x1023, 18
	_, _, errno := syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archReqXcompPerm, xfeatureXTileData, 0)
	return errno == 0
}
