/*
 * Model specs (src/model/model.c). Input: 4 bytes of feature count and 2
 * of class count (little-endian; reduced to at most 2^31 features and
 * 65536 classes, beyond what the library takes, so its limits are
 * fuzzed), then the spec. The layout alone is computed for every input;
 * a model that fits the harness's context is created, evaluated on a row
 * of zeros and freed.
 */
#include "fuzz_common.h"
#include "model/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 6 || size > 6 + 256) return 0;
    gsgd_context *ctx = fuzz_context();
    uint32_t d32;
    uint16_t k16;
    memcpy(&d32, data, 4);
    memcpy(&k16, data + 4, 2);
    const size_t d = d32 & 0x7fffffffu;
    const int k = k16 == 0xffff ? 65536 : k16;
    char spec[300];
    memcpy(spec, data + 6, size - 6);
    spec[size - 6] = '\0';

    gsgd_model layout;
    gsgd_status st = gsgdi_model_layout(ctx, spec, d, k, &layout);
    fuzz_check_failure(ctx, st);
    if (st != GSGD_STATUS_OK) return 0;
    /* The flat buffer holds every layer's weights, then every bias, and the
     * layers chain from the features to the outputs. */
    FUZZ_CHECK(layout.n_layers >= 1 && layout.n_layers <= GSGD_MAX_LAYERS);
    FUZZ_CHECK(layout.layers[0].in == d);
    size_t weights = 0, biases = 0;
    for (int l = 0; l < layout.n_layers; l++) {
        const gsgdi_layer *L = &layout.layers[l];
        FUZZ_CHECK(L->in >= 1 && L->out >= 1 && L->w_off == weights);
        if (l > 0) FUZZ_CHECK(L->in == layout.layers[l - 1].out);
        weights += L->in * L->out;
    }
    for (int l = 0; l < layout.n_layers; l++) {
        FUZZ_CHECK(layout.layers[l].b_off == weights + biases);
        biases += layout.layers[l].out;
    }
    FUZZ_CHECK(layout.n_decay == weights && layout.n_params == weights + biases);
    FUZZ_CHECK(layout.layers[layout.n_layers - 1].out == layout.n_outputs);

    if (d > 4096 || layout.n_params > ((size_t)1 << 20)) return 0; /* layout only */
    gsgd_model *m = NULL;
    st = gsgd_model_create(ctx, spec, d, k, 7, &m);
    fuzz_check_failure(ctx, st);
    FUZZ_CHECK(st == GSGD_STATUS_OK); /* the layout said it is valid, and it fits */
    float *X = calloc(d, sizeof(float)), out = -1;
    FUZZ_CHECK(X != NULL);
    st = gsgd_predict(m, X, 1, &out);
    fuzz_check_failure(ctx, st);
    FUZZ_CHECK(st == GSGD_STATUS_OK);
    FUZZ_CHECK(k == 0 || (out >= 0 && out < (float)k));
    free(X);
    gsgd_model_free(m);
    fuzz_check_no_leak(ctx);
    return 0;
}
