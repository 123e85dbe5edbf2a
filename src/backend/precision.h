/*
 * The arithmetic of a product under GSGD_PRECISION (gsgd.h's
 * gsgd_precision): each input of a product rounded as a GPU's tensor cores
 * take it, the sum accumulated in FP32. These helpers are the rounding,
 * written once for the CPU backend's products (cpu_gemm.c) and the tests
 * that check them and the CUDA ones against a double reference.
 */
#ifndef GSGD_BACKEND_PRECISION_H
#define GSGD_BACKEND_PRECISION_H

#include <stdint.h>
#include <string.h>

#include "gsgd.h"

/* Mantissa bits a precision drops of FP32's 23: TF32 keeps 10 (its
 * 19-bit format: sign, FP32's 8 exponent bits, 10 mantissa bits), BF16
 * keeps 7 (sign, 8, 7); FP32 drops none. */
static inline int gsgdi_precision_dropped_bits(gsgd_precision p) {
    return p == GSGD_PRECISION_TF32 ? 13 : p == GSGD_PRECISION_BF16 ? 16 : 0;
}

/* The unit roundoff of one rounded input: 2^-(kept mantissa bits + 1),
 * 2^-11 for TF32, 2^-8 for BF16, 2^-24 for FP32 (where nothing is
 * rounded, the figure of FP32 itself). The tests' bounds are made of it. */
static inline double gsgdi_precision_unit_roundoff(gsgd_precision p) {
    return p == GSGD_PRECISION_TF32 ? 0x1p-11 : p == GSGD_PRECISION_BF16 ? 0x1p-8 : 0x1p-24;
}

/* x rounded to nearest, ties to even, keeping 23 - drop mantissa bits, as
 * cuBLAS's conversion of FP32 inputs to TF32 and __float2bfloat16 do; the
 * result is still an FP32 number (its low drop bits zero). Infinities and
 * NaNs are left as they are (a NaN whose payload sits in the dropped bits
 * would otherwise round to an infinity); a finite value past the
 * format's largest rounds to infinity, as the conversion does.
 * Subnormals round on the same grid of bits, which is what the formats'
 * own subnormals are. */
static inline float gsgdi_round_mantissa(float x, int drop) {
    if (drop <= 0) return x;
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) == 0x7f800000u) return x;
    const uint32_t half_minus_one = (1u << (drop - 1)) - 1u, lsb = (u >> drop) & 1u;
    u += half_minus_one + lsb; /* a carry into the exponent is the right rounding */
    u &= ~((1u << drop) - 1u);
    memcpy(&x, &u, sizeof x);
    return x;
}

/* x as a product under precision p takes it. */
static inline float gsgdi_round_input(gsgd_precision p, float x) {
    return gsgdi_round_mantissa(x, gsgdi_precision_dropped_bits(p));
}

#endif
