package runtime

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePageSize is the size of a transparent huge page on amd64 and arm64
// with 4 KiB base pages.
const hugePageSize = 2 << 20

// newHugeArena maps size bytes of anonymous memory, 2 MiB aligned, and
// advises the kernel to back it with transparent huge pages. It returns nil
// when either fails (THP compiled out, for instance) or size is 0.
func newHugeArena(size int) *weightArena {
	if size == 0 {
		return nil
	}
	size = (size + hugePageSize - 1) &^ (hugePageSize - 1)
	mapped, err := unix.Mmap(-1, 0, size+hugePageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil
	}
	skip := (hugePageSize - int(uintptrOf(mapped))%hugePageSize) % hugePageSize
	buf := mapped[skip : skip+size]
	if err := unix.Madvise(buf, unix.MADV_HUGEPAGE); err != nil {
		unix.Munmap(mapped)
		return nil
	}
	return &weightArena{buf: buf, free: func() { unix.Munmap(mapped) }}
}

func uintptrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
