/*
 * gsgd bench --plot: samples/s and time to target against batch size,
 * drawn by gnuplot (Debian: gnuplot-nox) into a PNG written atomically.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/bench/bench.h"
#include "cli/cli.h"
#include "cli/outfile.h"

int bench_have_gnuplot(void) {
    const char *path = getenv("PATH");
    if (!path) return 0;
    while (*path) {
        size_t len = strcspn(path, ":");
        char exe[4096];
        if (len > 0 && len + sizeof "/gnuplot" < sizeof exe) {
            snprintf(exe, sizeof exe, "%.*s/gnuplot", (int)len, path);
            if (access(exe, X_OK) == 0) return 1;
        }
        path += len + (path[len] == ':');
    }
    return 0;
}

/* s inside gnuplot single quotes, where a quote is written twice. */
static void quoted(FILE *g, const char *s) {
    fputc('\'', g);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', g);
        fputc(*s, g);
    }
    fputc('\'', g);
}

/* A dashed vertical line at batch x with a label near the top. */
/* A dashed vertical line at x with its label beside it: on its left when
 * left is nonzero (a line at the right edge, whose label would be cut). */
static void marker(FILE *g, double x, const char *label, double y, const char *color, int left) {
    fprintf(g, "set arrow from %g, graph 0 to %g, graph 1 nohead dashtype 2 lw 1.5 lc rgb '%s'\n",
            x, x, color);
    fprintf(g, "set label %s at %g, graph %g %s textcolor rgb '%s'\n", label, x, y,
            left ? "right offset -0.5,0" : "offset 0.5,0", color);
}

static void script(FILE *g, const char *out, const bench_report *r) {
    const int ttt = r->target_acc > 0;
    const double bs = r->noise_run ? r->noise.b_simple : NAN;
    double lo = (double)r->pts[0].batch, hi = (double)r->pts[r->n_points - 1].batch;
    if (r->planner_batch) {
        lo = fmin(lo, (double)r->planner_batch);
        hi = fmax(hi, (double)r->planner_batch);
    }
    if (isfinite(bs) && bs > 0) {
        lo = fmin(lo, bs);
        hi = fmax(hi, bs);
    }
    fputs("if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
          "  set terminal pngcairo size 1000,640 font ',11' noenhanced\n"
          "} else {\n"
          "  set terminal png size 1000,640 noenhanced\n"
          "}\n",
          g);
    fputs("set output ", g);
    quoted(g, out);
    fputs("\nset title ", g);
    char title[512];
    snprintf(title, sizeof title, "gsgd bench: %s on %s, %s, %s (%s)", r->model, r->data, r->optim,
             r->device, r->machine.device_name);
    quoted(g, title);
    fprintf(g, "\nset logscale x 2\nset xrange [%g:%g]\nset xlabel 'batch size'\n", lo / 1.5,
            hi * 1.5);
    fputs("set yrange [0:*]\nset offsets 0, 0, graph 0.12, 0\n"
          "set ylabel 'samples/s (median step)'\nset ytics nomirror\n"
          "set format y '%.1s%c'\nset grid\nset key outside below\n"
          "set datafile missing '?'\n",
          g);
    if (ttt)
        fprintf(g, "set y2label 'seconds to test accuracy %g'\nset y2tics\nset y2range [0:*]\n",
                r->target_acc);
    char label[64];
    if (r->planner_batch) {
        snprintf(label, sizeof label, "'B* = %zu'", r->planner_batch);
        marker(g, (double)r->planner_batch, label, 0.96, "#333333",
               (double)r->planner_batch >= (double)r->pts[r->n_points - 1].batch);
    }
    if (isfinite(bs) && bs > 0) {
        snprintf(label, sizeof label, "'B_simple = %.0f'", bs);
        marker(g, bs, label, 0.90, "#b00000", bs >= (double)r->pts[r->n_points - 1].batch);
    }
    for (int i = 0; ttt && i < r->n_points; i++)
        if (r->pts[i].ttt_reached == 0)
            fprintf(g,
                    "set label 'not reached' at %zu, graph 0.04 center textcolor rgb '#d07000'\n",
                    r->pts[i].batch);
    fputs("$data << EOD\n", g);
    for (int i = 0; i < r->n_points; i++) {
        const bench_point *p = &r->pts[i];
        fprintf(g, "%zu %.6g ", p->batch, p->samples_per_s);
        if (p->ttt_reached == 1)
            fprintf(g, "%.6g\n", p->ttt_s);
        else
            fputs("?\n", g);
    }
    fputs("EOD\n", g);
    fputs("plot $data using 1:2 with linespoints lw 2 pt 7 lc rgb '#1f5fa8' title 'samples/s'", g);
    if (ttt)
        fprintf(g,
                ", $data using 1:3 axes x1y2 with linespoints lw 2 pt 5 lc rgb '#d07000' "
                "title 'seconds to test accuracy %g'",
                r->target_acc);
    fputs("\nset output\n", g);
}

int bench_plot(const char *path, const bench_report *r) {
    if (r->n_points == 0) {
        cli_error("--plot: no batch sizes to plot");
        return -1;
    }
    cli_outfile out;
    if (cli_outfile_open(&out, "--plot", path) != CLI_OK) return -1;
    /* gnuplot writes the temporary file; the commit makes it appear. */
    FILE *g = popen("gnuplot", "w");
    if (!g) {
        cli_error("--plot: cannot run gnuplot: %s", strerror(errno));
        cli_outfile_abort(&out);
        return -1;
    }
    script(g, out.tmp, r);
    int status = pclose(g);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        cli_error("--plot: gnuplot failed (exit status %d) drawing '%s'",
                  status == -1 || !WIFEXITED(status) ? -1 : WEXITSTATUS(status), path);
        cli_outfile_abort(&out);
        return -1;
    }
    return cli_outfile_commit(&out) == CLI_OK ? 0 : -1;
}
