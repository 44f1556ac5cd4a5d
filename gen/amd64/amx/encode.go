package main

import (
	"fmt"
	"strings"
)

// The AMX instructions, encoded by hand: neither avo nor the Go assembler
// knows them, so they are written as BYTE directives. Every one is VEX
// encoded (three-byte form, map 0F38, W0, L0); the comments in the output
// give the Intel mnemonic each sequence stands for, and TestAMXEncodings in
// kernels disassembles the built kernels to check them.

// gpr is a general-purpose register by its hardware number.
type gpr int

const (
	rAX gpr = iota
	rCX
	rDX
	rBX
	rSP
	rBP
	rSI
	rDI
	r8
	r9
	r10
	r11
	r12
	r13
)

// goName is the register's name in Go assembly.
func (r gpr) goName() string {
	return [...]string{"AX", "CX", "DX", "BX", "SP", "BP", "SI", "DI", "R8", "R9", "R10", "R11", "R12", "R13"}[r]
}

func (r gpr) intel() string {
	return [...]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13"}[r]
}

// vex3 is the three-byte VEX prefix for map 0F38, W0, L0: rx and bx are
// the high bits of the ModRM reg/SIB index and of the base, vvvv the
// second source (1111 when unused), pp the implied prefix (0 none, 1 66,
// 2 F3, 3 F2).
func vex3(r, x, b bool, vvvv, pp byte) []byte {
	b1 := byte(0x02)
	if !r {
		b1 |= 0x80
	}
	if !x {
		b1 |= 0x40
	}
	if !b {
		b1 |= 0x20
	}
	return []byte{0xC4, b1, (^vvvv&0xF)<<3 | pp}
}

// sibMem encodes ModRM (with reg) and SIB for [base + index*1 + disp].
func sibMem(reg byte, base, index gpr, disp int) []byte {
	var mod byte
	switch {
	case disp == 0 && base&7 != 5:
		mod = 0
	case disp >= -128 && disp < 128:
		mod = 1
	default:
		mod = 2
	}
	out := []byte{mod<<6 | (reg&7)<<3 | 4, byte(index&7)<<3 | byte(base&7)}
	switch mod {
	case 1:
		out = append(out, byte(int8(disp)))
	case 2:
		out = append(out, byte(disp), byte(disp>>8), byte(disp>>16), byte(disp>>24))
	}
	return out
}

// baseMem encodes ModRM for [base] (no index), with a SIB where the base
// needs one.
func baseMem(reg byte, base gpr) []byte {
	switch base & 7 {
	case 4:
		return []byte{(reg&7)<<3 | 4, 0x24}
	case 5:
		return []byte{1<<6 | (reg&7)<<3 | 5, 0}
	}
	return []byte{(reg&7)<<3 | byte(base&7)}
}

func memText(base, index gpr, disp int) string {
	s := "[" + base.intel() + "+" + index.intel() + "*1"
	if disp != 0 {
		s += fmt.Sprintf("+%d", disp)
	}
	return s + "]"
}

// ldtilecfg loads the tile configuration at [base].
func ldtilecfg(base gpr) ([]byte, string) {
	return append(append(vex3(false, false, base >= 8, 0, 0), 0x49), baseMem(0, base)...), "ldtilecfg [" + base.intel() + "]"
}

// tilerelease returns the tiles to their initial state.
func tilerelease() ([]byte, string) {
	return append(vex3(false, false, false, 0, 0), 0x49, 0xC0), "tilerelease"
}

// tilezero zeroes tile t.
func tilezero(t int) ([]byte, string) {
	return append(vex3(false, false, false, 0, 3), 0x49, 0xC0|byte(t)<<3), fmt.Sprintf("tilezero tmm%d", t)
}

// tileloadd loads tile t from rows index bytes apart starting at base+disp.
func tileloadd(t int, base, index gpr, disp int) ([]byte, string) {
	return append(append(vex3(false, index >= 8, base >= 8, 0, 3), 0x4B), sibMem(byte(t), base, index, disp)...),
		fmt.Sprintf("tileloadd tmm%d, %s", t, memText(base, index, disp))
}

// tilestored stores tile t to rows index bytes apart starting at base+disp.
func tilestored(t int, base, index gpr, disp int) ([]byte, string) {
	return append(append(vex3(false, index >= 8, base >= 8, 0, 2), 0x4B), sibMem(byte(t), base, index, disp)...),
		fmt.Sprintf("tilestored %s, tmm%d", memText(base, index, disp), t)
}

// tdpbssd adds to tile c the products of signed bytes a·b: for every row i
// of a and dword column j of b, c[i][j] += Σ_l a[i][4l+t]·b[l][4j+t].
func tdpbssd(c, a, b int) ([]byte, string) {
	return append(vex3(false, false, false, byte(b), 3), 0x5E, 0xC0|byte(c)<<3|byte(a)),
		fmt.Sprintf("tdpbssd tmm%d, tmm%d, tmm%d", c, a, b)
}

// byteLine writes an encoded instruction as one line of BYTE directives.
func byteLine(enc []byte, text string) string {
	parts := make([]string, len(enc))
	for i, b := range enc {
		parts[i] = fmt.Sprintf("BYTE $0x%02X", b)
	}
	return "\t" + strings.Join(parts, "; ") + " // " + text + "\n"
}
