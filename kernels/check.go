package kernels

import "fmt"

// need panics unless a slice named name holds at least want elements. Kernels
// are called by goformer's own code, so a short slice is a bug, reported with
// the kernel and the lengths at fault.
func need(kernel, name string, have, want int) {
	if have < want {
		panic(fmt.Sprintf("kernels.%s: len(%s) = %d, need %d", kernel, name, have, want))
	}
}

// same panics unless two lengths that must agree do.
func same(kernel, a string, la int, b string, lb int) {
	if la != lb {
		panic(fmt.Sprintf("kernels.%s: len(%s) = %d != len(%s) = %d", kernel, a, la, b, lb))
	}
}
