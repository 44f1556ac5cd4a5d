package runtime

import "golang.org/x/sys/unix"

// hugePages says whether adviseHugePages can ask for huge pages here.
const hugePages = true

// adviseHugePages asks the kernel to back b, not yet written, with
// transparent huge pages. It is a hint: a kernel without them (or with
// them disabled) leaves b on base pages, which changes nothing but speed.
func adviseHugePages(b []byte) { unix.Madvise(b, unix.MADV_HUGEPAGE) }
