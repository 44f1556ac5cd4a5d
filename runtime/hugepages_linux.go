package runtime

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// hugePages says whether adviseHugePages asks for huge pages: yes, unless
// GODEBUG has disablethp=1, with which a user tells Go to leave the heap on
// base pages.
var hugePages = !strings.Contains(","+os.Getenv("GODEBUG")+",", ",disablethp=1,")

// adviseHugePages asks the kernel to back b, not yet written, with
// transparent huge pages. It is a hint: a kernel without them (or with
// them disabled) leaves b on base pages, which changes nothing but speed.
func adviseHugePages(b []byte) { unix.Madvise(b, unix.MADV_HUGEPAGE) }
