/* A train run's start and its breakdown (startup.h). */
#include "cli/train/startup.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/data.h"

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

static void *reader(void *arg) {
    cli_startup *su = arg;
    su->read_start = mono();
    su->st = gsgd_host_data_read(su->source, su->o, &su->h);
    /* The detail is in this thread's buffer: copied for the main one. */
    if (su->st != GSGD_STATUS_OK)
        snprintf(su->error, sizeof su->error, "%s", gsgd_last_error(NULL));
    su->read_end = mono();
    return NULL;
}

int cli_startup_read(cli_startup *su, cli_session *s, uint64_t seed, int ahead) {
    const char *const *v = s->v;
    if (v[CLI_O_RESUME]) return CLI_OK;
    int rc = cli_data_check(v);
    if (rc == CLI_OK) rc = cli_load_options(s, seed, &su->o);
    if (rc != CLI_OK) return rc;
    su->source = v[CLI_O_DATA];
    su->read = 1;
    if (ahead) {
        su->threaded = pthread_create(&su->thread, NULL, reader, su) == 0;
        su->b.overlapped = su->threaded;
        if (su->threaded) return CLI_OK;
    }
    /* In line, the same read: ubyte pixels stay bytes and a CPU context
     * converts them in place of the copy, which costs less than reading
     * floats and copying them (measured, Fashion-MNIST on 2 cores: read
     * 0.21 + upload 0.10 s, against 0.28 + 0.12 s). */
    reader(su);
    return CLI_OK;
}

int cli_startup_load_data(cli_startup *su, cli_session *s, uint64_t seed) {
    cli_breakdown *b = &su->b;
    if (!su->read) {
        const double t = mono();
        const int rc = cli_load_data(s, seed);
        b->data_read_s = mono() - t;
        return rc;
    }
    if (su->threaded) {
        const double t = mono();
        pthread_join(su->thread, NULL);
        su->threaded = 0;
        b->data_wait_s = mono() - t;
    }
    b->data_read_s = su->read_end - su->read_start;
    if (su->st != GSGD_STATUS_OK) {
        cli_error("%s", su->error[0] ? su->error : gsgd_status_string(su->st));
        return cli_exit_code(su->st);
    }
    double t = mono();
    gsgd_status st = gsgd_dataset_upload(s->ctx, su->h, &s->train, &s->test);
    b->upload_s = mono() - t;
    gsgd_host_data_free(su->h);
    su->h = NULL;
    if (st != GSGD_STATUS_OK) return cli_fail(s->ctx, st);
    /* --test is read and uploaded after: counted with the read. */
    t = mono();
    const int rc = cli_load_test_data(s, seed);
    b->data_read_s += mono() - t;
    return rc;
}

void cli_startup_end(cli_startup *su) {
    if (su->threaded) pthread_join(su->thread, NULL);
    su->threaded = 0;
    gsgd_host_data_free(su->h);
    su->h = NULL;
    gsgd_data_options_free(su->o);
    su->o = NULL;
}

void cli_startup_finish(cli_startup *su, const gsgd_train_result *res, double extra_eval_s) {
    cli_breakdown *b = &su->b;
    b->train_s = res->train_seconds;
    b->eval_s = res->eval_seconds + extra_eval_s;
    b->other_s = res->seconds - res->train_seconds - res->eval_seconds;
    if (b->other_s < 0.0) b->other_s = 0.0;
    b->total_s = (isnan(b->process_start_s) ? 0.0 : b->process_start_s) + cli_startup_now(su);
}
