// Package asm holds goformer's generated assembly and its Go declarations,
// nothing else: every file here except this one is written by a program in
// ../gen and must never be edited by hand. Package kernels is the only
// importer; it states what each routine computes and when it may be called.
package asm
