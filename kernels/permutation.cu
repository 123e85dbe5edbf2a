/*
 * Per-epoch permutation on the device: keys, then a device radix sort.
 * CPU reference: cpu_permutation in src/backend_cpu.c.
 *
 * The keys are gsgdi_perm_key(seed, epoch, i) from src/rng.h, the same
 * function the CPU uses (it is __host__ __device__), and CUB's radix sort
 * is stable, so sorting (key, i) pairs with i in increasing order gives the
 * CPU's argsort with ties broken by index: identical permutations on both
 * backends, with no host round trip. (cuRAND keys would be as random but
 * could not match the CPU's, which the cross-backend tests rely on.)
 *
 * Scratch layout, each part 256-byte aligned:
 *   keys_in[n] | keys_out[n] | index[n] | CUB temporary storage
 */
#include <cub/device/device_radix_sort.cuh>

#include "kernels.h"
#include "launch.cuh"
#include "core/rng.h"

static size_t align256(size_t x) { return (x + 255) & ~(size_t)255; }

__global__ void perm_keys_kernel(uint64_t seed, uint64_t epoch, size_t n,
                                 uint32_t *__restrict__ keys, uint32_t *__restrict__ index) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        keys[i] = gsgdi_perm_key(seed, epoch, i);
        index[i] = (uint32_t)i;
    }
}

/* Bytes of CUB's temporary storage for n pairs (a query: runs nothing). */
static cudaError_t sort_temp_bytes(size_t n, size_t *bytes) {
    *bytes = 0;
    return cub::DeviceRadixSort::SortPairs(NULL, *bytes, (const uint32_t *)NULL, (uint32_t *)NULL,
                                           (const uint32_t *)NULL, (uint32_t *)NULL, (uint32_t)n, 0,
                                           32);
}

extern "C" int gsgdi_k_perm_scratch_bytes(size_t n, size_t *bytes) {
    *bytes = 0;
    if (n > UINT32_MAX) return (int)cudaErrorInvalidValue;
    size_t temp;
    cudaError_t e = sort_temp_bytes(n, &temp);
    if (e != cudaSuccess) return (int)e;
    *bytes = 3 * align256(n * sizeof(uint32_t)) + temp;
    return (int)cudaSuccess;
}

extern "C" int gsgdi_k_permutation(uint64_t seed, uint64_t epoch, size_t n, uint32_t *perm,
                                   void *scratch, size_t scratch_bytes, void *stream) {
    if (n == 0) return (int)cudaSuccess;
    if (n > UINT32_MAX) return (int)cudaErrorInvalidValue;
    cudaStream_t s = (cudaStream_t)stream;
    const size_t part = align256(n * sizeof(uint32_t));
    size_t temp;
    cudaError_t e = sort_temp_bytes(n, &temp);
    if (e != cudaSuccess) return (int)e;
    if (scratch_bytes < 3 * part + temp) return (int)cudaErrorInvalidValue;
    char *base = (char *)scratch;
    uint32_t *keys_in = (uint32_t *)base, *keys_out = (uint32_t *)(base + part);
    uint32_t *index = (uint32_t *)(base + 2 * part);
    perm_keys_kernel<<<gsgdi_blocks(n, GSGD_THREADS), GSGD_THREADS, 0, s>>>(seed, epoch, n, keys_in,
                                                                            index);
    e = cudaGetLastError();
    if (e != cudaSuccess) return (int)e;
    return (int)cub::DeviceRadixSort::SortPairs(base + 3 * part, temp, keys_in, keys_out, index,
                                                perm, (uint32_t)n, 0, 32, s);
}
