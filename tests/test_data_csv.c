/* CSV reader: exact parsing, delimiter and header detection, quoted fields,
 * the target column by name or index, and errors that name the file, line
 * and column and say what to do. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"
#include "testutil.h"

static gsgd_context *ctx;

static void setup(void) { cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), 0); }
static void teardown(void) { gsgd_context_free(ctx); }

TestSuite(csv, .init = setup, .fini = teardown);

/* Options as a user gives them: label column, header (-1 detect),
 * delimiter (0 detect). */
typedef struct {
    const char *label, *ignore;
    int header, delimiter, real, decimal;
    size_t n_features;
    const gsgdi_names *names; /* the reference's feature names */
} opts;

/* Parses text as the file `name` and finishes its targets (a new label
 * map, or real values). */
static gsgd_status parse_as(const char *name, const char *text, opts o, gsgdi_host_data *h) {
    memset(h, 0, sizeof *h);
    const gsgdi_read_opts ro = {.header = o.header,
                                .delimiter = o.delimiter,
                                .label = o.label,
                                .ignore = o.ignore,
                                .zero_based = -1,
                                .n_features = o.n_features,
                                .decimal = o.decimal,
                                .ref_names = o.names,
                                .ref_what = "the model"};
    gsgdi_raw_targets t;
    gsgd_status st = gsgdi_csv_parse(ctx, name, text, strlen(text), &ro, h, &t);
    if (st != GSGD_STATUS_OK) return st;
    const gsgdi_target_rules rules = {.real = o.real};
    st = gsgdi_targets_finish(ctx, t.n ? &t : NULL, &rules, h);
    gsgdi_raw_targets_free(&t);
    if (st != GSGD_STATUS_OK) gsgdi_host_data_free(h);
    return st;
}

static gsgd_status parse(const char *text, opts o, gsgdi_host_data *h) {
    return parse_as("t.csv", text, o, h);
}

#define DETECT ((opts){.header = -1})

static void expect_error(const char *detail) {
    const char *msg = gsgd_last_error(ctx);
    cr_assert(strstr(msg, "t.csv"), "message does not name the file: %s", msg);
    cr_assert(strstr(msg, detail), "message lacks '%s': %s", detail, msg);
    cr_assert(!strstr(msg, ".c:"), "message shows a source location: %s", msg);
}

static void expect_row(const gsgdi_host_data *h, size_t i, const float *x, float y) {
    for (size_t j = 0; j < h->d; j++)
        cr_assert_eq(h->X[i * h->d + j], x[j], "row %zu, feature %zu: %g", i, j,
                     (double)h->X[i * h->d + j]);
    cr_assert_eq(h->y[i], y, "row %zu: target %g", i, (double)h->y[i]);
}

Test(csv, parses_label_first_rows_exactly) {
    gsgdi_host_data h;
    cr_assert_eq(parse("1,0.5,-2\n0,3e2,0.125\n2,-0,7\n", DETECT, &h), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(h.n, 3);
    cr_assert_eq(h.d, 2);
    cr_assert_eq(h.n_classes, 3);
    expect_row(&h, 0, (float[]){0.5f, -2}, 1);
    expect_row(&h, 1, (float[]){300, 0.125f}, 0);
    expect_row(&h, 2, (float[]){0, 7}, 2);
    cr_assert_str_eq(h.meta.detail, "comma-separated, no header");
    gsgdi_host_data_free(&h);
}

Test(csv, takes_the_label_from_the_last_column_by_index) {
    gsgdi_host_data h;
    cr_assert_eq(parse("0.5,-2,1\n3,4,0\n", (opts){.label = "-1", .header = -1}, &h),
                 GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(h.d, 2);
    expect_row(&h, 0, (float[]){0.5f, -2}, 1);
    expect_row(&h, 1, (float[]){3, 4}, 0);
    gsgdi_host_data_free(&h);
}

Test(csv, detects_a_header_and_picks_the_column_named_label_target_class_or_y) {
    gsgdi_host_data h;
    cr_assert_eq(parse("a,b,Class\n1.5,2,7\n3,4,9\n", DETECT, &h), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(h.n, 2);
    cr_assert_eq(h.d, 2);
    expect_row(&h, 0, (float[]){1.5f, 2}, 0); /* labels 7, 9: classes 0, 1 */
    expect_row(&h, 1, (float[]){3, 4}, 1);
    cr_assert_str_eq(h.meta.detail, "comma-separated, header");
    cr_assert_str_eq(h.meta.labels->text[1], "9");
    gsgdi_host_data_free(&h);
}

Test(csv, picks_the_label_column_by_header_name) {
    gsgdi_host_data h;
    const char *text = "alcohol,cultivar,hue\n14.2,b,1.04\n13.2,a,1.05\n12.1,c,0.9\n";
    cr_assert_eq(parse(text, (opts){.label = "cultivar", .header = -1}, &h), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(h.d, 2);
    cr_assert_eq(h.n_classes, 3);
    expect_row(&h, 0, (float[]){14.2f, 1.04f}, 1);
    expect_row(&h, 1, (float[]){13.2f, 1.05f}, 0);
    expect_row(&h, 2, (float[]){12.1f, 0.9f}, 2);
    gsgdi_host_data_free(&h);
}

Test(csv, a_text_label_column_alone_does_not_make_a_header) {
    gsgdi_host_data h;
    cr_assert_eq(parse("setosa,1,2\nvirginica,3,4\n", DETECT, &h), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(h.n, 2);
    cr_assert_str_eq(h.meta.labels->text[0], "setosa");
    gsgdi_host_data_free(&h);
}

Test(csv, detects_tab_semicolon_and_blank_delimiters) {
    const struct {
        const char *text, *detail;
    } cases[] = {{"1\t2.5\t3\n0\t4\t5\n", "tab-separated, no header"},
                 {"1;2.5;3\n0;4;5\n", "semicolon-separated, no header"},
                 {"1  2.5 3\n0 4\t 5\n", "blank-separated, no header"},
                 {"y;x1;x2\n1;2.5;3\n0;4;5\n", "semicolon-separated, header"}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        gsgdi_host_data h;
        cr_assert_eq(parse(cases[k].text, DETECT, &h), GSGD_STATUS_OK, "%s: %s", cases[k].text,
                     gsgd_last_error(ctx));
        cr_assert_str_eq(h.meta.detail, cases[k].detail);
        cr_assert_eq(h.n, 2);
        expect_row(&h, 0, (float[]){2.5f, 3}, 1);
        expect_row(&h, 1, (float[]){4, 5}, 0);
        gsgdi_host_data_free(&h);
    }
}

Test(csv, a_given_delimiter_wins_over_detection) {
    gsgdi_host_data h;
    /* Commas are decimal commas here: read as ';'-separated they make one
     * non-number field, which the error names. */
    cr_assert_eq(parse("1|2|3\n0|4|5\n", (opts){.header = -1, .delimiter = '|'}, &h),
                 GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    expect_row(&h, 1, (float[]){4, 5}, 0);
    gsgdi_host_data_free(&h);
}

Test(csv, reads_quoted_fields_with_delimiters_quotes_and_newlines) {
    gsgdi_host_data h;
    const char *text = "name,x\n\"a, \"\"b\"\"\",1\n\"two\nlines\",\"2.5\"\nplain,3\n";
    cr_assert_eq(parse(text, (opts){.label = "name", .header = -1}, &h), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(h.n, 3);
    cr_assert_eq(h.n_classes, 3);
    /* Sorted by bytes: "a, \"b\"" < "plain" < "two\nlines". */
    cr_assert_str_eq(h.meta.labels->text[0], "a, \"b\"");
    cr_assert_str_eq(h.meta.labels->text[2], "two\nlines");
    expect_row(&h, 0, (float[]){1}, 0);
    expect_row(&h, 1, (float[]){2.5f}, 2);
    expect_row(&h, 2, (float[]){3}, 1);
    gsgdi_host_data_free(&h);
}

Test(csv, counts_lines_inside_quoted_fields) {
    gsgdi_host_data h;
    cr_assert_eq(parse("\"a\nb\",1\nc,2\nd,x\n", DETECT, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("line 4, column 2: 'x' is not a number");
}

Test(csv, rejects_an_unclosed_quote_naming_its_line) {
    gsgdi_host_data h;
    cr_assert_eq(parse("a,1\n\"b,2\nc,3\n", DETECT, &h), GSGD_STATUS_BAD_FORMAT);
    expect_error("line 2: a quoted field is never closed");
}

Test(csv, takes_rows_without_a_target_column) {
    gsgdi_host_data h;
    cr_assert_eq(parse("1,2\n3,4\n", (opts){.label = "none", .header = -1}, &h), GSGD_STATUS_OK,
                 "%s", gsgd_last_error(ctx));
    cr_assert_eq(h.d, 2);
    cr_assert(h.meta.no_targets);
    expect_row(&h, 1, (float[]){3, 4}, 0);
    gsgdi_host_data_free(&h);
}

Test(csv, rows_of_a_models_feature_count_have_no_target_and_one_more_have_one) {
    gsgdi_host_data h;
    cr_assert_eq(parse("1,2\n3,4\n", (opts){.header = -1, .n_features = 2}, &h), GSGD_STATUS_OK,
                 "%s", gsgd_last_error(ctx));
    cr_assert(h.meta.no_targets);
    gsgdi_host_data_free(&h);
    cr_assert_eq(parse("1,1,2\n0,3,4\n", (opts){.header = -1, .n_features = 2}, &h), GSGD_STATUS_OK,
                 "%s", gsgd_last_error(ctx));
    cr_assert(!h.meta.no_targets);
    expect_row(&h, 1, (float[]){3, 4}, 0);
    gsgdi_host_data_free(&h);
    cr_assert_eq(parse("1,2,3,4\n", (opts){.header = -1, .n_features = 2}, &h),
                 GSGD_STATUS_SHAPE_MISMATCH);
    expect_error("4 columns with the target, but the model takes 2 features");
}

Test(csv, accepts_crlf_blanks_around_fields_and_trailing_blank_lines) {
    gsgdi_host_data h;
    cr_assert_eq(parse("1, 2 ,3\r\n0,4,\t5\r\n\r\n\n  \n", DETECT, &h), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(h.n, 2);
    expect_row(&h, 0, (float[]){2, 3}, 1);
    expect_row(&h, 1, (float[]){4, 5}, 0);
    gsgdi_host_data_free(&h);
}

Test(csv, accepts_a_last_line_without_newline) {
    gsgdi_host_data h;
    cr_assert_eq(parse("1,2\n0,3", DETECT, &h), GSGD_STATUS_OK);
    cr_assert_eq(h.n, 2);
    expect_row(&h, 1, (float[]){3}, 0);
    gsgdi_host_data_free(&h);
}

Test(csv, ignores_a_utf8_byte_order_mark) {
    gsgdi_host_data h;
    cr_assert_eq(parse("\xEF\xBB\xBF"
                       "1,2\n0,3\n",
                       DETECT, &h),
                 GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(h.y[0], 1.0f);
    gsgdi_host_data_free(&h);
}

Test(csv, keeps_real_targets_for_regression) {
    gsgdi_host_data h;
    cr_assert_eq(parse("-1.25,1\n3.5,2\n", (opts){.header = -1, .real = 1}, &h), GSGD_STATUS_OK);
    cr_assert_eq(h.n_classes, 0);
    cr_assert_eq(h.y[0], -1.25f);
    cr_assert_eq(h.y[1], 3.5f);
    cr_assert_eq(h.meta.target_min, -1.25);
    cr_assert_eq(h.meta.target_max, 3.5);
    gsgdi_host_data_free(&h);
}

Test(csv, grows_past_many_rows_and_wide_lines) {
    /* 3000 rows of 600 features: beyond the first capacities and longer
     * than any fixed line buffer a careless parser might use. */
    const size_t rows = 3000, d = 600;
    char *text = malloc(rows * d * 8 + 1), *p = text;
    for (size_t i = 0; i < rows; i++) {
        p += sprintf(p, "%zu", i % 4);
        for (size_t j = 0; j < d; j++) p += sprintf(p, ",%zu", (i + j) % 100);
        *p++ = '\n';
    }
    *p = '\0';
    gsgdi_host_data h;
    cr_assert_eq(parse(text, DETECT, &h), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    free(text);
    cr_assert_eq(h.n, rows);
    cr_assert_eq(h.d, d);
    cr_assert_eq(h.n_classes, 4);
    cr_assert_eq(h.y[2999], 3.0f);
    cr_assert_eq(h.X[2999 * d + 599], (float)((2999 + 599) % 100));
    gsgdi_host_data_free(&h);
}

Test(csv, rejects_ragged_rows_naming_the_line_and_the_delimiter) {
    gsgdi_host_data h;
    cr_assert_eq(parse("1,2,3,4,5\n0,1,2,3,4\n1,2,3,4\n", DETECT, &h), GSGD_STATUS_BAD_FORMAT);
    expect_error("line 3: expected 5 fields, got 4 (comma-separated)");
    expect_error("check the delimiter");
    cr_assert_null(h.X);
}

Test(csv, counts_the_header_in_line_numbers) {
    gsgdi_host_data h;
    cr_assert_eq(parse("y,a\n1,2\n1,2,3\n", DETECT, &h), GSGD_STATUS_BAD_FORMAT);
    expect_error("line 3: expected 2 fields, got 3");
}

Test(csv, rejects_text_features_naming_line_column_and_the_fix) {
    gsgdi_host_data h;
    cr_assert_eq(parse("y,alcohol,hue\n1,2,3\n0,4,5\n1,abc,6\n", DETECT, &h),
                 GSGD_STATUS_BAD_VALUE);
    expect_error("line 4, column 2 ('alcohol'): 'abc' is not a number");
    expect_error("--label");
}

Test(csv, a_text_first_line_not_taken_for_a_header_suggests_one) {
    gsgdi_host_data h;
    cr_assert_eq(parse("f0,f1\n0,1\n", (opts){.header = 0}, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("line 1, column 2: 'f1' is not a number");
    expect_error("if the first line is a header, say so");
}

Test(csv, rejects_trailing_garbage_after_a_number) {
    gsgdi_host_data h;
    cr_assert_eq(parse("1,2.5x\n0,1\n", DETECT, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("line 1, column 2: '2.5x' is not a number");
}

Test(csv, names_missing_values_and_says_what_to_do) {
    const char *texts[] = {"1,2,3\n0,,3\n", "1,2,3\n0,NA,3\n", "1,2,3\n0,nan,3\n",
                           "1,2,3\n0,?,3\n"};
    for (size_t k = 0; k < 4; k++) {
        gsgdi_host_data h;
        cr_assert_eq(parse(texts[k], DETECT, &h), GSGD_STATUS_BAD_VALUE, "%s", texts[k]);
        expect_error("line 2, column 2: missing value");
        expect_error("fill or drop such rows");
    }
}

Test(csv, rejects_infinity_and_float_overflow) {
    gsgdi_host_data h;
    cr_assert_eq(parse("1,-inf\n0,1\n", DETECT, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("line 1, column 2: '-inf' is not a finite float");
    /* Finite as a double, infinite as a float. */
    cr_assert_eq(parse("1,1e39\n0,1\n", DETECT, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("line 1, column 2: '1e39' is not a finite float");
}

Test(csv, rejects_a_missing_target_naming_it) {
    gsgdi_host_data h;
    cr_assert_eq(parse("label,x\n1,2\n,3\n", DETECT, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("line 3, column 1 ('label'): missing target");
}

Test(csv, rejects_empty_file) {
    gsgdi_host_data h;
    cr_assert_eq(parse("", DETECT, &h), GSGD_STATUS_BAD_FORMAT);
    expect_error("empty file");
}

Test(csv, rejects_a_file_without_data_rows) {
    gsgdi_host_data h;
    cr_assert_eq(parse("label,x\n\n", (opts){.header = 1}, &h), GSGD_STATUS_BAD_FORMAT);
    expect_error("no data rows");
}

Test(csv, rejects_a_blank_line_between_rows) {
    gsgdi_host_data h;
    cr_assert_eq(parse("1,2\n\n0,3\n", DETECT, &h), GSGD_STATUS_BAD_FORMAT);
    expect_error("line 2: blank line inside the data");
}

Test(csv, rejects_rows_of_one_column_suggesting_the_delimiter) {
    gsgdi_host_data h;
    cr_assert_eq(parse("1\n0\n", DETECT, &h), GSGD_STATUS_BAD_FORMAT);
    expect_error("line 1: one column only");
    expect_error("give it");
}

Test(csv, rejects_a_nul_byte_naming_line_and_column) {
    /* Was "'4' is not a number": the field's text stopped at the NUL. A
     * UTF-16 file is the usual source: half its bytes are NULs. */
    const gsgdi_read_opts ro = {.header = -1, .zero_based = -1};
    gsgdi_raw_targets t;
    gsgdi_host_data h = {0};
    const char text[] = "1,2,3\r\n0,4\0,5\n";
    cr_assert_eq(gsgdi_csv_parse(ctx, "t.csv", text, sizeof text - 1, &ro, &h, &t),
                 GSGD_STATUS_BAD_FORMAT);
    expect_error("line 2, column 4: a NUL byte; the file is binary or UTF-16, not CSV text");
    cr_assert_null(h.X);
    const char utf16[] = "\xff\xfe"
                         "1\0,\0"
                         "2\0\r\0\n\0";
    cr_assert_eq(gsgdi_csv_parse(ctx, "t.csv", utf16, sizeof utf16 - 1, &ro, &h, &t),
                 GSGD_STATUS_BAD_FORMAT);
    expect_error("line 1, column 4: a NUL byte");
    /* Lines end as the reader ends them: a lone \r too. */
    const char mac[] = "1,2\r0,3\r1,\0\r";
    cr_assert_eq(gsgdi_csv_parse(ctx, "t.csv", mac, sizeof mac - 1, &ro, &h, &t),
                 GSGD_STATUS_BAD_FORMAT);
    expect_error("line 3, column 3: a NUL byte");
}

Test(csv, label_option_errors_name_the_columns_there_are) {
    gsgdi_host_data h;
    cr_assert_eq(parse("a,b\n1,2\n0,3\n", (opts){.label = "cultivar", .header = -1}, &h),
                 GSGD_STATUS_INVALID_ARGUMENT);
    expect_error("--label 'cultivar': no column of the header has that name");
    cr_assert_eq(parse("1,2\n0,3\n", (opts){.label = "cultivar", .header = -1}, &h),
                 GSGD_STATUS_INVALID_ARGUMENT);
    expect_error("no header line");
    cr_assert_eq(parse("1,2\n0,3\n", (opts){.label = "5", .header = -1}, &h),
                 GSGD_STATUS_INVALID_ARGUMENT);
    expect_error("--label 5: the rows have 2 columns");
}

/* Decimal commas (GSGD_DATA_DECIMAL ','): numbers and a regression target
 * read as with '.', the header still detected. */
Test(csv, reads_decimal_commas_when_told) {
    gsgdi_host_data h;
    const char *text = "a;b;price\n1,5;-2,25;10,75\n3;0,125;2e-1\n";
    cr_assert_eq(parse(text, (opts){.header = -1, .label = "price", .real = 1, .decimal = ','}, &h),
                 GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(h.n, 2);
    expect_row(&h, 0, (const float[]){1.5f, -2.25f}, 10.75f);
    expect_row(&h, 1, (const float[]){3.0f, 0.125f}, 0.2f);
    gsgdi_host_data_free(&h);
    /* A thousands mark and a decimal comma together is no number. */
    cr_assert_eq(parse("a;b\n1.234,5;1\n", (opts){.header = -1, .label = "b", .decimal = ','}, &h),
                 GSGD_STATUS_BAD_VALUE);
    expect_error("'1.234,5' is not a number");
}

/* Without the option, such a file still has its header found, and the
 * message names the fix. */
Test(csv, a_decimal_comma_read_without_the_option_names_the_fix) {
    gsgdi_host_data h;
    cr_assert_eq(parse("a;b;y\n1,5;2,0;1\n2,5;1,0;0\n", DETECT, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("line 2, column 1 ('a'): '1,5' is not a number");
    expect_error("give --decimal ,");
}

/* A reference with feature names (a model's): a header in another order
 * is read in the reference's; the dataset keeps the names in row order. */
Test(csv, places_columns_by_the_references_feature_names) {
    gsgdi_names *ref;
    cr_assert_eq(gsgdi_names_make(ctx, (const char *const[]){"a", "b", "c"}, 3, &ref), 0);
    cr_assert(ref->distinct);
    gsgdi_host_data h;
    const opts o = {.header = -1, .n_features = 3, .names = ref};
    cr_assert_eq(parse("c,y,a,b\n3,1,1,2\n6,0,4,5\n", o, &h), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    expect_row(&h, 0, (const float[]){1, 2, 3}, 1);
    expect_row(&h, 1, (const float[]){4, 5, 6}, 0);
    cr_assert_not_null(h.meta.feature_names);
    cr_expect_str_eq(h.meta.feature_names->at[0], "a");
    cr_expect_str_eq(h.meta.feature_names->at[2], "c");
    gsgdi_host_data_free(&h);
    /* Without a target column too. */
    cr_assert_eq(parse("b,c,a\n2,3,1\n", o, &h), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(h.X[0], 1.0f);
    cr_assert_eq(h.X[2], 3.0f);
    gsgdi_host_data_free(&h);
    /* A column the reference lacks: named, and the name the header lacks. */
    cr_assert_eq(parse("a,y,b,colour\n1,1,2,3\n", o, &h), GSGD_STATUS_SHAPE_MISMATCH);
    expect_error("line 1, column 4 ('colour'): not among the model's features, which has 'c'");
    /* A name twice. */
    cr_assert_eq(parse("a,y,b,a\n1,1,2,3\n", o, &h), GSGD_STATUS_SHAPE_MISMATCH);
    expect_error("column 4 ('a'): twice among the model's features");
    /* No header: by position, as before. */
    cr_assert_eq(
        parse("1,3,2,1\n0,1,1,1\n", (opts){.header = 0, .n_features = 3, .names = ref}, &h),
        GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_expect_eq(h.X[0], 3.0f);
    cr_expect_null(h.meta.feature_names);
    gsgdi_host_data_free(&h);
    gsgdi_names_free(ref);
}

/* A reference whose names repeat (a header may) cannot place by name:
 * its columns are read by position. */
Test(csv, a_reference_with_a_repeated_name_reads_by_position) {
    gsgdi_names *ref;
    cr_assert_eq(gsgdi_names_make(ctx, (const char *const[]){"a", "b", "a"}, 3, &ref), 0);
    cr_assert_not(ref->distinct);
    gsgdi_host_data h;
    const opts o = {.header = -1, .n_features = 3, .names = ref};
    cr_assert_eq(parse("y,b,a,a\n1,1,2,3\n0,4,5,6\n", o, &h), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    expect_row(&h, 0, (const float[]){1, 2, 3}, 1);
    gsgdi_host_data_free(&h);
    gsgdi_names_free(ref);
}

/* Lines that end with a delimiter (some exporters write them): said so,
 * not taken for missing values. */
Test(csv, lines_ending_with_a_delimiter_are_named_as_such) {
    gsgdi_host_data h;
    cr_assert_eq(parse("a\tb\ty\t\n1\t2\t0\t\n2\t1\t1\t\n", (opts){.header = -1, .label = "y"}, &h),
                 GSGD_STATUS_BAD_FORMAT);
    expect_error("line 2, column 4: empty, and the header names no column 4: the lines end with a "
                 "tab delimiter");
}

/* GSGD_DATA_IGNORE: columns left out by name or index; the default target
 * skips them; one the file lacks, or the target itself, is refused. */
Test(csv, leaves_out_the_ignored_columns) {
    gsgdi_host_data h;
    const char *text = "id,a,when,b,y\n7,1,x,2,0\n8,3,z,4,1\n";
    cr_assert_eq(parse(text, (opts){.header = -1, .ignore = "id, 2"}, &h), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(h.d, 2);
    expect_row(&h, 0, (const float[]){1, 2}, 0);
    expect_row(&h, 1, (const float[]){3, 4}, 1);
    cr_expect_str_eq(h.meta.feature_names->at[1], "b");
    gsgdi_host_data_free(&h);
    /* Without a header: by index; the default target is then the first
     * column not left out. */
    cr_assert_eq(parse("7,0,1,2\n8,1,3,4\n", (opts){.header = 0, .ignore = "0"}, &h),
                 GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    expect_row(&h, 0, (const float[]){1, 2}, 0);
    gsgdi_host_data_free(&h);
    cr_assert_eq(parse(text, (opts){.header = -1, .ignore = "id,colour"}, &h),
                 GSGD_STATUS_INVALID_ARGUMENT);
    expect_error("--ignore 'colour': no column of the header has that name");
    cr_assert_eq(parse(text, (opts){.header = -1, .ignore = "when", .label = "when"}, &h),
                 GSGD_STATUS_INVALID_ARGUMENT);
    expect_error("column 3 ('when') is both the target and left out by --ignore");
}
