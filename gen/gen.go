// Package gen holds the programs that write goformer's assembly into ../asm:
// avo programs for amd64 (gen/amd64) and our own NEON emitter for arm64
// (gen/arm64). Run them all with
//
//	go generate ./gen
//
// Their output is deterministic and committed; the test command fails when
// regenerating would change a committed file.
package gen

//go:generate go run ./amd64/vector -out ../asm/vector_amd64.s -stubs ../asm/vector_amd64_stub.go -pkg asm
//go:generate go run ./amd64/matmul -out ../asm/matmul_amd64.s -stubs ../asm/matmul_amd64_stub.go -pkg asm
//go:generate go run ./amd64/q8 -out ../asm/q8_amd64.s -stubs ../asm/q8_amd64_stub.go -pkg asm
//go:generate go run ./amd64/kquant -out ../asm/kquant_amd64.s -stubs ../asm/kquant_amd64_stub.go -pkg asm
//go:generate go run ./amd64/axpyrows -out ../asm/axpyrows_amd64.s -stubs ../asm/axpyrows_amd64_stub.go -pkg asm
//go:generate go run ./amd64/amx -out ../asm/amx_amd64.s -stubs ../asm/amx_amd64_stub.go
//go:generate go run ./arm64/vector -out ../asm/vector_arm64.s -decl ../asm/vector_arm64.go
//go:generate go run ./arm64/matmul -out ../asm/matmul_arm64.s -decl ../asm/matmul_arm64.go
//go:generate go run ./arm64/q8 -out ../asm/q8_arm64.s -decl ../asm/q8_arm64.go
//go:generate go run ./arm64/kquant -out ../asm/kquant_arm64.s -decl ../asm/kquant_arm64.go
