/*
 * The CPU backend as a device: opening and closing it (nothing to do: its
 * memory is the host's and its ops are synchronous), the memory it
 * allocates from, what gsgd_info and the bench say of it, and its clock.
 * The arithmetic is in cpu.c and cpu_update.c.
 */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/cpu.h"
#include "core/util.h"

int gsgdi_cpu_threads(void) { return omp_get_max_threads(); }

gsgd_status gsgdi_cpu_open(gsgd_context *ctx, int device_index) {
    (void)ctx;
    (void)device_index;
    return GSGD_STATUS_OK;
}

void gsgdi_cpu_close(gsgd_context *ctx) { (void)ctx; }

gsgd_status gsgdi_cpu_set_stream(gsgd_context *ctx, void *stream) {
    (void)ctx;
    (void)stream;
    return GSGD_STATUS_OK;
}

void gsgdi_cpu_describe(gsgd_context *ctx, char *buf, size_t size) {
    (void)ctx;
    if (size) snprintf(buf, size, "openmp threads: %d\n", gsgdi_cpu_threads());
}

/* Available RAM (MemAvailable from /proc/meminfo, which counts reclaimable
 * caches), falling back to sysconf's free pages. */
gsgd_status gsgdi_cpu_mem_info(gsgd_context *ctx, size_t *free_bytes, size_t *total_bytes) {
    long pages = sysconf(_SC_PHYS_PAGES), avail = sysconf(_SC_AVPHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);
    GSGD_RETURN_ERROR_IF(pages <= 0 || page <= 0, ctx, GSGD_STATUS_INTERNAL,
                         "cpu: cannot read the memory size");
    size_t total = (size_t)pages * (size_t)page, avail_bytes = (size_t)avail * (size_t)page;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        unsigned long long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) avail_bytes = (size_t)kb * 1024;
        fclose(f);
    }
    if (free_bytes) *free_bytes = avail_bytes;
    if (total_bytes) *total_bytes = total;
    return GSGD_STATUS_OK;
}

void gsgdi_cpu_host_facts(gsgdi_machine *m) {
    /* OpenBLAS's cblas.h declares its configuration string ("OpenBLAS
     * 0.3.21 DYNAMIC_ARCH ..."). */
    snprintf(m->blas, sizeof m->blas, "%s", openblas_get_config());
    m->threads = gsgdi_cpu_threads();
}

gsgd_status gsgdi_cpu_machine(gsgd_context *ctx, gsgdi_machine *m) {
    size_t free_b = 0;
    GSGD_FORWARD_IF_ERROR(gsgdi_cpu_mem_info(ctx, &free_b, &m->device_memory));
    snprintf(m->device_name, sizeof m->device_name, "cpu");
    gsgdi_cpu_host_facts(m);
    return GSGD_STATUS_OK;
}

/* ---- timers: the monotonic clock ------------------------------------------ */

/* The seconds at each mark. */
gsgd_status gsgdi_cpu_timer_create(gsgd_context *ctx, int n_marks, void **timer) {
    *timer = calloc((size_t)n_marks, sizeof(double));
    GSGD_RETURN_ERROR_IF(!*timer, ctx, GSGD_STATUS_OUT_OF_MEMORY, "timer: out of memory");
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_cpu_timer_mark(gsgd_context *ctx, void *timer, int i) {
    (void)ctx;
    ((double *)timer)[i] = gsgdi_now_seconds();
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_cpu_timer_seconds(gsgd_context *ctx, void *timer, int i, int j, double *seconds) {
    (void)ctx;
    const double *clock = timer;
    *seconds = clock[j] - clock[i];
    return GSGD_STATUS_OK;
}

void gsgdi_cpu_timer_free(gsgd_context *ctx, void *timer) {
    (void)ctx;
    free(timer);
}
