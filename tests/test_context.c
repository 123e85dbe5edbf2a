/* Status model, version, options and contexts. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsgd.h"

Test(status, every_status_has_a_name_and_a_description) {
#define CHECK_STATUS(name, value, text)                                                            \
    cr_expect_str_eq(gsgd_status_name(GSGD_STATUS_##name), #name);                                 \
    cr_expect_str_eq(gsgd_status_string(GSGD_STATUS_##name), text);                                \
    cr_expect_eq((int)GSGD_STATUS_##name, value, "status values are pinned");
    GSGD_STATUS_MAP(CHECK_STATUS)
#undef CHECK_STATUS
    cr_expect_str_eq(gsgd_status_name((gsgd_status)12345), "UNKNOWN");
    cr_expect_str_eq(gsgd_status_string((gsgd_status)12345), "unknown status");
}

Test(status, codes_are_grouped_by_range) {
    cr_expect_eq(GSGD_STATUS_OK, 0);
    cr_expect(GSGD_STATUS_INVALID_ARGUMENT < 100);
    cr_expect(GSGD_STATUS_BAD_FORMAT >= 100 && GSGD_STATUS_BAD_FORMAT < 200);
    cr_expect(GSGD_STATUS_NO_DEVICE >= 200 && GSGD_STATUS_NO_DEVICE < 300);
    cr_expect_eq(GSGD_STATUS_INTERNAL, 999);
}

Test(status, messages_name_no_source_location_unless_debugging) {
    gsgd_context *ctx;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    gsgd_dataset *ds;
    const float X[1] = {1}, y[1] = {0};
    unsetenv("GSGD_DEBUG");
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 0, 1, 2, &ds), GSGD_STATUS_INVALID_ARGUMENT);
#ifdef NDEBUG /* debug builds always add it */
    cr_assert_null(strstr(gsgd_last_error(ctx), ".c:"), "%s", gsgd_last_error(ctx));
#endif
    setenv("GSGD_DEBUG", "1", 1);
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 0, 1, 2, &ds), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert(strstr(gsgd_last_error(ctx), " [dataset.c:"), "%s", gsgd_last_error(ctx));
    unsetenv("GSGD_DEBUG");
    gsgd_context_free(ctx);
}

Test(version, macros_and_function_agree) {
    cr_expect_eq(gsgd_version(), GSGD_VERSION_NUMBER);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", GSGD_VERSION_MAJOR, GSGD_VERSION_MINOR,
             GSGD_VERSION_PATCH);
    cr_expect_str_eq(gsgd_version_string(), want);
}

Test(options, defaults_lie_within_their_bounds_and_setter_enforces_them) {
    gsgd_options *o;
    cr_assert_eq(gsgd_options_create(&o), GSGD_STATUS_OK);
    for (int p = 0; gsgd_param_name((gsgd_param)p); p++) {
        double lo, hi, dflt, v;
        cr_assert_eq(gsgd_param_bounds((gsgd_param)p, &lo, &hi, &dflt), GSGD_STATUS_OK);
        cr_assert_eq(gsgd_get(o, (gsgd_param)p, &v), GSGD_STATUS_OK);
        cr_expect(v == dflt && lo <= dflt && dflt <= hi, "%s", gsgd_param_name((gsgd_param)p));
        cr_expect_eq(gsgd_set(o, (gsgd_param)p, hi * 2.0 + 1.0), GSGD_STATUS_OUT_OF_RANGE);
        cr_expect_eq(gsgd_set(o, (gsgd_param)p, NAN), GSGD_STATUS_OUT_OF_RANGE);
    }
    cr_expect_eq(gsgd_set(o, GSGD_BATCH, 2.5), GSGD_STATUS_OUT_OF_RANGE, "integer parameter");
    cr_expect_eq(gsgd_set(o, GSGD_LR, -0.1), GSGD_STATUS_OUT_OF_RANGE);
    cr_expect_eq(gsgd_set(o, (gsgd_param)999, 1.0), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_str_eq(gsgd_param_name(GSGD_WEIGHT_DECAY), "weight_decay");
    gsgd_options_free(o);
}

Test(context, cpu_context_reports_its_device_and_memory) {
    gsgd_context *ctx;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_expect_eq(gsgd_context_device(ctx), GSGD_DEVICE_CPU);
    size_t in_use = 1, peak = 1;
    cr_assert_eq(gsgd_context_memory(ctx, &in_use, &peak), GSGD_STATUS_OK);
    cr_expect(in_use == 0 && peak == 0);
    char info[512];
    cr_assert_eq(gsgd_info(ctx, info, sizeof info), GSGD_STATUS_OK);
    cr_expect(strstr(info, "backend: cpu"), "%s", info);
    cr_expect_str_eq(gsgd_last_error(ctx), "");
    gsgd_context_free(ctx);
}

Test(context, auto_falls_back_to_the_cpu_without_a_gpu) {
    gsgd_context *ctx;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_AUTO, 0), GSGD_STATUS_OK);
    cr_expect_neq(gsgd_context_device(ctx), GSGD_DEVICE_AUTO);
    gsgd_context_free(ctx);
}

Test(context, bad_arguments_are_rejected_not_crashed_on) {
    cr_expect_eq(gsgd_context_create(NULL, GSGD_DEVICE_CPU, 0), GSGD_STATUS_INVALID_ARGUMENT);
    gsgd_context *ctx = (gsgd_context *)1;
    cr_expect_eq(gsgd_context_create(&ctx, (gsgd_device)7, 0), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_null(ctx);
    cr_expect(strlen(gsgd_last_error(NULL)) > 0);
    gsgd_context_free(NULL);
    gsgd_model_free(NULL);
    gsgd_dataset_free(NULL);
    gsgd_options_free(NULL);
    gsgd_trainer_free(NULL);
    gsgd_optimizer_free(NULL);
}
