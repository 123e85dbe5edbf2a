/* A train run's start and its breakdown (startup.h). */
#include "cli/train/startup.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Seconds from this process's exec to now: the uptime (/proc/uptime) less
 * the process's start time after boot (field 22 of /proc/self/stat, in
 * clock ticks); both count in 10 ms. NaN where /proc says nothing. */
static double since_exec(void) {
    char line[1024];
    double up = NAN;
    FILE *f = fopen("/proc/uptime", "r");
    if (f) {
        if (fscanf(f, "%lf", &up) != 1) up = NAN;
        fclose(f);
    }
    f = fopen("/proc/self/stat", "r");
    if (!f) return NAN;
    const size_t got = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[got] = '\0';
    /* The command name may hold spaces: fields count from its ')'. */
    const char *p = strrchr(line, ')');
    unsigned long long start = 0;
    for (int field = 2; p && field < 22; field++) p = strchr(p + 1, ' ');
    const long hz = sysconf(_SC_CLK_TCK);
    if (!p || sscanf(p + 1, "%llu", &start) != 1 || hz <= 0) return NAN;
    const double s = up - (double)start / (double)hz;
    return s >= 0.0 && s < 86400.0 ? s : NAN;
}

void cli_startup_begin(cli_startup *su) {
    memset(su, 0, sizeof *su);
    cli_breakdown *b = &su->b;
    b->data_read_s = b->context_s = b->data_wait_s = b->upload_s = b->model_s = b->plan_s =
        b->train_s = b->eval_s = b->other_s = b->total_s = NAN;
    su->t_main = mono();
    b->process_start_s = since_exec();
}

double cli_startup_now(const cli_startup *su) { return mono() - su->t_main; }

/* Reads su->source. floats: the device is the CPU already (the read runs
 * in line): floats straight away, what the CPU takes, rather than bytes
 * converted at the upload. */
static void read_now(cli_startup *su, int floats) {
    su->read_start = mono();
    gsgd_data_options *o = NULL;
    if (floats && gsgd_data_options_create(&o) == GSGD_STATUS_OK)
        gsgd_data_set(o, GSGD_DATA_STORAGE, GSGD_STORAGE_F32);
    su->st = gsgd_host_data_read(su->source, o, &su->h);
    gsgd_data_options_free(o);
    /* The detail is in this thread's buffer: copied for the main one. */
    if (su->st != GSGD_STATUS_OK)
        snprintf(su->error, sizeof su->error, "%s", gsgd_last_error(NULL));
    su->read_end = mono();
}

static void *reader(void *arg) {
    read_now(arg, 0);
    return NULL;
}

void cli_startup_read_async(cli_startup *su, const char *source) {
    su->source = source;
    su->threaded = pthread_create(&su->thread, NULL, reader, su) == 0;
    su->b.overlapped = su->threaded;
}

int cli_startup_load_data(cli_startup *su, gsgd_context *ctx, const char *source,
                          const char *test_spec, gsgd_dataset **train, gsgd_dataset **test) {
    cli_breakdown *b = &su->b;
    if (su->threaded) {
        const double t = mono();
        pthread_join(su->thread, NULL);
        su->threaded = 0;
        b->data_wait_s = mono() - t;
    } else {
        su->source = source;
        read_now(su, 1);
    }
    b->data_read_s = su->read_end - su->read_start;
    if (su->st != GSGD_STATUS_OK) {
        cli_error("%s", su->error[0] ? su->error : gsgd_status_string(su->st));
        return cli_exit_code(su->st);
    }
    double t = mono();
    gsgd_status st = gsgd_dataset_upload(ctx, su->h, train, test);
    b->upload_s = mono() - t;
    gsgd_host_data_free(su->h);
    su->h = NULL;
    if (st != GSGD_STATUS_OK) return cli_fail(ctx, st);
    if (!test_spec) return CLI_OK;
    /* --test is read and uploaded after: counted with the read. */
    t = mono();
    const int rc = cli_load_test(ctx, source, test_spec, *train, test);
    b->data_read_s += mono() - t;
    return rc;
}

void cli_startup_end(cli_startup *su) {
    if (su->threaded) pthread_join(su->thread, NULL);
    su->threaded = 0;
    gsgd_host_data_free(su->h);
    su->h = NULL;
}

void cli_startup_finish(cli_startup *su, const gsgd_train_result *res) {
    cli_breakdown *b = &su->b;
    b->train_s = res->train_seconds;
    b->eval_s = res->eval_seconds;
    b->other_s = res->seconds - res->train_seconds - res->eval_seconds;
    if (b->other_s < 0.0) b->other_s = 0.0;
    b->total_s = (isnan(b->process_start_s) ? 0.0 : b->process_start_s) + cli_startup_now(su);
}
