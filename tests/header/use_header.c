/* Header hygiene: gsgd.h stands on its own (it comes first), survives a
 * second inclusion, and compiles as C99, C11 and C++; built as C++ and
 * linked, it proves the declarations are extern "C". */
#include "gsgd.h"
#include "gsgd.h"

int main(void) {
    gsgd_context *ctx = 0;
    if (gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0) != GSGD_STATUS_OK) return 1;
    gsgd_context_free(ctx);
    return gsgd_version() == GSGD_VERSION_NUMBER ? 0 : 1;
}
