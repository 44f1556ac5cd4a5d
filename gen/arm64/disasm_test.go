package arm64

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestEncodingsDisassemble assembles one of every encoding helper, with
// registers and lanes that exercise every field, as WORD directives, and
// checks that Go's own arm64 disassembler (go tool objdump -gnu, from
// golang.org/x/arch) reads back the mnemonic the helper wrote. That
// disassembler predates the dotprod extension, so SDot, UDot and SDotElem
// are checked by TestEncodings only.
func TestEncodingsDisassemble(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to run go tool asm and objdump")
	}
	var ins []Inst
	for _, a := range []Arr{S2, S4, D2} {
		for _, f := range []func(Arr, V, V, V) Inst{FAdd, FSub, FMul, FDiv, FMax, FMin, FMaxNM, FMinNM, FAddP, FCmEQ, FCmGE, FCmGT, FMla, FMls} {
			ins = append(ins, f(a, 1, 30, 17), f(a, 31, 0, 2))
		}
		for _, f := range []func(Arr, V, V) Inst{FAbs, FNeg, FSqrt, FRecpE, FRintN, FCvtNS, FCvtMS, FCvtAS, FCvtZS, SCvtF} {
			ins = append(ins, f(a, 29, 3), f(a, 0, 31))
		}
	}
	for _, f := range []func(V, V) Inst{FMaxV, FMinV, FMaxNMV, AddV, FAddPS} {
		ins = append(ins, f(3, 28), f(31, 0))
	}
	for lane := 0; lane < 4; lane++ {
		ins = append(ins, FMlaElem(16, 2, V(lane*9), lane), FMulElem(31, 17, V(31-lane), lane))
	}
	for _, f := range []func(V, V, V) Inst{And, Bic, Orr, Eor, Bsl} {
		ins = append(ins, f(5, 19, 27))
	}
	for _, a := range []Arr{B8, B16, H4, H8, S2, S4} {
		for _, f := range []func(Arr, V, V, V) Inst{Add, Sub, Mul, Mla, SMax, SMin} {
			ins = append(ins, f(a, 6, 21, 30))
		}
		ins = append(ins, SShr(a, 4, 22, 1), SShr(a, 4, 22, a.bits()), Shl(a, 9, 8, 0), Shl(a, 9, 8, a.bits()-1),
			SMull(a, 1, 2, 3), SMlal(a, 28, 29, 30), SAddLP(a, 11, 12), SAdaLP(a, 13, 14))
	}
	ins = append(ins, Add(D2, 1, 2, 3), Sub(D2, 1, 2, 3), SShr(D2, 1, 2, 63), Shl(D2, 1, 2, 63))
	ins = append(ins, SXtl(B8, 1, 30), SXtl(B16, 31, 0))

	dir := t.TempDir()
	var src bytes.Buffer
	fmt.Fprintln(&src, "TEXT ·encodings(SB), 4, $0-0") // 4 is NOSPLIT
	for _, in := range ins {
		fmt.Fprintf(&src, "\tWORD $0x%08x\n", in.Enc)
	}
	fmt.Fprintln(&src, "\tRET")
	s, o := filepath.Join(dir, "x.s"), filepath.Join(dir, "x.o")
	if err := os.WriteFile(s, src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) []byte {
		cmd := exec.Command(goCmd, args...)
		cmd.Env = append(os.Environ(), "GOARCH=arm64", "GOOS=linux")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	run("tool", "asm", "-p", "main", "-o", o, s)
	dump := run("tool", "objdump", "-gnu", o)

	var got []string
	sc := bufio.NewScanner(bytes.NewReader(dump))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "// "); i >= 0 {
			got = append(got, strings.TrimSpace(line[i+3:]))
		} else if strings.Contains(line, "\t?") {
			got = append(got, "?")
		}
	}
	if len(got) < len(ins) {
		t.Fatalf("objdump printed %d instructions, want at least %d:\n%s", len(got), len(ins), dump)
	}
	for i, in := range ins {
		if got[i] != in.Asm {
			t.Errorf("%#08x: helper wrote %q, disassembler reads %q", in.Enc, in.Asm, got[i])
		}
	}
}
