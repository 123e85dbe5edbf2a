/* The smallest program against the installed gsgd: the header and the
 * library it links agree on the version, and a call does what gsgd.h says. */
#include <gsgd.h>
#include <stdio.h>

int main(void) {
    if (gsgd_version() != GSGD_VERSION_NUMBER) {
        fprintf(stderr, "header says %d, library %u\n", GSGD_VERSION_NUMBER, gsgd_version());
        return 1;
    }
    gsgd_context *ctx = NULL;
    gsgd_options *opts = NULL;
    gsgd_optimizer *opt = NULL;
    /* One plain SGD step with lr 0.5: p - 0.5 g is exact in binary. */
    float p[2] = {1.0f, 2.0f}, g[2] = {1.0f, -1.0f};
    if (gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0) != GSGD_STATUS_OK ||
        gsgd_options_create(&opts) != GSGD_STATUS_OK ||
        gsgd_set(opts, GSGD_LR, 0.5) != GSGD_STATUS_OK ||
        gsgd_optimizer_create(ctx, opts, 2, &opt) != GSGD_STATUS_OK ||
        gsgd_optimizer_step(opt, p, g, 2, NULL) != GSGD_STATUS_OK) {
        fprintf(stderr, "consumer: %s\n", gsgd_last_error(ctx));
        return 1;
    }
    int ok = p[0] == 0.5f && p[1] == 2.5f;
    printf("consumer: gsgd %s, step %s\n", gsgd_version_string(), ok ? "ok" : "WRONG");
    gsgd_optimizer_free(opt);
    gsgd_options_free(opts);
    gsgd_context_free(ctx);
    return ok ? 0 : 1;
}
