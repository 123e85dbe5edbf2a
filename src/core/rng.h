/* Counter-based random numbers shared by host code and device kernels, so
 * that every backend draws the same permutation and the same init. */
#ifndef GSGD_RNG_H
#define GSGD_RNG_H

#include <stdint.h>

#ifdef __CUDACC__
#define GSGD_HD __host__ __device__ __forceinline__
#else
#define GSGD_HD static inline
#endif

/* SplitMix64 finaliser: a bijective 64-bit mix (Steele et al. 2014). */
GSGD_HD uint64_t gsgdi_mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Sort key of sample i in the permutation of (seed, epoch). 32 bits so a
 * device radix sort stays cheap; ties are broken by index (stable sort). */
GSGD_HD uint32_t gsgdi_perm_key(uint64_t seed, uint64_t epoch, uint64_t i) {
    uint64_t s = gsgdi_mix64(seed ^ gsgdi_mix64(epoch + 0x5851f42d4c957f2dull));
    return (uint32_t)(gsgdi_mix64(s + i) >> 32);
}

/* Sequential generator for host-side draws (init, synthetic data). */
typedef struct {
    uint64_t state;
} gsgdi_rng;

GSGD_HD uint64_t gsgdi_rng_next(gsgdi_rng *r) {
    r->state += 0x9e3779b97f4a7c15ull;
    return gsgdi_mix64(r->state);
}

/* Uniform in [0, 1) with 53 random bits. */
GSGD_HD double gsgdi_rng_uniform(gsgdi_rng *r) {
    return (double)(gsgdi_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

#endif
