package chat

import (
	"fmt"

	"github.com/ardanlabs/jinja"
)

// A template comes with the model file, and a bad one must give an error,
// not take the process down. These guards turn a panic of the engine into
// an error and bound the lists range() builds. What they cannot catch: a
// macro that calls itself without end (the engine recurses until Go's
// stack overflows, which is fatal; jinja2 raises RecursionError), and a
// string repeated by a huge number ('x' * 10**12), which exhausts memory.

// compile is jinja.Compile, with a panic returned as an error.
func compile(src string) (prog *jinja.Template, err error) {
	defer func() {
		if r := recover(); r != nil {
			prog, err = nil, fmt.Errorf("jinja: %v", r)
		}
	}()
	return jinja.Compile(src)
}

// renderValues is prog.RenderValues, with a panic returned as an error.
func renderValues(prog *jinja.Template, vars map[string]jinja.Value) (text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			text, err = "", fmt.Errorf("jinja: %v", r)
		}
	}()
	return prog.RenderValues(vars)
}

// maxRange is the most numbers range() makes: real templates count
// messages; a range of billions would exhaust memory.
const maxRange = 1 << 20

// boundedRange is Python's range(stop), range(start, stop[, step]), as a
// list of at most maxRange numbers. It replaces the engine's, which has no
// bound.
var boundedRange = jinja.NewCallable("range", func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
	var nums [3]int64
	for i, a := range args {
		if i >= 3 || !a.IsInt() {
			return jinja.Undefined(), fmt.Errorf("range: want 1 to 3 integers, got %v", args)
		}
		nums[i] = a.AsInt()
	}
	start, stop, step := int64(0), nums[0], int64(1)
	switch len(args) {
	case 0:
		return jinja.Undefined(), fmt.Errorf("range: want 1 to 3 integers, got none")
	case 2, 3:
		start, stop = nums[0], nums[1]
		if len(args) == 3 {
			step = nums[2]
		}
	}
	if step == 0 {
		return jinja.Undefined(), fmt.Errorf("range: step must not be zero")
	}
	var n int64
	switch {
	case step > 0 && stop > start:
		n = (stop - start + step - 1) / step
	case step < 0 && stop < start:
		n = (start - stop - step - 1) / -step
	}
	if n > maxRange || n < 0 {
		return jinja.Undefined(), fmt.Errorf("range(%d, %d, %d) has more than %d numbers", start, stop, step, maxRange)
	}
	items := make([]jinja.Value, n)
	for i := range items {
		items[i] = jinja.NewInt(start + int64(i)*step)
	}
	return jinja.NewList(items), nil
})
