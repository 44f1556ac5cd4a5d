// bench/peak.c: one core's arithmetic peaks, the ceilings the kernels'
// GFLOP/s and GOP/s are quoted against (bench/RESULTS.md):
//
//   gcc -O2 -o /tmp/goformer-peak bench/peak.c && /tmp/goformer-peak
//
// Each loop issues 30 independent instructions on registers that never
// leave the core (check with objdump -d that gcc kept them independent),
// and each figure is the best of five runs. A figure is skipped on a CPU
// without the instruction set. Run it alone: another process on the core
// halves it.
#include <stdio.h>
#include <time.h>

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

#define R30(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) \
	X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26) X(27) X(28) X(29)
#define VNNI_Z(i) "vpdpbusd %%zmm30,%%zmm31,%%zmm" #i "\n"
#define FMA_Z(i) "vfmadd231ps %%zmm30,%%zmm31,%%zmm" #i "\n"
#define R14(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)
#define FMA_Y(i) "vfmadd231ps %%ymm14,%%ymm15,%%ymm" #i "\n"
#define MADD_Y(i) "vpmaddubsw %%ymm14,%%ymm15,%%ymm" #i "\n"

__attribute__((target("avx512f,avx512vnni"))) static double vnniZMM(long n) {
	double t0 = now();
	__asm__ volatile("vpternlogd $0xff,%%zmm30,%%zmm30,%%zmm30\n"
			 "vpternlogd $0xff,%%zmm31,%%zmm31,%%zmm31\n"
			 "1:\n" R30(VNNI_Z) "dec %0\n jnz 1b\n"
			 : "+r"(n)::"memory");
	return now() - t0;
}

__attribute__((target("avx512f"))) static double fmaZMM(long n) {
	double t0 = now();
	__asm__ volatile("1:\n" R30(FMA_Z) "dec %0\n jnz 1b\n" : "+r"(n)::"memory");
	return now() - t0;
}

__attribute__((target("avx2,fma"))) static double fmaYMM(long n) {
	double t0 = now();
	__asm__ volatile("1:\n" R14(FMA_Y) "dec %0\n jnz 1b\n" : "+r"(n)::"memory");
	return now() - t0;
}

__attribute__((target("avx2"))) static double maddYMM(long n) {
	double t0 = now();
	__asm__ volatile("1:\n" R14(MADD_Y) "dec %0\n jnz 1b\n" : "+r"(n)::"memory");
	return now() - t0;
}

// best runs f five times over n iterations and returns the best rate of
// ops operations per iteration, in G/s.
static double best(double (*f)(long), long n, double ops) {
	double r = 0;
	for (int i = 0; i < 5; i++) {
		double g = n * ops / f(n) / 1e9;
		r = g > r ? g : r;
	}
	return r;
}

int main(void) {
	__builtin_cpu_init();
	long n = 5000000;
	if (__builtin_cpu_supports("avx512vnni"))
		printf("vpdpbusd zmm (int8 multiply-adds x2)  %7.1f GOP/s\n", best(vnniZMM, n, 30 * 64 * 2));
	if (__builtin_cpu_supports("avx512f"))
		printf("vfmadd231ps zmm                       %7.1f GFLOP/s\n", best(fmaZMM, n, 30 * 16 * 2));
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
		printf("vfmadd231ps ymm                       %7.1f GFLOP/s\n", best(fmaYMM, n, 14 * 8 * 2));
		printf("vpmaddubsw ymm (int8 pairs x2)        %7.1f GOP/s\n", best(maddYMM, n, 14 * 32 * 2));
	}
	return 0;
}
